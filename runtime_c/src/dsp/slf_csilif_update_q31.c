/* slf_csilif_update_q31, Cortex-M DSP version: one C-SiLIF step for a layer. Contract:
 * include/slf_neurons.h; portable reference: portable/slf_csilif_update_q31.c. */
#include "../internal/slf_checks.h"
#include "../internal/slf_ring.h"
#include "slf_dsp.h"

/* The DSP loop of slf_csilif_update_q31 in hand-allocated registers, ordered for the Cortex-M4
 * timing as the SiLIF loop (slf_silif_update_q31.c): the eight words a neuron reads are single
 * loads in two unbroken runs, six (s, zr, zi, k_re, k_im, acc), then, once zi' and half of zr'
 * leave three values live, two (mult, bias); zr' and zi' are two single stores. Registers as in
 * slf_silif_update_q31.c, r6 pointing at the record. Four neurons per iteration, one branch,
 * neuron 0 post-incrementing each array by the whole iteration. Per neuron 24 instructions
 * (8 loads, 4 stores, 11 data-processing, the index ADD) and a quarter BCC: 26.5 estimated
 * cycles (10 for the loads, 4, 11, 1, 0.5 for the taken branch). Returns the end of the spike
 * list. n >= 1. */
SLF_STATIC_ASSERT(csilif_record_order,
                  offsetof(slf_csilif_neuron, mult) == 0 && offsetof(slf_csilif_neuron, bias) == 4 &&
                      offsetof(slf_csilif_neuron, k_re) == 8 && offsetof(slf_csilif_neuron, k_im) == 12 &&
                      sizeof(slf_csilif_neuron) == 16);

/* One neuron of the DSP loop (registers as described above); the arguments are the addressing
 * of each access, "[base], #step" (post-increment) or "[base, #offset]"; s_out and zr_out
 * address the same flag and cell as s and zr, without the increment. */
#define SLF_CSILIF_NEURON_ASM(s, zr, zi, k_re, k_im, acc, mult, bias, s_out, zr_out) \
    "ldrb   r0, " s "\n\t"                   /* s */                           \
    "ldr    r1, " zr "\n\t"                  /* zr */                          \
    "ldr    r2, " zi "\n\t"                  /* zi */                          \
    "ldr    r3, " k_re "\n\t"                                                  \
    "ldr    r4, " k_im "\n\t"                                                  \
    "ldr    r5, " acc "\n\t"                 /* acc */                         \
    "mls    r1, r0, lr, r1\n\t"              /* reset = zr - s*threshold */    \
    "smmulr r0, r1, r3\n\t"                  /* h = r32(reset, k_re) */        \
    "smmlsr r0, r2, r4, r0\n\t"              /*   + r32(zi, -k_im) */          \
    "smmulr r4, r1, r4\n\t"                  /* g = r32(reset, k_im) */        \
    "smmlar r4, r2, r3, r4\n\t"              /*   + r32(zi, k_re) */           \
    "qadd   r4, r4, r4\n\t"                  /* zi' = sat32(2g) */             \
    "ldr    r1, " mult "\n\t"                                                  \
    "ldr    r2, " bias "\n\t"                                                  \
    "mla    r5, r5, r1, r2\n\t"              /* I = acc*mult + bias */         \
    "qdadd  r5, r5, r0\n\t"                  /* zr' = sat32(I + sat32(2h)) */  \
    "str    r5, " zr_out "\n\t"                                                \
    "str    r4, " zi "\n\t"                                                    \
    /* spike = zr' > threshold; branch-free list emission */                   \
    "qsub   r0, lr, r5\n\t"                                                    \
    "lsr    r0, r0, #31\n\t"                                                   \
    "strb   r0, " s_out "\n\t"                                                 \
    "strh   r12, [r11]\n\t"                                                    \
    "add    r11, r11, r0, lsl #1\n\t"

static uint16_t *slf_csilif_loop_dsp(const slf_csilif_neuron *p, slf_csilif_cell *cell, uint8_t *spiked,
                                     const int32_t *acc, uint16_t *out, uint32_t n, int32_t threshold)
{
    register const slf_csilif_neuron *rp __asm__("r6") = p;
    register slf_csilif_cell *rcell __asm__("r8") = cell;
    register uint8_t *rspk __asm__("r9") = spiked;
    register const int32_t *racc __asm__("r10") = acc;
    register uint16_t *rout __asm__("r11") = out;
    register uint32_t ric __asm__("r12") = (0x10000u - n) << 16;
    __asm__ volatile(
        "ldr    lr, %[thr]\n\t"
        /* four neurons per iteration, one branch; n = 4k - j (bits 16-17 of r12 hold j) enters
         * at neuron j, with the pointers where neurons 0..j-1 would have left them */
        "ubfx   r0, r12, #16, #2\n\t"
        "cbz    r0, 1f\n\t"
        "cmp    r0, #2\n\t"
        "beq    5f\n\t"
        "bhi    6f\n\t"
        "add    r6, r6, #48\n\t"
        "add    r8, r8, #24\n\t"
        "add    r9, r9, #3\n\t"
        "add    r10, r10, #12\n\t"
        "b      2f\n\t"
        "5:\n\t"
        "add    r6, r6, #32\n\t"
        "add    r8, r8, #16\n\t"
        "add    r9, r9, #2\n\t"
        "add    r10, r10, #8\n\t"
        "b      3f\n\t"
        "6:\n\t"
        "add    r6, r6, #16\n\t"
        "add    r8, r8, #8\n\t"
        "add    r9, r9, #1\n\t"
        "add    r10, r10, #4\n\t"
        "b      4f\n\t"
        ".p2align 2\n\t" /* the loop branch lands on a 32-bit instruction: aligned, no extra refill */
        "1:\n\t"
        /* after neuron 0's post-increments: r6 = its record + 64, r8 = its cell + 32,
         * r9 = its flag + 4, r10 = its acc + 16 */
        SLF_CSILIF_NEURON_ASM("[r9], #4", "[r8], #32", "[r8, #-28]", "[r6, #8]", "[r6, #12]", "[r10], #16",
                              "[r6], #64", "[r6, #-60]", "[r9, #-4]", "[r8, #-32]")
        "add    r12, r12, #0x10001\n\t"
        "2:\n\t"
        SLF_CSILIF_NEURON_ASM("[r9, #-3]", "[r8, #-24]", "[r8, #-20]", "[r6, #-40]", "[r6, #-36]", "[r10, #-12]",
                              "[r6, #-48]", "[r6, #-44]", "[r9, #-3]", "[r8, #-24]")
        "add    r12, r12, #0x10001\n\t"
        "3:\n\t"
        SLF_CSILIF_NEURON_ASM("[r9, #-2]", "[r8, #-16]", "[r8, #-12]", "[r6, #-24]", "[r6, #-20]", "[r10, #-8]",
                              "[r6, #-32]", "[r6, #-28]", "[r9, #-2]", "[r8, #-16]")
        "add    r12, r12, #0x10001\n\t"
        "4:\n\t"
        SLF_CSILIF_NEURON_ASM("[r9, #-1]", "[r8, #-8]", "[r8, #-4]", "[r6, #-8]", "[r6, #-4]", "[r10, #-4]",
                              "[r6, #-16]", "[r6, #-12]", "[r9, #-1]", "[r8, #-8]")
        "adds   r12, r12, #0x10001\n\t"
        "bcc    1b\n\t"
        : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)
        : [thr] "m"(threshold)
        : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");
    return rout;
}

slf_status slf_csilif_update_q31(const slf_csilif_layer *layer, slf_csilif_state *state,
                                 slf_delay_ring_s32 *input, slf_spike_list *spikes)
{
    const slf_csilif_neuron *restrict p;
    slf_csilif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out;
    int32_t threshold;
    uint32_t n;
    slf_status status;

    if (layer == NULL || state == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    status = slf_check_spiking_update(layer->neuron, state->cell, state->spiked, n, input, spikes);
    if (status != SLF_OK) {
        return status;
    }

    p = layer->neuron;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    out = spikes->index;
    threshold = layer->threshold;
    if (n != 0u) {
        out = slf_csilif_loop_dsp(p, cell, spiked, acc, out, n, threshold);
        slf_zero_s32_dsp(acc, n);
    }
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

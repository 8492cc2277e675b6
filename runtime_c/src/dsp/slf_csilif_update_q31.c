/* slf_csilif_update_q31, Cortex-M DSP version: one C-SiLIF step for a layer. Contract:
 * include/slf_neurons.h; portable reference: portable/slf_csilif_update_q31.c. */
#include "../internal/slf_checks.h"
#include "../internal/slf_ring.h"
#include "slf_dsp.h"

/* The DSP loop of slf_csilif_update_q31 in hand-allocated registers; registers as in
 * slf_silif_update_q31.c, two neurons per iteration: 19.5 instructions per neuron. Returns the
 * end of the spike list. n >= 1. */
SLF_STATIC_ASSERT(csilif_record_order,
                  offsetof(slf_csilif_neuron, mult) == 0 && offsetof(slf_csilif_neuron, bias) == 4 &&
                      offsetof(slf_csilif_neuron, k_re) == 8 && offsetof(slf_csilif_neuron, k_im) == 12 &&
                      sizeof(slf_csilif_neuron) == 16);

/* One neuron of the DSP loop (registers as described above). */
#define SLF_CSILIF_NEURON_ASM \
    "ldr    r0, [r10], #4\n\t"               /* acc */                         \
    "ldmia  r6!, {r1, r2, r3, r4}\n\t"       /* mult, bias, k_re, k_im */      \
    "mla    r0, r0, r1, r2\n\t"              /* I = acc*mult + bias */         \
    "ldrd   r1, r2, [r8]\n\t"                /* zr, zi */                      \
    "ldrb   r5, [r9]\n\t"                    /* s */                           \
    "mls    r1, r5, lr, r1\n\t"              /* reset = zr - s*threshold */    \
    "smmulr r5, r1, r3\n\t"                  /* h = r32(reset, k_re) */        \
    "smmlsr r5, r2, r4, r5\n\t"              /*   + r32(zi, -k_im) */          \
    "qdadd  r5, r0, r5\n\t"                  /* zr' = sat32(I + sat32(2h)) */  \
    "smmulr r0, r1, r4\n\t"                  /* h = r32(reset, k_im) */        \
    "smmlar r0, r2, r3, r0\n\t"              /*   + r32(zi, k_re) */           \
    "qadd   r2, r0, r0\n\t"                  /* zi' = sat32(2h) */             \
    "strd   r5, r2, [r8], #8\n\t"                                              \
    /* spike = zr' > threshold; branch-free list emission */                   \
    "qsub   r0, lr, r5\n\t"                                                    \
    "lsr    r0, r0, #31\n\t"                                                   \
    "strb   r0, [r9], #1\n\t"                                                  \
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
        /* two neurons per iteration, one branch; an odd n enters at the second */
        "tst    r12, #0x10000\n\t"
        "bne    2f\n\t"
        "1:\n\t"
        SLF_CSILIF_NEURON_ASM
        "add    r12, r12, #0x10001\n\t"
        "2:\n\t"
        SLF_CSILIF_NEURON_ASM
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

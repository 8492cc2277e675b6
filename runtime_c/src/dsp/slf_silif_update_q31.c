/* slf_silif_update_q31, Cortex-M DSP version: one SiLIF step for a layer. Contract:
 * include/slf_neurons.h; portable reference: portable/slf_silif_update_q31.c. */
#include "../internal/slf_checks.h"
#include "../internal/slf_ring.h"
#include "slf_dsp.h"

/* The DSP loop of slf_silif_update_q31 in hand-allocated registers (GCC spills otherwise):
 * the same operations as the portable reference, in the same order (exactness of the products:
 * internal/slf_arith.h at slf_r32_add, dsp/slf_arith_dsp.h). r0-r5 scratch, r6 records, r8 cells, r9 spike flags,
 * r10 accumulators (read only: the caller zeroes the slot afterwards), r11 spike list,
 * r12 = index i in the low half and the iterations left in the high half (carry out ends
 * the loop), lr = threshold. Two neurons per iteration: 45 instructions, 22.5 per neuron.
 * Returns the end of the spike list. n >= 1. */
SLF_STATIC_ASSERT(silif_record_order,
                  offsetof(slf_silif_neuron, mult) == 0 && offsetof(slf_silif_neuron, bias) == 4 &&
                      offsetof(slf_silif_neuron, k_beta) == 8 && offsetof(slf_silif_neuron, k_a) == 12 &&
                      offsetof(slf_silif_neuron, jump) == 16 && offsetof(slf_silif_neuron, k_alpha) == 20 &&
                      sizeof(slf_silif_neuron) == 24);

/* One neuron of the DSP loop (registers as described above). */
#define SLF_SILIF_NEURON_ASM \
    "ldr    r0, [r10], #4\n\t"               /* acc */                             \
    "ldmia  r6!, {r1, r2, r3, r4}\n\t"       /* mult, bias, k_beta, k_a */         \
    "mla    r0, r0, r1, r2\n\t"              /* I = acc*mult + bias */             \
    "ldrd   r1, r2, [r8]\n\t"                /* u, w */                            \
    "smmulr r2, r2, r3\n\t"                  /* h = r32(w, k_beta) */              \
    "smmlar r2, r1, r4, r2\n\t"              /*   + r32(u, k_a) */                 \
    "ldrb   r3, [r9]\n\t"                    /* s */                               \
    "ldmia  r6!, {r4, r5}\n\t"               /* jump, k_alpha */                   \
    "mul    r4, r3, r4\n\t"                  /* s*jump */                          \
    "qdadd  r2, r4, r2\n\t"                  /* w' = sat32(s*jump + sat32(2h)) */  \
    "mls    r1, r3, lr, r1\n\t"              /* reset = u - s*threshold */         \
    "smmulr r3, r1, r5\n\t"                  /* h = r32(reset, k_alpha) */         \
    "sub    r5, r5, #0x80000000\n\t"         /* k_alpha - 2^31 = -(1 - alpha) */   \
    "smmlar r3, r2, r5, r3\n\t"              /*   + r32(w', k_alpha - 2^31) */     \
    "qdadd  r1, r0, r3\n\t"                  /* u' = sat32(I + sat32(2h)) */       \
    "strd   r1, r2, [r8], #8\n\t"                                                  \
    /* spike = u' > threshold; branch-free list emission */                        \
    "qsub   r0, lr, r1\n\t"                                                        \
    "lsr    r0, r0, #31\n\t"                                                       \
    "strb   r0, [r9], #1\n\t"                                                      \
    "strh   r12, [r11]\n\t"                                                        \
    "add    r11, r11, r0, lsl #1\n\t"

static uint16_t *slf_silif_loop_dsp(const slf_silif_neuron *p, slf_silif_cell *cell, uint8_t *spiked,
                                    const int32_t *acc, uint16_t *out, uint32_t n, int32_t threshold)
{
    register const slf_silif_neuron *rp __asm__("r6") = p;
    register slf_silif_cell *rcell __asm__("r8") = cell;
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
        SLF_SILIF_NEURON_ASM
        "add    r12, r12, #0x10001\n\t"
        "2:\n\t"
        SLF_SILIF_NEURON_ASM
        "adds   r12, r12, #0x10001\n\t"
        "bcc    1b\n\t"
        : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)
        : [thr] "m"(threshold)
        : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");
    return rout;
}

slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes)
{
    const slf_silif_neuron *restrict p;
    slf_silif_cell *restrict cell;
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
        out = slf_silif_loop_dsp(p, cell, spiked, acc, out, n, threshold);
        slf_zero_s32_dsp(acc, n);
    }
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

/* slf_silif_update_q31: one SiLIF step for a layer. Contract: include/slf_neurons.h. */
#include "slf_internal.h"

#if SLF_NEURON_ASM
/* The DSP loop of slf_silif_update_q31 in hand-allocated registers (GCC spills ~10 values
 * per neuron otherwise): the same operations as the portable loop below, in the same
 * order, with slf_input_current and slf_mac2_q31_sat written out (their proofs apply).
 * r0-r5 scratch, r6 records, r8 cells, r9 spike flags, r10 accumulators (read only: the
 * caller zeroes the slot afterwards), r11 spike list, r12 = index i in the low half and
 * the iterations left in the high half (carry out ends the loop), lr = threshold.
 * Returns the end of the spike list. n >= 1. */
SLF_STATIC_ASSERT(silif_record_order,
                  offsetof(slf_silif_neuron, shift) == 12 && offsetof(slf_silif_neuron, k_beta) == 16 &&
                      offsetof(slf_silif_neuron, jump) == 24 && offsetof(slf_silif_neuron, k_alpha) == 28 &&
                      offsetof(slf_silif_neuron, bias) == 36 && sizeof(slf_silif_neuron) == 40);

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
        "1:\n\t"
        /* I = input current (r1); q = offset + acc*mult in r1:r2 */
        "ldr    r0, [r10], #4\n\t"
        "ldmia  r6!, {r1, r2, r3, r4}\n\t"       /* offset lo, hi, mult, shift */
        "smlal  r1, r2, r0, r3\n\t"
        "rsb    r0, r4, #31\n\t"
        "lsl    r3, r2, r0\n\t"
        "lsr    r1, r1, r4\n\t"
        "orr    r1, r1, r3, lsl #1\n\t"
        "asr    r3, r1, r0\n\t"
        "cmp    r2, r3, asr #1\n\t"
        "bne    5f\n\t"
        "2:\n\t"
        /* w' = sat32(mac((w, k_beta), (u, k_a)) + s*jump) in r3; r0 = -s, r2 = u */
        "ldrb   r0, [r9], #1\n\t"
        "rsb    r0, r0, #0\n\t"
        "ldrd   r2, r3, [r8]\n\t"
        "ldmia  r6!, {r4, r5}\n\t"               /* k_beta, k_a */
        "smull  r4, r3, r3, r4\n\t"
        "smlal  r4, r3, r2, r5\n\t"
        "adds   r4, r4, #0x40000000\n\t"
        "adc    r5, r3, r4, lsr #31\n\t"
        "adc    r3, r3, #0\n\t"
        "ldr    r4, [r6], #4\n\t"                /* jump */
        "and    r4, r4, r0\n\t"
        "qadd   r4, r5, r4\n\t"
        "qadd   r3, r3, r4\n\t"
        /* reset = sat32(u - s*threshold) in r2 */
        "and    r0, r0, lr\n\t"
        "qsub   r2, r2, r0\n\t"
        /* u' = sat32(mac((reset, k_alpha), (w', neg_k_gain)) + I) in r2 */
        "ldmia  r6!, {r0, r4, r5}\n\t"           /* k_alpha, neg_k_gain, bias (unused) */
        "smull  r0, r5, r2, r0\n\t"
        "smlal  r0, r5, r3, r4\n\t"
        "adds   r0, r0, #0x40000000\n\t"
        "adc    r4, r5, r0, lsr #31\n\t"
        "adc    r5, r5, #0\n\t"
        "qadd   r4, r4, r1\n\t"
        "qadd   r2, r5, r4\n\t"
        "strd   r2, r3, [r8], #8\n\t"
        /* spike = u' > threshold; branch-free list emission */
        "qsub   r0, lr, r2\n\t"
        "lsr    r0, r0, #31\n\t"
        "strb   r0, [r9, #-1]\n\t"
        "strh   r12, [r11]\n\t"
        "add    r11, r11, r0, lsl #1\n\t"
        "adds   r12, r12, #0x10001\n\t"
        "bcc    1b\n\t"
        "b      9f\n\t"
        /* out of line: saturated current or shift >= 32 (slf_input_current_slow); r2 = hi */
        "5:\n\t"
        "and    r4, r4, #63\n\t"
        "cmp    r4, #31\n\t"
        "bhi    6f\n\t"
        "mvn    r1, #0x80000000\n\t"
        "eor    r1, r1, r2, asr #31\n\t"
        "b      2b\n\t"
        "6:\n\t"
        "eor    r2, r2, #0x80000000\n\t"
        "sub    r4, r4, #32\n\t"
        "asr    r2, r2, r4\n\t"
        "ldr    r4, [r6, #20]\n\t"               /* bias */
        "qadd   r1, r2, r4\n\t"
        "b      2b\n\t"
        "9:\n\t"
        : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)
        : [thr] "m"(threshold)
        : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");
    return rout;
}
#endif

slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes)
{
    const slf_silif_neuron *restrict p;
    const slf_silif_neuron *end;
    slf_silif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out;
    int32_t threshold;
    uint32_t n, i;
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
    end = p + n;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    out = spikes->index;
    threshold = layer->threshold;
#if SLF_NEURON_ASM
    if (n != 0u) {
        out = slf_silif_loop_dsp(p, cell, spiked, acc, out, n, threshold);
        slf_zero_s32(acc, n);
    }
    (void)end;
    (void)i;
#else
    for (i = 0; p != end; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_input_current(*acc, p->mult, p->shift, p->offset, p->bias);
        uint32_t s = *spiked;
        int32_t u = cell->u;
        int32_t w = cell->w;
        /* Order of the authors' code: w sees the un-reset u; u is reset before the leak
         * and then uses the new w. Reordering changes spikes. */
        int32_t reset = slf_sub_sat(u, slf_select(s, threshold));
        int32_t w_new = slf_mac2_q31_sat(w, p->k_beta, u, p->k_a, slf_select(s, p->jump));
        int32_t u_new = slf_mac2_q31_sat(reset, p->k_alpha, w_new, p->neg_k_gain, current);
        uint32_t fire = slf_greater(u_new, threshold);
        *acc = 0;
        cell->u = u_new;
        cell->w = w_new;
        *spiked = (uint8_t)fire;
        *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
        out += fire;
    }
#endif
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

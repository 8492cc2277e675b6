/* slf_csilif_update_q31: one C-SiLIF step for a layer. Contract: include/slf_neurons.h. */
#include "slf_internal.h"

#if SLF_NEURON_ASM
/* The DSP loop of slf_csilif_update_q31 in hand-allocated registers; registers and the
 * input-current code as in slf_silif_update_q31.c. Returns the end of the spike list. n >= 1. */
SLF_STATIC_ASSERT(csilif_record_order,
                  offsetof(slf_csilif_neuron, shift) == 12 && offsetof(slf_csilif_neuron, bias) == 16 &&
                      offsetof(slf_csilif_neuron, k_re) == 20 && offsetof(slf_csilif_neuron, k_im) == 24 &&
                      offsetof(slf_csilif_neuron, neg_k_im) == 28 && sizeof(slf_csilif_neuron) == 32);

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
        "1:\n\t"
        /* I = input current (r1) */
        "ldr    r0, [r10], #4\n\t"
        "ldmia  r6!, {r1, r2, r3, r4, r5}\n\t"   /* offset lo, hi, mult, shift, bias */
        "smlal  r1, r2, r0, r3\n\t"
        "rsb    r0, r4, #31\n\t"
        "lsl    r3, r2, r0\n\t"
        "lsr    r1, r1, r4\n\t"
        "orr    r1, r1, r3, lsl #1\n\t"
        "asr    r3, r1, r0\n\t"
        "cmp    r2, r3, asr #1\n\t"
        "bne    5f\n\t"
        "2:\n\t"
        /* reset = sat32(zr - s*threshold) in r2, zi in r3 */
        "ldrb   r0, [r9], #1\n\t"
        "rsb    r0, r0, #0\n\t"
        "and    r0, r0, lr\n\t"
        "ldrd   r2, r3, [r8]\n\t"
        "qsub   r2, r2, r0\n\t"
        /* zi' = sat32(mac((reset, k_im), (zi, k_re))) in r5 */
        "ldmia  r6!, {r0, r4}\n\t"               /* k_re, k_im */
        "smull  r4, r5, r2, r4\n\t"
        "smlal  r4, r5, r3, r0\n\t"
        "adds   r4, r4, #0x40000000\n\t"
        "adc    r4, r5, r4, lsr #31\n\t"
        "adc    r5, r5, #0\n\t"
        "qadd   r5, r5, r4\n\t"
        /* zr' = sat32(mac((reset, k_re), (zi, neg_k_im)) + I) in r2 */
        "ldr    r4, [r6], #4\n\t"                /* neg_k_im */
        "smull  r4, r3, r3, r4\n\t"
        "smlal  r4, r3, r2, r0\n\t"
        "adds   r4, r4, #0x40000000\n\t"
        "adc    r0, r3, r4, lsr #31\n\t"
        "adc    r3, r3, #0\n\t"
        "qadd   r0, r0, r1\n\t"
        "qadd   r2, r3, r0\n\t"
        "strd   r2, r5, [r8], #8\n\t"
        /* spike = zr' > threshold; branch-free list emission */
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
        "qadd   r1, r2, r5\n\t"
        "b      2b\n\t"
        "9:\n\t"
        : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)
        : [thr] "m"(threshold)
        : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");
    return rout;
}
#endif

slf_status slf_csilif_update_q31(const slf_csilif_layer *layer, slf_csilif_state *state,
                                 slf_delay_ring_s32 *input, slf_spike_list *spikes)
{
    const slf_csilif_neuron *restrict p;
    const slf_csilif_neuron *end;
    slf_csilif_cell *restrict cell;
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
        out = slf_csilif_loop_dsp(p, cell, spiked, acc, out, n, threshold);
        slf_zero_s32(acc, n);
    }
    (void)end;
    (void)i;
#else
    for (i = 0; p != end; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_input_current(*acc, p->mult, p->shift, p->offset, p->bias);
        int32_t zi = cell->zi;
        /* Reset by Θ on the real part before the rotation, so it leaks into Im z too. */
        int32_t reset = slf_sub_sat(cell->zr, slf_select(*spiked, threshold));
        int32_t zr_new = slf_mac2_q31_sat(reset, p->k_re, zi, p->neg_k_im, current);
        int32_t zi_new = slf_mac2_q31_sat(reset, p->k_im, zi, p->k_re, 0);
        uint32_t fire = slf_greater(zr_new, threshold);
        *acc = 0;
        cell->zr = zr_new;
        cell->zi = zi_new;
        *spiked = (uint8_t)fire;
        *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
        out += fire;
    }
#endif
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

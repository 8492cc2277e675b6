/* silifc runtime: arithmetic and loops shared by the kernels (not part of the API).
 *
 * Every helper has a portable C99 form and, with SLF_USE_DSP, a Cortex-M DSP form;
 * both return the same integers for all inputs inside the contracts of the public
 * headers, and neither executes undefined behaviour for inputs outside them
 * (wide sums are formed in uint64_t, which wraps, then read back as int64_t).
 */
#ifndef SLF_INTERNAL_H
#define SLF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "silifc.h"

#if SLF_USE_DSP
#include <arm_acle.h>
#endif

#if defined(__GNUC__)
#define SLF_INLINE static inline __attribute__((always_inline))
#else
#define SLF_INLINE static inline
#endif

/* Hide where a pointer comes from, so that GCC keeps it in a register instead of re-deriving
 * a stack address (sp + offset) at every indexed access: 3 instructions become 1. */
#if defined(__GNUC__)
#define SLF_IN_REGISTER(pointer) __asm__("" : "+r"(pointer))
#else
#define SLF_IN_REGISTER(pointer) ((void)0)
#endif

/* Neuron-update loops in hand-allocated inline assembly (DSP path, optimised builds: they
 * use every register but r7, the frame pointer of unoptimised Thumb code). */
#if SLF_USE_DSP && defined(__OPTIMIZE__) && defined(__GNUC__)
#define SLF_NEURON_ASM 1
#else
#define SLF_NEURON_ASM 0
#endif

/* C99 compile-time check */
#define SLF_STATIC_ASSERT(name, cond) typedef char slf_static_assert_##name[(cond) ? 1 : -1]

/* ---------------------------------------------------------------- scalar arithmetic */

SLF_INLINE int32_t slf_sat32(int64_t x)
{
    if (x > INT32_MAX) {
        return INT32_MAX;
    }
    if (x < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)x;
}

/* a + b modulo 2^32: the accumulators' arithmetic (exact under the quantizer's bound). */
SLF_INLINE int32_t slf_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* 1 if a > b else 0, without a branch (DSP: the sign of the saturated b - a). */
SLF_INLINE uint32_t slf_greater(int32_t a, int32_t b)
{
#if SLF_USE_DSP
    return (uint32_t)__qsub(b, a) >> 31;
#else
    return a > b;
#endif
}

/* a + b*c and a - b*c modulo 2^32 (MLA, MLS): the input current and the soft reset. */
SLF_INLINE int32_t slf_mla_wrap(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)a + (uint32_t)b * (uint32_t)c);
}

SLF_INLINE int32_t slf_mls_wrap(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)a - (uint32_t)b * (uint32_t)c);
}

/* r32(x, k) = (x*k + 2^31) >> 32 (SMMULR) and h + r32(x, +-k) (SMMLAR, SMMLSR).
 * The accumulating forms are exact whenever |h| <= 2^30 - 1 and |k| <= SLF_Q31_LIMIT, or
 * (SiLIF's second product) |h| <= (k_alpha + 1)/2 with k = k_alpha - 2^31, k_alpha >= 0:
 * then h*2^32 + x*k + 2^31 stays inside int64 (docs/fixed-point.md), and the hardware's
 * high word of it is h + r32(x, k). The portable forms compute the same in int64. */
#if SLF_USE_DSP
SLF_INLINE int32_t slf_r32(int32_t x, int32_t k)
{
    int32_t h;
    __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"(x), "r"(k));
    return h;
}

SLF_INLINE int32_t slf_r32_add(int32_t h, int32_t x, int32_t k)
{
    __asm__("smmlar %0, %1, %2, %0" : "+r"(h) : "r"(x), "r"(k));
    return h;
}

SLF_INLINE int32_t slf_r32_sub(int32_t h, int32_t x, int32_t k)
{
    __asm__("smmlsr %0, %1, %2, %0" : "+r"(h) : "r"(x), "r"(k));
    return h;
}

/* dmac(c, h) = sat32(c + sat32(2h)) (QDADD) */
SLF_INLINE int32_t slf_dmac(int32_t c, int32_t h)
{
    int32_t r;
    __asm__("qdadd %0, %1, %2" : "=r"(r) : "r"(c), "r"(h));
    return r;
}
#else
SLF_INLINE int32_t slf_r32(int32_t x, int32_t k)
{
    return (int32_t)(((int64_t)x * k + ((int64_t)1 << 31)) >> 32);
}

SLF_INLINE int32_t slf_r32_add(int32_t h, int32_t x, int32_t k)
{
    return (int32_t)((uint32_t)h + (uint32_t)slf_r32(x, k));
}

SLF_INLINE int32_t slf_r32_sub(int32_t h, int32_t x, int32_t k)
{
    /* -(x*k) in int64: |x*k| <= 2^62, no overflow */
    return (int32_t)((uint32_t)h + (uint32_t)(int32_t)((-((int64_t)x * k) + ((int64_t)1 << 31)) >> 32));
}

SLF_INLINE int32_t slf_dmac(int32_t c, int32_t h)
{
    return slf_sat32((int64_t)c + slf_sat32(2 * (int64_t)h));
}
#endif

/* ---------------------------------------------------------------- softmax (slf_softmax_q16.c) */

/* e[k] = 2^-t_k in Q24 for k < n (steps 1-4 of fixedpoint.softmax_q16) and returns
 * 2^46 // sum(e). n in 1..SLF_MAX_CLASSES (the callers check). */
uint32_t slf_softmax_exp(const int32_t *u, uint32_t n, int32_t exp_mult, int32_t exp_shift, uint32_t *e);

/* p = (e * reciprocal + 2^29) >> 30: Q16, in [0, 2^16] */
SLF_INLINE int32_t slf_softmax_prob(uint32_t e, uint32_t reciprocal)
{
    return (int32_t)(((uint64_t)e * reciprocal + ((uint64_t)1 << 29)) >> 30);
}

/* min(total + p, 2^31 - 1) for p in [0, 2^16] (QADD: p >= 0 saturates only upwards). */
SLF_INLINE int32_t slf_add_sat_q16(int32_t total, int32_t p)
{
#if SLF_USE_DSP
    return __qadd(total, p);
#else
    return total > INT32_MAX - p ? INT32_MAX : total + p;
#endif
}

/* ---------------------------------------------------------------- dense kernels' shared loop */

#if SLF_USE_DSP && defined(__GNUC__)
#define SLF_DENSE_USAD_DSP 1
/* slf_dense_block_usad.c: acc[0..3] = sum |u - m| over one 4-row block, 8 * pairs inputs. */
void slf_dense_block_usad(int32_t *acc, const uint8_t *w, const uint32_t *m, uint32_t pairs);
#else
#define SLF_DENSE_USAD_DSP 0
#endif

/* ---------------------------------------------------------------- argument checks */

SLF_INLINE slf_status slf_check_ring(const slf_delay_ring_s32 *ring, uint32_t width)
{
    if (ring->slots == NULL) {
        return SLF_ERR_NULL;
    }
    if (ring->depth == 0u || ring->head >= ring->depth || ring->width != width) {
        return SLF_ERR_SHAPE;
    }
    return SLF_OK;
}

/* Arguments shared by the spiking-layer updates (SiLIF, C-SiLIF): every pointer set, the
 * ring `n` wide, and room for n spikes (the list is written branch-free). */
SLF_INLINE slf_status slf_check_spiking_update(const void *neuron, const void *cell, const uint8_t *spiked,
                                               uint32_t n, const slf_delay_ring_s32 *input,
                                               const slf_spike_list *spikes)
{
    slf_status status;
    if (input == NULL || spikes == NULL || neuron == NULL || cell == NULL || spiked == NULL ||
        spikes->index == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_ring(input, n);
    if (status != SLF_OK) {
        return status;
    }
    return spikes->capacity < n ? SLF_ERR_CAPACITY : SLF_OK;
}

/* Arguments of slf_lif_update_q31 (both paths): every pointer set, the ring n wide, and for a
 * spiking layer a spike list with room for n (the list is written branch-free). */
SLF_INLINE slf_status slf_check_lif_update(const slf_lif_layer *layer, const slf_lif_state *state,
                                           const slf_delay_ring_s32 *input, const slf_spike_list *spikes)
{
    if (layer == NULL || state == NULL) {
        return SLF_ERR_NULL;
    }
    if (layer->flags & SLF_LIF_SPIKING) {
        return slf_check_spiking_update(layer->neuron, state->cell, state->spiked, layer->n, input, spikes);
    }
    if (input == NULL || layer->neuron == NULL || state->cell == NULL || state->spiked == NULL) {
        return SLF_ERR_NULL;
    }
    return slf_check_ring(input, layer->n);
}

SLF_INLINE slf_status slf_check_spikes(const slf_spike_list *spikes, uint32_t n_in)
{
    uint32_t k;
    if (spikes->count > spikes->capacity) {
        return SLF_ERR_SHAPE;
    }
    if (spikes->count != 0u && spikes->index == NULL) {
        return SLF_ERR_NULL;
    }
    for (k = 0; k < spikes->count; k++) {
        if (spikes->index[k] >= n_in) {
            return SLF_ERR_INDEX;
        }
    }
    return SLF_OK;
}

SLF_INLINE slf_status slf_check_events(const slf_event *events, uint32_t n_events, uint32_t n_in)
{
    uint32_t k;
    if (n_events != 0u && events == NULL) {
        return SLF_ERR_NULL;
    }
    for (k = 0; k < n_events; k++) {
        if (events[k].index >= n_in) {
            return SLF_ERR_INDEX;
        }
    }
    return SLF_OK;
}

/* Arguments shared by the accumulation kernels (after their NULL checks): the ring is n_out
 * wide and every input index is < n_in. */
SLF_INLINE slf_status slf_check_spike_input(const slf_delay_ring_s32 *ring, uint32_t n_out,
                                            const slf_spike_list *spikes, uint32_t n_in)
{
    slf_status status = slf_check_ring(ring, n_out);
    return status == SLF_OK ? slf_check_spikes(spikes, n_in) : status;
}

SLF_INLINE slf_status slf_check_event_input(const slf_delay_ring_s32 *ring, uint32_t n_out, const slf_event *events,
                                            uint32_t n_events, uint32_t n_in)
{
    slf_status status = slf_check_ring(ring, n_out);
    return status == SLF_OK ? slf_check_events(events, n_events, n_in) : status;
}

/* Base of the slot that step t + delay lands in, for delay 0..depth-1, without a division. */
SLF_INLINE int32_t *slf_ring_slot(const slf_delay_ring_s32 *ring, uint32_t delay)
{
    uint32_t slot = (uint32_t)ring->head + delay;
    if (slot >= ring->depth) {
        slot -= ring->depth;
    }
    return ring->slots + (size_t)slot * ring->width;
}

/* The current slot (step t). */
SLF_INLINE int32_t *slf_ring_head(const slf_delay_ring_s32 *ring)
{
    return ring->slots + (size_t)ring->head * ring->width;
}

SLF_INLINE void slf_ring_advance(slf_delay_ring_s32 *ring)
{
    ring->head = (uint16_t)(ring->head + 1u == ring->depth ? 0u : ring->head + 1u);
}

/* The end of a LIF-family step (both paths): the spike count of a spiking layer (out: the
 * end of its list), the output layer's totals (a spiking layer adds its spikes, a non-spiking
 * one its membrane in Q16: v >> out_shift, a negative out_shift shifts left, saturating; each
 * saturating to int32), and the ring's next slot. */
SLF_INLINE void slf_lif_finish(const slf_lif_layer *layer, const slf_lif_state *state, slf_delay_ring_s32 *input,
                               slf_spike_list *spikes, const uint16_t *out, int32_t *totals)
{
    uint32_t i;
    int32_t shift = layer->out_shift;
    if (layer->flags & SLF_LIF_SPIKING) {
        spikes->count = (uint16_t)(out - spikes->index);
    }
    for (i = 0; totals != NULL && i < layer->n; i++) {
        int64_t add;
        if (layer->flags & SLF_LIF_SPIKING) {
            add = state->spiked[i];
        } else if (shift >= 0) {
            add = state->cell[i].v >> shift; /* arithmetic shift of a negative value: GCC, Clang, Arm C */
        } else {
            add = (int64_t)state->cell[i].v * ((int64_t)1 << -shift);
        }
        totals[i] = slf_sat32((int64_t)totals[i] + slf_sat32(add));
    }
    slf_ring_advance(input);
}

/* ---------------------------------------------------------------- column loops
 *
 * acc[0..n) += one column, two columns, or count x one column. The DSP forms process
 * 8 accumulators per LDM/STM pair and leave the n % 8 tail to the portable loop.
 * Register use: 8 accumulators in r4-r6, r8-r12 (r7 is left alone: it is the Thumb frame
 * pointer in unoptimised builds), pointers and counters in registers the compiler picks.
 */

SLF_INLINE void slf_col_add_s8_c(int32_t *acc, const int8_t *w, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], w[i]);
    }
}

SLF_INLINE void slf_col_add2_s8_c(int32_t *acc, const int8_t *wa, const int8_t *wb, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], (int32_t)wa[i] + wb[i]);
    }
}

SLF_INLINE void slf_col_mul_s8_c(int32_t *acc, const int8_t *w, uint32_t n, int32_t count)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], count * w[i]); /* |count * w| <= 255 * 128 */
    }
}

SLF_INLINE void slf_col_add_s16_c(int32_t *acc, const int16_t *w, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], w[i]);
    }
}

SLF_INLINE void slf_col_add2_s16_c(int32_t *acc, const int16_t *wa, const int16_t *wb, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], (int32_t)wa[i] + wb[i]);
    }
}

SLF_INLINE void slf_col_mul_s16_c(int32_t *acc, const int16_t *w, uint32_t n, int32_t count)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], count * w[i]); /* |count * w| <= 255 * 32768 < 2^23 */
    }
}

#if SLF_USE_DSP

#define SLF_ACC_REGS "{r4, r5, r6, r8, r9, r10, r11, r12}"
#define SLF_ACC_CLOBBERS "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory"

/* 4 int8 weights of the word in t into 4 accumulators: SXTAB with the byte rotation. */
#define SLF_SXTAB4(a, b, c, d)                 \
    "sxtab  " a ", " a ", %[t]\n\t"            \
    "sxtab  " b ", " b ", %[t], ror #8\n\t"    \
    "sxtab  " c ", " c ", %[t], ror #16\n\t"   \
    "sxtab  " d ", " d ", %[t], ror #24\n\t"

/* 2 int16 weights of the word in t into 2 accumulators. */
#define SLF_SXTAH2(a, b)                       \
    "sxtah  " a ", " a ", %[t]\n\t"            \
    "sxtah  " b ", " b ", %[t], ror #16\n\t"

/* acc[0..8*blocks) += w[...], blocks >= 1 */
SLF_INLINE void slf_col_add_s8_dsp(int32_t *acc, const int8_t *w, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAB4("r4", "r5", "r6", "r8")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAB4("r9", "r10", "r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

/* acc[0..8*blocks) += wa[...] + wb[...], blocks >= 1: one pass over the accumulators
 * for two inputs (24 instructions per 16 synaptic operations). */
SLF_INLINE void slf_col_add2_s8_dsp(int32_t *acc, const int8_t *wa, const int8_t *wb, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAB4("r4", "r5", "r6", "r8")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAB4("r9", "r10", "r11", "r12")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAB4("r4", "r5", "r6", "r8")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAB4("r9", "r10", "r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [wa] "+r"(wa), [wb] "+r"(wb), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

/* acc[0..8*blocks) += count * w[...], blocks in 1..65535, count in 0..255.
 * SXTB16 splits a weight word into (b0, b2) and (b1, b3) halfword pairs; SMLAxB multiplies
 * one half by the count in the bottom half of `nc`. The top half of `nc` counts the
 * remaining blocks, which saves a register. */
SLF_INLINE void slf_col_mul_s8_dsp(int32_t *acc, const int8_t *w, uint32_t blocks, uint32_t count)
{
    uint32_t t, even, nc = ((blocks - 1u) << 16) | count;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "sxtb16 %[e], %[t]\n\t"
        "sxtb16 %[t], %[t], ror #8\n\t"
        "smlabb r4, %[e], %[nc], r4\n\t"
        "smlabb r5, %[t], %[nc], r5\n\t"
        "smlatb r6, %[e], %[nc], r6\n\t"
        "smlatb r8, %[t], %[nc], r8\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "sxtb16 %[e], %[t]\n\t"
        "sxtb16 %[t], %[t], ror #8\n\t"
        "smlabb r9, %[e], %[nc], r9\n\t"
        "smlabb r10, %[t], %[nc], r10\n\t"
        "smlatb r11, %[e], %[nc], r11\n\t"
        "smlatb r12, %[t], %[nc], r12\n\t"
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[nc], %[nc], #65536\n\t"
        "bcs    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [nc] "+r"(nc), [t] "=&r"(t), [e] "=&r"(even)
        :
        : SLF_ACC_CLOBBERS);
}

SLF_INLINE void slf_col_add_s16_dsp(int32_t *acc, const int16_t *w, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r4", "r5")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r6", "r8")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r9", "r10")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

SLF_INLINE void slf_col_add2_s16_dsp(int32_t *acc, const int16_t *wa, const int16_t *wb, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r4", "r5")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r6", "r8")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r9", "r10")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r11", "r12")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r4", "r5")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r6", "r8")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r9", "r10")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [wa] "+r"(wa), [wb] "+r"(wb), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

/* count in 0..255, |count * w| < 2^23: SMLAxB on the weight halves directly. */
SLF_INLINE void slf_col_mul_s16_dsp(int32_t *acc, const int16_t *w, uint32_t blocks, uint32_t count)
{
    uint32_t t, nc = ((blocks - 1u) << 16) | count;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r4, %[t], %[nc], r4\n\t"
        "smlatb r5, %[t], %[nc], r5\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r6, %[t], %[nc], r6\n\t"
        "smlatb r8, %[t], %[nc], r8\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r9, %[t], %[nc], r9\n\t"
        "smlatb r10, %[t], %[nc], r10\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r11, %[t], %[nc], r11\n\t"
        "smlatb r12, %[t], %[nc], r12\n\t"
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[nc], %[nc], #65536\n\t"
        "bcs    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [nc] "+r"(nc), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

#endif /* SLF_USE_DSP */

/* Dispatchers: DSP blocks of 8 plus the portable tail, or the portable loop alone. */

SLF_INLINE void slf_col_add_s8(int32_t *acc, const int8_t *w, uint32_t n)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        slf_col_add_s8_dsp(acc, w, blocks);
        acc += blocks << 3;
        w += blocks << 3;
        n &= 7u;
    }
#endif
    slf_col_add_s8_c(acc, w, n);
}

SLF_INLINE void slf_col_add2_s8(int32_t *acc, const int8_t *wa, const int8_t *wb, uint32_t n)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        slf_col_add2_s8_dsp(acc, wa, wb, blocks);
        acc += blocks << 3;
        wa += blocks << 3;
        wb += blocks << 3;
        n &= 7u;
    }
#endif
    slf_col_add2_s8_c(acc, wa, wb, n);
}

SLF_INLINE void slf_col_mul_s8(int32_t *acc, const int8_t *w, uint32_t n, uint32_t count)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        slf_col_mul_s8_dsp(acc, w, blocks, count);
        acc += blocks << 3;
        w += blocks << 3;
        n &= 7u;
    }
#endif
    slf_col_mul_s8_c(acc, w, n, (int32_t)count);
}

SLF_INLINE void slf_col_add_s16(int32_t *acc, const int16_t *w, uint32_t n)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        slf_col_add_s16_dsp(acc, w, blocks);
        acc += blocks << 3;
        w += blocks << 3;
        n &= 7u;
    }
#endif
    slf_col_add_s16_c(acc, w, n);
}

SLF_INLINE void slf_col_add2_s16(int32_t *acc, const int16_t *wa, const int16_t *wb, uint32_t n)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        slf_col_add2_s16_dsp(acc, wa, wb, blocks);
        acc += blocks << 3;
        wa += blocks << 3;
        wb += blocks << 3;
        n &= 7u;
    }
#endif
    slf_col_add2_s16_c(acc, wa, wb, n);
}

SLF_INLINE void slf_col_mul_s16(int32_t *acc, const int16_t *w, uint32_t n, uint32_t count)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        slf_col_mul_s16_dsp(acc, w, blocks, count);
        acc += blocks << 3;
        w += blocks << 3;
        n &= 7u;
    }
#endif
    slf_col_mul_s16_c(acc, w, n, (int32_t)count);
}

/* One column with an event count: plain adds for the common count 1. */
SLF_INLINE void slf_col_event_s8(int32_t *acc, const int8_t *w, uint32_t n, uint32_t count)
{
    if (count == 1u) {
        slf_col_add_s8(acc, w, n);
    } else if (count != 0u) {
        slf_col_mul_s8(acc, w, n, count);
    }
}

SLF_INLINE void slf_col_event_s16(int32_t *acc, const int16_t *w, uint32_t n, uint32_t count)
{
    if (count == 1u) {
        slf_col_add_s16(acc, w, n);
    } else if (count != 0u) {
        slf_col_mul_s16(acc, w, n, count);
    }
}

/* ---------------------------------------------------------------- per-synapse delays */

/* shift_of[d] = element offset from slot `head` to slot (head + d) mod depth, for every
 * 4-bit delay d (a delay >= depth wraps, which keeps every access inside the ring). Offsets,
 * not pointers: the inner loop adds one to a single running accumulator pointer. */
SLF_INLINE void slf_delay_offsets(const slf_delay_ring_s32 *ring, ptrdiff_t shift_of[16])
{
    uint32_t d, slot = ring->head;
    for (d = 0; d < 16u; d++) {
        shift_of[d] = ((ptrdiff_t)slot - (ptrdiff_t)ring->head) * (ptrdiff_t)ring->width;
        slot = (slot + 1u == ring->depth) ? 0u : slot + 1u;
    }
}

/* *a += value, wrapping */
SLF_INLINE void slf_add_at(int32_t *a, int32_t value)
{
    *a = slf_wrap_add(*a, value);
}

#if SLF_USE_DSP
/* 4 little-endian bytes/halfwords of a possibly unaligned array as one word: one LDR.
 * __builtin_memcpy, because firmware builds with -ffreestanding turn memcpy into a call. */
SLF_INLINE uint32_t slf_load_word(const void *p)
{
    uint32_t word;
    __builtin_memcpy(&word, p, sizeof word);
    return word;
}
#endif

/* acc[i + shift_of[d_i]] += count * w[i] for i < n, with acc = slot `head` and d_i the
 * nibbles of one column. The DSP form reads 8 delays and 8 int8 weights per 3 loads. */
SLF_INLINE void slf_col_delayed_s8(int32_t *acc, const ptrdiff_t shift_of[16], const int8_t *w,
                                   const uint8_t *nibble, uint32_t n, int32_t count)
{
    uint32_t i = 0;
    const ptrdiff_t *table = shift_of;
    SLF_IN_REGISTER(table);
#if SLF_USE_DSP
    for (; i + 8u <= n; i += 8u) {
        uint32_t d = slf_load_word(nibble + (i >> 1));
        uint32_t lo = slf_load_word(w + i);
        uint32_t hi = slf_load_word(w + i + 4u);
        int32_t *a = acc + i;
        slf_add_at(a + table[d & 15u] + 0, count * (int8_t)lo);
        slf_add_at(a + table[(d >> 4) & 15u] + 1, count * (int8_t)(lo >> 8));
        slf_add_at(a + table[(d >> 8) & 15u] + 2, count * (int8_t)(lo >> 16));
        slf_add_at(a + table[(d >> 12) & 15u] + 3, count * (int8_t)(lo >> 24));
        slf_add_at(a + table[(d >> 16) & 15u] + 4, count * (int8_t)hi);
        slf_add_at(a + table[(d >> 20) & 15u] + 5, count * (int8_t)(hi >> 8));
        slf_add_at(a + table[(d >> 24) & 15u] + 6, count * (int8_t)(hi >> 16));
        slf_add_at(a + table[d >> 28] + 7, count * (int8_t)(hi >> 24));
    }
#endif
    for (; i + 2u <= n; i += 2u) { /* one byte = the delays of two synapses */
        uint32_t pair = nibble[i >> 1];
        int32_t *a = acc + i;
        slf_add_at(a + table[pair & 15u], count * w[i]);
        slf_add_at(a + table[pair >> 4] + 1, count * w[i + 1u]);
    }
    if (i < n) {
        slf_add_at(acc + i + table[nibble[i >> 1] & 15u], count * w[i]);
    }
}

SLF_INLINE void slf_col_delayed_s16(int32_t *acc, const ptrdiff_t shift_of[16], const int16_t *w,
                                    const uint8_t *nibble, uint32_t n, int32_t count)
{
    uint32_t i = 0;
    const ptrdiff_t *table = shift_of;
    SLF_IN_REGISTER(table);
#if SLF_USE_DSP
    for (; i + 8u <= n; i += 8u) {
        uint32_t d = slf_load_word(nibble + (i >> 1));
        uint32_t w01 = slf_load_word(w + i);
        uint32_t w23 = slf_load_word(w + i + 2u);
        uint32_t w45 = slf_load_word(w + i + 4u);
        uint32_t w67 = slf_load_word(w + i + 6u);
        int32_t *a = acc + i;
        slf_add_at(a + table[d & 15u] + 0, count * (int16_t)w01);
        slf_add_at(a + table[(d >> 4) & 15u] + 1, count * (int16_t)(w01 >> 16));
        slf_add_at(a + table[(d >> 8) & 15u] + 2, count * (int16_t)w23);
        slf_add_at(a + table[(d >> 12) & 15u] + 3, count * (int16_t)(w23 >> 16));
        slf_add_at(a + table[(d >> 16) & 15u] + 4, count * (int16_t)w45);
        slf_add_at(a + table[(d >> 20) & 15u] + 5, count * (int16_t)(w45 >> 16));
        slf_add_at(a + table[(d >> 24) & 15u] + 6, count * (int16_t)w67);
        slf_add_at(a + table[d >> 28] + 7, count * (int16_t)(w67 >> 16));
    }
#endif
    for (; i + 2u <= n; i += 2u) { /* one byte = the delays of two synapses */
        uint32_t pair = nibble[i >> 1];
        int32_t *a = acc + i;
        slf_add_at(a + table[pair & 15u], count * w[i]);
        slf_add_at(a + table[pair >> 4] + 1, count * w[i + 1u]);
    }
    if (i < n) {
        slf_add_at(acc + i + table[nibble[i >> 1] & 15u], count * w[i]);
    }
}

/* p[0..n) = 0 (the consumed ring slot). Four words per STM on the DSP path; a plain loop
 * would be turned into a memset call, which freestanding builds need not provide. */
SLF_INLINE void slf_zero_s32(int32_t *p, uint32_t n)
{
#if SLF_NEURON_ASM
    uint32_t blocks = n >> 2;
    if (blocks != 0u) {
        __asm__ volatile("movs   r0, #0\n\t"
                         "movs   r1, #0\n\t"
                         "movs   r2, #0\n\t"
                         "movs   r3, #0\n\t"
                         "1:\n\t"
                         "stmia  %[p]!, {r0, r1, r2, r3}\n\t"
                         "subs   %[b], %[b], #1\n\t"
                         "bne    1b"
                         : [p] "+r"(p), [b] "+r"(blocks)
                         :
                         : "r0", "r1", "r2", "r3", "cc", "memory");
    }
    n &= 3u;
#endif
    while (n-- != 0u) {
        *p++ = 0;
    }
}

#endif /* SLF_INTERNAL_H */

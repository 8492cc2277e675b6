/* silifc runtime, internal: scalar arithmetic of the kernels (not part of the API).
 *
 * The portable C99 definitions below are the reference. With SLF_USE_DSP the helpers that
 * a single Cortex-M DSP instruction computes come from dsp/slf_arith_dsp.h instead (SMMULR,
 * SMMLAR, SMMLSR, QDADD, QSUB, QADD); both give the same integers inside the contracts. Wide
 * sums are formed in int64 (|x * k| <= 2^62: no overflow) or in unsigned types, which wrap.
 */
#ifndef SLF_ARITH_H
#define SLF_ARITH_H

#include "slf_base.h"

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

/* a + b*c and a - b*c modulo 2^32 (MLA, MLS): the input current and the soft reset. */
SLF_INLINE int32_t slf_mla_wrap(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)a + (uint32_t)b * (uint32_t)c);
}

SLF_INLINE int32_t slf_mls_wrap(int32_t a, int32_t b, int32_t c)
{
    return (int32_t)((uint32_t)a - (uint32_t)b * (uint32_t)c);
}

/* w16(x, k) = (x*k) >> 16 (floor) for an int16 k: half the Q15 product x*k/2^15 (SMULWB/SMULWT,
 * and the product SMLAWB adds). |x*k| <= 2^46, so the result is in [-2^30, 2^30]. */
SLF_INLINE int32_t slf_w16(int32_t x, int16_t k)
{
    return (int32_t)(((int64_t)x * k) >> 16);
}

/* sat32(a + b) (QADD). */
SLF_INLINE int32_t slf_add_sat(int32_t a, int32_t b)
{
    return slf_sat32((int64_t)a + b);
}

#if SLF_USE_DSP
#include "../dsp/slf_arith_dsp.h"
#else

/* 1 if a > b else 0, without a branch. */
SLF_INLINE uint32_t slf_greater(int32_t a, int32_t b)
{
    return a > b;
}

/* r32(x, k) = (x*k + 2^31) >> 32 and h + r32(x, +-k).
 * The accumulating forms are exact (equal to the hardware's SMMLAR/SMMLSR, which round the
 * 64-bit h*2^32 +- x*k + 2^31 once) whenever |h| <= 2^30 - 1 and |k| <= SLF_Q31_LIMIT, or
 * (SiLIF's second product) |h| <= (k_alpha + 1)/2 with k = k_alpha - 2^31, k_alpha >= 0:
 * then h*2^32 + x*k + 2^31 stays inside int64 (docs/fixed-point.md). */
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

/* dmac(c, h) = sat32(c + sat32(2h)) */
SLF_INLINE int32_t slf_dmac(int32_t c, int32_t h)
{
    return slf_sat32((int64_t)c + slf_sat32(2 * (int64_t)h));
}

/* min(total + p, 2^31 - 1) for p in [0, 2^16] (p >= 0 saturates only upwards). */
SLF_INLINE int32_t slf_add_sat_q16(int32_t total, int32_t p)
{
    return total > INT32_MAX - p ? INT32_MAX : total + p;
}

#endif /* SLF_USE_DSP */

#endif /* SLF_ARITH_H */

/* silifc runtime, internal: the scalar helpers of internal/slf_arith.h as single Cortex-M DSP
 * instructions (included from there when SLF_USE_DSP is 1; not part of the API).
 *
 * Products: r32(x, k) is SMMULR; a second product added in the high word is SMMLAR / SMMLSR,
 * exact under the conditions stated in slf_arith.h (the 64-bit intermediate stays below
 * 2^63; proof in docs/fixed-point.md); dmac(c, h) = sat32(c + sat32(2h)) is QDADD.
 */
#ifndef SLF_ARITH_DSP_H
#define SLF_ARITH_DSP_H

#include "slf_dsp.h"

/* 1 if a > b else 0: the sign of the saturated b - a. */
SLF_INLINE uint32_t slf_greater(int32_t a, int32_t b)
{
    return (uint32_t)__qsub(b, a) >> 31;
}

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

SLF_INLINE int32_t slf_dmac(int32_t c, int32_t h)
{
    int32_t r;
    __asm__("qdadd %0, %1, %2" : "=r"(r) : "r"(c), "r"(h));
    return r;
}

/* min(total + p, 2^31 - 1) for p in [0, 2^16]: QADD (p >= 0 saturates only upwards). */
SLF_INLINE int32_t slf_add_sat_q16(int32_t total, int32_t p)
{
    return __qadd(total, p);
}

#endif /* SLF_ARITH_DSP_H */

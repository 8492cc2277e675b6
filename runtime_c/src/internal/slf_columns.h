/* silifc runtime, internal: the accumulation loops (not part of the API).
 *
 * acc[0..n) += one weight column, two columns, or count x one column, modulo 2^32 (the
 * portable uint32_t adds and the DSP path's SXTAB/SXTAH/SMLAxB wrap alike, so the order of
 * additions is irrelevant). The loops below are the portable reference. With SLF_USE_DSP,
 * dsp/slf_columns_dsp.h provides the same functions: blocks of 8 accumulators per LDM/STM in
 * inline assembly, and these loops for the n % 8 tail.
 */
#ifndef SLF_COLUMNS_H
#define SLF_COLUMNS_H

#include "slf_arith.h"

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
#include "../dsp/slf_columns_dsp.h"
#else

SLF_INLINE void slf_col_add_s8(int32_t *acc, const int8_t *w, uint32_t n)
{
    slf_col_add_s8_c(acc, w, n);
}

SLF_INLINE void slf_col_add2_s8(int32_t *acc, const int8_t *wa, const int8_t *wb, uint32_t n)
{
    slf_col_add2_s8_c(acc, wa, wb, n);
}

SLF_INLINE void slf_col_mul_s8(int32_t *acc, const int8_t *w, uint32_t n, uint32_t count)
{
    slf_col_mul_s8_c(acc, w, n, (int32_t)count);
}

SLF_INLINE void slf_col_add_s16(int32_t *acc, const int16_t *w, uint32_t n)
{
    slf_col_add_s16_c(acc, w, n);
}

SLF_INLINE void slf_col_add2_s16(int32_t *acc, const int16_t *wa, const int16_t *wb, uint32_t n)
{
    slf_col_add2_s16_c(acc, wa, wb, n);
}

SLF_INLINE void slf_col_mul_s16(int32_t *acc, const int16_t *w, uint32_t n, uint32_t count)
{
    slf_col_mul_s16_c(acc, w, n, (int32_t)count);
}

#endif /* SLF_USE_DSP */

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

#endif /* SLF_COLUMNS_H */

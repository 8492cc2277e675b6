/* silifc runtime, internal (not part of the API): the accumulation loops of one weight type.
 *
 * slf_columns.h includes this file twice, for int8 and for int16 weights (the loops differ only
 * in the weight type), having defined:
 *   SLF_COL_WEIGHT       the weight type: int8_t or int16_t
 *   SLF_COL_TYPED(name)  name##_s8 or name##_s16
 * It defines slf_col_add_<t>, slf_col_add2_<t>, slf_col_mul_<t> (what the kernels call) and
 * their portable loops slf_col_add_c_<t>, slf_col_add2_c_<t>, slf_col_mul_c_<t>. No include
 * guard: one inclusion per weight type, and it undefines both macros at its end.
 */

/* The portable reference loops (on the DSP path: the n % 8 tail). */

SLF_INLINE void SLF_COL_TYPED(slf_col_add_c)(int32_t *acc, const SLF_COL_WEIGHT *w, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], w[i]);
    }
}

SLF_INLINE void SLF_COL_TYPED(slf_col_add2_c)(int32_t *acc, const SLF_COL_WEIGHT *wa, const SLF_COL_WEIGHT *wb,
                                              uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], (int32_t)wa[i] + wb[i]);
    }
}

SLF_INLINE void SLF_COL_TYPED(slf_col_mul_c)(int32_t *acc, const SLF_COL_WEIGHT *w, uint32_t n, int32_t count)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        acc[i] = slf_wrap_add(acc[i], count * w[i]); /* |count * w| <= 255 * 32768 < 2^23 */
    }
}

/* The loops the kernels call. With SLF_USE_DSP: blocks of 8 accumulators in assembly
 * (dsp/slf_columns_dsp.h), then the portable loop for the n % 8 tail. */

SLF_INLINE void SLF_COL_TYPED(slf_col_add)(int32_t *acc, const SLF_COL_WEIGHT *w, uint32_t n)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        SLF_COL_TYPED(slf_col_add_dsp)(acc, w, blocks);
        acc += blocks << 3;
        w += blocks << 3;
        n &= 7u;
    }
#endif
    SLF_COL_TYPED(slf_col_add_c)(acc, w, n);
}

SLF_INLINE void SLF_COL_TYPED(slf_col_add2)(int32_t *acc, const SLF_COL_WEIGHT *wa, const SLF_COL_WEIGHT *wb,
                                            uint32_t n)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        SLF_COL_TYPED(slf_col_add2_dsp)(acc, wa, wb, blocks);
        acc += blocks << 3;
        wa += blocks << 3;
        wb += blocks << 3;
        n &= 7u;
    }
#endif
    SLF_COL_TYPED(slf_col_add2_c)(acc, wa, wb, n);
}

SLF_INLINE void SLF_COL_TYPED(slf_col_mul)(int32_t *acc, const SLF_COL_WEIGHT *w, uint32_t n, uint32_t count)
{
#if SLF_USE_DSP
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        SLF_COL_TYPED(slf_col_mul_dsp)(acc, w, blocks, count);
        acc += blocks << 3;
        w += blocks << 3;
        n &= 7u;
    }
#endif
    SLF_COL_TYPED(slf_col_mul_c)(acc, w, n, (int32_t)count);
}

#undef SLF_COL_WEIGHT
#undef SLF_COL_TYPED

/* silifc runtime, internal (not part of the API): the per-synapse delayed column loops of one
 * weight type.
 *
 * slf_delays.h includes this file twice, for int8 and for int16 weights (the loops differ only
 * in the weight type), having defined:
 *   SLF_COL_WEIGHT       the weight type: int8_t or int16_t
 *   SLF_COL_TYPED(name)  name##_s8 or name##_s16
 * It defines slf_col_delayed_<t> (4-bit delays) and, on the portable path, slf_col_delayed_u8_<t>
 * (byte delays; the DSP forms, whose word loads differ by weight type, are in
 * dsp/slf_delays_dsp.h). No include guard: one inclusion per weight type, and it undefines both
 * macros at its end.
 */

/* acc[i + shift_of[d_i]] += count * w[i] for i < n, with acc = slot `head` and d_i the
 * nibbles of one column (low nibble = even i). */
SLF_INLINE void SLF_COL_TYPED(slf_col_delayed)(int32_t *acc, const ptrdiff_t shift_of[16], const SLF_COL_WEIGHT *w,
                                               const uint8_t *nibble, uint32_t n, int32_t count)
{
    uint32_t i = 0;
    const ptrdiff_t *table = shift_of;
    SLF_IN_REGISTER(table);
#if SLF_USE_DSP
    i = SLF_COL_TYPED(slf_col_delayed_blocks)(acc, table, w, nibble, n, count);
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

#if !SLF_USE_DSP

/* synapse i of one column: slot(delay[i])[i] += count * w[i], for i < n */
SLF_INLINE void SLF_COL_TYPED(slf_col_delayed_u8)(const slf_delay_u8_map *map, const SLF_COL_WEIGHT *w,
                                                  const uint8_t *delay, uint32_t n, int32_t count)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        slf_add_at(slf_delay_u8_slot(map, delay[i]) + i, count * w[i]);
    }
}

#endif /* !SLF_USE_DSP */

#undef SLF_COL_WEIGHT
#undef SLF_COL_TYPED

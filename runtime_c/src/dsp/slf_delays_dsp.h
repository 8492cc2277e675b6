/* silifc runtime, internal: blocks of 8 per-synapse delayed synapses on the Cortex-M DSP path
 * (included from internal/slf_delays.h when SLF_USE_DSP is 1; not part of the API).
 *
 * Word loads (possibly unaligned) bring 8 nibbles and 8 weights in 3 (int8) or 5 (int16)
 * loads; each synapse then costs one table lookup, load, add and store. Each returns the
 * number of synapses done (a multiple of 8); the portable loop does the rest. */
#ifndef SLF_DELAYS_DSP_H
#define SLF_DELAYS_DSP_H

#include "slf_dsp.h"

SLF_INLINE uint32_t slf_col_delayed_s8_blocks(int32_t *acc, const ptrdiff_t *table, const int8_t *w,
                                              const uint8_t *nibble, uint32_t n, int32_t count)
{
    uint32_t i;
    for (i = 0; i + 8u <= n; i += 8u) {
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
    return i;
}

SLF_INLINE uint32_t slf_col_delayed_s16_blocks(int32_t *acc, const ptrdiff_t *table, const int16_t *w,
                                               const uint8_t *nibble, uint32_t n, int32_t count)
{
    uint32_t i;
    for (i = 0; i + 8u <= n; i += 8u) {
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
    return i;
}

#endif /* SLF_DELAYS_DSP_H */

/* silifc runtime, internal: blocks of 8 per-synapse delayed synapses on the Cortex-M DSP path
 * (included from internal/slf_delays.h when SLF_USE_DSP is 1; not part of the API).
 *
 * Word loads (possibly unaligned) bring 8 nibbles and 8 weights in 3 (int8) or 5 (int16)
 * loads; each synapse then costs one table lookup, load, add and store. Each returns the
 * number of synapses done (a multiple of 8); the portable loop does the rest. */
#ifndef SLF_DELAYS_DSP_H
#define SLF_DELAYS_DSP_H

#include "slf_dsp.h"

SLF_INLINE uint32_t slf_col_delayed_blocks_s8(int32_t *acc, const ptrdiff_t *table, const int8_t *w,
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

SLF_INLINE uint32_t slf_col_delayed_blocks_s16(int32_t *acc, const ptrdiff_t *table, const int16_t *w,
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

/* Byte delays (internal/slf_delays.h): a table of the element offsets from slot `head` to the slot
 * of every delay byte (d & mask), built once per call in 4 instructions per entry. Per synapse:
 * one AND of the delay byte (also its extraction from a word of 4), one table load, the
 * accumulator load, add and store. */
typedef struct {
    int32_t *acc;            /* slot `head` */
    uint32_t mask;
    ptrdiff_t offset[256];   /* [mask + 1] filled */
} slf_delay_u8_map;

SLF_INLINE void slf_delay_u8_map_init(slf_delay_u8_map *map, const slf_delay_ring_s32 *ring)
{
    uint32_t d, mask = slf_delay_u8_mask(ring->depth), to_end = (uint32_t)ring->depth - ring->head;
    ptrdiff_t width = ring->width, offset = 0, wrap = (ptrdiff_t)ring->depth * width;
    map->acc = ring->slots + (size_t)ring->head * ring->width;
    map->mask = mask;
    for (d = 0; d <= mask; d++) {
        map->offset[d] = offset; /* ((head + d) mod depth - head) * width */
        offset += width;
        if (--to_end == 0u) {
            offset -= wrap;
            to_end = ring->depth;
        }
    }
}

SLF_INLINE void slf_col_delayed_u8_s8(const slf_delay_u8_map *map, const int8_t *w, const uint8_t *delay, uint32_t n,
                                      int32_t count)
{
    int32_t *acc = map->acc;
    const ptrdiff_t *table = map->offset;
    uint32_t mask = map->mask, i;
    SLF_IN_REGISTER(table);
    for (i = 0; i + 4u <= n; i += 4u) {
        uint32_t d = slf_load_word(delay + i);
        uint32_t q = slf_load_word(w + i);
        int32_t *a = acc + i;
        slf_add_at(a + table[d & mask] + 0, count * (int8_t)q);
        slf_add_at(a + table[(d >> 8) & mask] + 1, count * (int8_t)(q >> 8));
        slf_add_at(a + table[(d >> 16) & mask] + 2, count * (int8_t)(q >> 16));
        slf_add_at(a + table[(d >> 24) & mask] + 3, count * (int8_t)(q >> 24));
    }
    for (; i < n; i++) {
        slf_add_at(acc + i + table[delay[i] & mask], count * w[i]);
    }
}

SLF_INLINE void slf_col_delayed_u8_s16(const slf_delay_u8_map *map, const int16_t *w, const uint8_t *delay,
                                       uint32_t n, int32_t count)
{
    int32_t *acc = map->acc;
    const ptrdiff_t *table = map->offset;
    uint32_t mask = map->mask, i;
    SLF_IN_REGISTER(table);
    for (i = 0; i + 4u <= n; i += 4u) {
        uint32_t d = slf_load_word(delay + i);
        uint32_t w01 = slf_load_word(w + i);
        uint32_t w23 = slf_load_word(w + i + 2u);
        int32_t *a = acc + i;
        slf_add_at(a + table[d & mask] + 0, count * (int16_t)w01);
        slf_add_at(a + table[(d >> 8) & mask] + 1, count * (int16_t)(w01 >> 16));
        slf_add_at(a + table[(d >> 16) & mask] + 2, count * (int16_t)w23);
        slf_add_at(a + table[(d >> 24) & mask] + 3, count * (int16_t)(w23 >> 16));
    }
    for (; i < n; i++) {
        slf_add_at(acc + i + table[delay[i] & mask], count * w[i]);
    }
}

#endif /* SLF_DELAYS_DSP_H */

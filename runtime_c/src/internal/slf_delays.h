/* silifc runtime, internal: per-synapse delays (not part of the API).
 *
 * 4-bit delays (slf_synaptic_delays): per call, a 16-entry table of slot offsets relative to
 * slot `head` ((head + d) mod depth without a division; a delay >= depth wraps, which keeps
 * every access inside the ring); per synapse one table lookup, load, add and store. Offsets,
 * not pointers: the inner loop adds one to a single running accumulator pointer. Grouping
 * each column by delay instead would need per-synapse indices (2 bytes each): more flash than
 * the weights. With SLF_USE_DSP, dsp/slf_delays_dsp.h handles blocks of 8 synapses with word
 * loads (8 delays and 8 int8 weights in 3 loads) before the portable loop below.
 */
#ifndef SLF_DELAYS_H
#define SLF_DELAYS_H

#include "slf_arith.h"

/* shift_of[d] = element offset from slot `head` to slot (head + d) mod depth, for every
 * 4-bit delay d. */
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
#include "../dsp/slf_delays_dsp.h"
#endif

/* acc[i + shift_of[d_i]] += count * w[i] for i < n, with acc = slot `head` and d_i the
 * nibbles of one column (low nibble = even i). */
SLF_INLINE void slf_col_delayed_s8(int32_t *acc, const ptrdiff_t shift_of[16], const int8_t *w,
                                   const uint8_t *nibble, uint32_t n, int32_t count)
{
    uint32_t i = 0;
    const ptrdiff_t *table = shift_of;
    SLF_IN_REGISTER(table);
#if SLF_USE_DSP
    i = slf_col_delayed_s8_blocks(acc, table, w, nibble, n, count);
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
    i = slf_col_delayed_s16_blocks(acc, table, w, nibble, n, count);
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

#endif /* SLF_DELAYS_H */

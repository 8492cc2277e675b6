/* silifc runtime, internal: per-synapse delays (not part of the API).
 *
 * 4-bit delays (slf_synaptic_delays): per call, a 16-entry table of slot offsets relative to
 * slot `head` ((head + d) mod depth without a division; a delay >= depth wraps, which keeps
 * every access inside the ring); per synapse one table lookup, load, add and store. Offsets,
 * not pointers: the inner loop adds one to a single running accumulator pointer. Grouping
 * each column by delay instead would need per-synapse indices (2 bytes each): more flash than
 * the weights. With SLF_USE_DSP, dsp/slf_delays_dsp.h handles blocks of 8 synapses with word
 * loads (8 delays and 8 int8 weights in 3 loads) before the portable loop. The column loops,
 * slf_col_delayed_{s8,s16} and slf_col_delayed_u8_{s8,s16}, are written once for both weight
 * types in slf_delays_typed.h and instantiated at the end of this file.
 * Byte delays (slf_synaptic_delays_u8): see the second half of this file.
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

/* Byte delays: mask = P - 1, P the smallest power of two >= min(depth, 256) (see below). */
SLF_INLINE uint32_t slf_delay_u8_mask(uint32_t depth)
{
    uint32_t p = 1;
    while (p < depth && p < 256u) {
        p <<= 1;
    }
    return p - 1u;
}

#if SLF_USE_DSP
#include "../dsp/slf_delays_dsp.h"
#endif

/* ---------------------------------------------------------------- byte delays
 *
 * slf_synaptic_delays_u8: a delay byte d of a synapse maps to slot (head + (d & mask)) mod depth,
 * mask = P - 1, P the smallest power of two >= min(depth, 256). For a valid delay (d < depth)
 * that is the reference's slot; any byte stays inside the ring, since d & mask < 2 depth. The
 * portable map below finds the slot with two compares per synapse; with SLF_USE_DSP,
 * dsp/slf_delays_dsp.h replaces it by a table of P slot offsets built once per call.
 */

#if !SLF_USE_DSP

typedef struct {
    int32_t *slots;
    uint32_t head, depth, width, mask;
} slf_delay_u8_map;

SLF_INLINE void slf_delay_u8_map_init(slf_delay_u8_map *map, const slf_delay_ring_s32 *ring)
{
    map->slots = ring->slots;
    map->head = ring->head;
    map->depth = ring->depth;
    map->width = ring->width;
    map->mask = slf_delay_u8_mask(ring->depth);
}

/* The accumulators of the slot that delay byte d lands in. */
SLF_INLINE int32_t *slf_delay_u8_slot(const slf_delay_u8_map *map, uint32_t d)
{
    uint32_t slot = map->head + (d & map->mask); /* < 3 depth */
    if (slot >= map->depth) {
        slot -= map->depth;
    }
    if (slot >= map->depth) {
        slot -= map->depth;
    }
    return map->slots + (size_t)slot * map->width;
}

#endif /* !SLF_USE_DSP */

/* The column loops of both delay formats, written once for int8 and int16 weights. */
#define SLF_COL_WEIGHT int8_t
#define SLF_COL_TYPED(name) name##_s8
#include "slf_delays_typed.h"
#define SLF_COL_WEIGHT int16_t
#define SLF_COL_TYPED(name) name##_s16
#include "slf_delays_typed.h"

#endif /* SLF_DELAYS_H */

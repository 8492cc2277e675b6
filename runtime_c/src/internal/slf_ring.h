/* silifc runtime, internal: delay-ring slot addressing (not part of the API).
 * Layout and semantics: slf_delay_ring_s32 in include/slf_common.h. */
#ifndef SLF_RING_H
#define SLF_RING_H

#include "slf_base.h"

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

#endif /* SLF_RING_H */

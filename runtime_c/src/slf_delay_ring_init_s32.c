/* slf_delay_ring_init_s32: bind, zero and rewind a delay ring. Contract: include/slf_synapses.h. */
#include "internal/slf_base.h"

slf_status slf_delay_ring_init_s32(slf_delay_ring_s32 *ring, int32_t *slots, uint16_t depth, uint16_t width)
{
    size_t i, total;

    if (ring == NULL || slots == NULL) {
        return SLF_ERR_NULL;
    }
    if (depth == 0u) {
        return SLF_ERR_SHAPE;
    }
    total = (size_t)depth * width;
    for (i = 0; i < total; i++) {
        slots[i] = 0;
    }
    ring->slots = slots;
    ring->depth = depth;
    ring->width = width;
    ring->head = 0;
    return SLF_OK;
}

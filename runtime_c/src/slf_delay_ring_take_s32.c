/* slf_delay_ring_take_s32: read, clear and advance the current slot. Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_ring.h"

slf_status slf_delay_ring_take_s32(slf_delay_ring_s32 *ring, int32_t *out)
{
    int32_t *slot;
    uint32_t i;
    slf_status status;

    if (ring == NULL || out == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_ring(ring, ring->width);
    if (status != SLF_OK) {
        return status;
    }
    slot = slf_ring_head(ring);
    for (i = 0; i < ring->width; i++) {
        out[i] = slot[i];
        slot[i] = 0;
    }
    slf_ring_advance(ring);
    return SLF_OK;
}

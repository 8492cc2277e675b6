/* silifc runtime, internal: argument checks shared by the kernels (not part of the API).
 * Each returns SLF_OK or the status the kernel returns before writing anything. */
#ifndef SLF_CHECKS_H
#define SLF_CHECKS_H

#include "slf_base.h"

SLF_INLINE slf_status slf_check_ring(const slf_delay_ring_s32 *ring, uint32_t width)
{
    if (ring->slots == NULL) {
        return SLF_ERR_NULL;
    }
    if (ring->depth == 0u || ring->head >= ring->depth || ring->width != width) {
        return SLF_ERR_SHAPE;
    }
    return SLF_OK;
}

/* Arguments shared by the spiking-layer updates (SiLIF, C-SiLIF): every pointer set, the
 * ring `n` wide, and room for n spikes (the list is written branch-free). */
SLF_INLINE slf_status slf_check_spiking_update(const void *neuron, const void *cell, const uint8_t *spiked,
                                               uint32_t n, const slf_delay_ring_s32 *input,
                                               const slf_spike_list *spikes)
{
    slf_status status;
    if (input == NULL || spikes == NULL || neuron == NULL || cell == NULL || spiked == NULL ||
        spikes->index == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_ring(input, n);
    if (status != SLF_OK) {
        return status;
    }
    return spikes->capacity < n ? SLF_ERR_CAPACITY : SLF_OK;
}

SLF_INLINE slf_status slf_check_spikes(const slf_spike_list *spikes, uint32_t n_in)
{
    uint32_t k;
    if (spikes->count > spikes->capacity) {
        return SLF_ERR_SHAPE;
    }
    if (spikes->count != 0u && spikes->index == NULL) {
        return SLF_ERR_NULL;
    }
    for (k = 0; k < spikes->count; k++) {
        if (spikes->index[k] >= n_in) {
            return SLF_ERR_INDEX;
        }
    }
    return SLF_OK;
}

SLF_INLINE slf_status slf_check_events(const slf_event *events, uint32_t n_events, uint32_t n_in)
{
    uint32_t k;
    if (n_events != 0u && events == NULL) {
        return SLF_ERR_NULL;
    }
    for (k = 0; k < n_events; k++) {
        if (events[k].index >= n_in) {
            return SLF_ERR_INDEX;
        }
    }
    return SLF_OK;
}

/* Arguments shared by the accumulation kernels (after their NULL checks): the ring is n_out
 * wide and every input index is < n_in. */
SLF_INLINE slf_status slf_check_spike_input(const slf_delay_ring_s32 *ring, uint32_t n_out,
                                            const slf_spike_list *spikes, uint32_t n_in)
{
    slf_status status = slf_check_ring(ring, n_out);
    return status == SLF_OK ? slf_check_spikes(spikes, n_in) : status;
}

SLF_INLINE slf_status slf_check_event_input(const slf_delay_ring_s32 *ring, uint32_t n_out, const slf_event *events,
                                            uint32_t n_events, uint32_t n_in)
{
    slf_status status = slf_check_ring(ring, n_out);
    return status == SLF_OK ? slf_check_events(events, n_events, n_in) : status;
}

#endif /* SLF_CHECKS_H */

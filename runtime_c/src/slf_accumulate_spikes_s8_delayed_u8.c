/* slf_accumulate_spikes_s8_delayed_u8: spikes x int8 weights with byte per-synapse delays.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_delays.h"

slf_status slf_accumulate_spikes_s8_delayed_u8(const slf_weights_s8 *weights, const slf_synaptic_delays_u8 *delays,
                                               const slf_spike_list *spikes, slf_delay_ring_s32 *ring)
{
    slf_delay_u8_map map;
    const int8_t *data;
    const uint8_t *delay;
    const uint16_t *index;
    uint32_t n_out, count, k;
    slf_status status;

    if (weights == NULL || delays == NULL || spikes == NULL || ring == NULL || weights->data == NULL ||
        delays->delay == NULL) {
        return SLF_ERR_NULL;
    }
    if (delays->n_in != weights->n_in || delays->n_out != weights->n_out) {
        return SLF_ERR_SHAPE;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status != SLF_OK || spikes->count == 0u) {
        return status;
    }

    data = weights->data;
    delay = delays->delay;
    n_out = weights->n_out;
    index = spikes->index;
    count = spikes->count;
    slf_delay_u8_map_init(&map, ring); /* once per call, not per synapse */
    for (k = 0; k < count; k++) {
        size_t column = (size_t)index[k] * n_out;
        slf_col_delayed_u8_s8(&map, data + column, delay + column, n_out, 1);
    }
    return SLF_OK;
}

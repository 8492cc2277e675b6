/* slf_accumulate_spikes_s16_axonal: spikes x int16 weights, one delay per presynaptic input.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_columns.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_spikes_s16_axonal(const slf_weights_s16 *weights, const slf_axonal_delays *delays,
                                           const slf_spike_list *spikes, slf_delay_ring_s32 *ring)
{
    const int16_t *data;
    const uint8_t *delay;
    const uint16_t *index;
    const int16_t *pending = NULL; /* a column waiting for a partner with the same delay */
    uint32_t pending_delay = 0, n_out, count, k;
    slf_status status;

    if (weights == NULL || delays == NULL || spikes == NULL || ring == NULL || weights->data == NULL ||
        delays->delay == NULL) {
        return SLF_ERR_NULL;
    }
    if (delays->n_in != weights->n_in) {
        return SLF_ERR_SHAPE;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }
    delay = delays->delay;
    index = spikes->index;
    count = spikes->count;
    for (k = 0; k < count; k++) {
        if (delay[index[k]] >= ring->depth) {
            return SLF_ERR_INDEX;
        }
    }

    data = weights->data;
    n_out = weights->n_out;
    for (k = 0; k < count; k++) {
        const int16_t *column = data + (size_t)index[k] * n_out;
        uint32_t d = delay[index[k]];
        if (pending != NULL && pending_delay == d) {
            slf_col_add2_s16(slf_ring_slot(ring, d), pending, column, n_out);
            pending = NULL;
        } else {
            if (pending != NULL) {
                slf_col_add_s16(slf_ring_slot(ring, pending_delay), pending, n_out);
            }
            pending = column;
            pending_delay = d;
        }
    }
    if (pending != NULL) {
        slf_col_add_s16(slf_ring_slot(ring, pending_delay), pending, n_out);
    }
    return SLF_OK;
}

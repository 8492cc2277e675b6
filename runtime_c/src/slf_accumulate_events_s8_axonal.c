/* slf_accumulate_events_s8_axonal: input events x int8 weights, one delay per input.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_columns.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_events_s8_axonal(const slf_weights_s8 *weights, const slf_axonal_delays *delays,
                                           const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring)
{
    const int8_t *data;
    const uint8_t *delay;
    const int8_t *pending = NULL; /* a count-1 column waiting for a partner with the same delay */
    uint32_t pending_delay = 0, n_out, k;
    slf_status status;

    if (weights == NULL || delays == NULL || ring == NULL || weights->data == NULL || delays->delay == NULL) {
        return SLF_ERR_NULL;
    }
    if (delays->n_in != weights->n_in) {
        return SLF_ERR_SHAPE;
    }
    status = slf_check_event_input(ring, weights->n_out, events, n_events, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }
    delay = delays->delay;
    for (k = 0; k < n_events; k++) {
        if (delay[events[k].index] >= ring->depth) {
            return SLF_ERR_INDEX;
        }
    }

    data = weights->data;
    n_out = weights->n_out;
    for (k = 0; k < n_events; k++) {
        const int8_t *column = data + (size_t)events[k].index * n_out;
        uint32_t d = delay[events[k].index];
        uint32_t count = events[k].count;
        if (count == 1u) {
            if (pending != NULL && pending_delay == d) {
                slf_col_add2_s8(slf_ring_slot(ring, d), pending, column, n_out);
                pending = NULL;
            } else {
                if (pending != NULL) {
                    slf_col_add_s8(slf_ring_slot(ring, pending_delay), pending, n_out);
                }
                pending = column;
                pending_delay = d;
            }
        } else if (count != 0u) {
            slf_col_mul_s8(slf_ring_slot(ring, d), column, n_out, count);
        }
    }
    if (pending != NULL) {
        slf_col_add_s8(slf_ring_slot(ring, pending_delay), pending, n_out);
    }
    return SLF_OK;
}

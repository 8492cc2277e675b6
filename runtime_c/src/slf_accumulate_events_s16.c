/* slf_accumulate_events_s16: input events (index, count) x int16 weights -> ring slot `head`.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_columns.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_events_s16(const slf_weights_s16 *weights, const slf_event *events, uint16_t n_events,
                                    slf_delay_ring_s32 *ring)
{
    const int16_t *data;
    const int16_t *pending = NULL; /* a count-1 column waiting for a partner */
    int32_t *acc;
    uint32_t n_out, k;
    slf_status status;

    if (weights == NULL || ring == NULL || weights->data == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_event_input(ring, weights->n_out, events, n_events, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    acc = slf_ring_head(ring);
    for (k = 0; k < n_events; k++) {
        const int16_t *column = data + (size_t)events[k].index * n_out;
        uint32_t count = events[k].count;
        if (count == 1u) {
            /* Pair single events as the spike kernel does: one pass for two columns. */
            if (pending != NULL) {
                slf_col_add2_s16(acc, pending, column, n_out);
                pending = NULL;
            } else {
                pending = column;
            }
        } else if (count != 0u) {
            slf_col_mul_s16(acc, column, n_out, count);
        }
    }
    if (pending != NULL) {
        slf_col_add_s16(acc, pending, n_out);
    }
    return SLF_OK;
}

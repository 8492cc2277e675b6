/* slf_accumulate_events_s8_lanes16: input events (index, count) x int8 weights, summed in packed
 * 16-bit lanes, -> ring slot `head`. Contract: include/slf_synapses.h; why chunks of
 * SLF_LANES16_CHUNK column additions are exact for any weights and counts:
 * internal/slf_lanes16.h; the lane passes (one per path): dsp/ and portable/slf_internal_lanes16_pass.c. */
#include "internal/slf_lanes16.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_events_s8_lanes16(const slf_weights_s8 *weights, const slf_event *events,
                                            uint16_t n_events, const slf_lanes16_scratch *scratch,
                                            slf_delay_ring_s32 *ring)
{
    uint16_t batch_index[SLF_LANES16_BATCH];
    const int8_t *data;
    uint32_t *lanes;
    int32_t *acc;
    uint32_t n_out, batch = 0, in_lanes = 0, k;
    slf_status status;

    if (weights == NULL || scratch == NULL || ring == NULL || weights->data == NULL || scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_event_input(ring, weights->n_out, events, n_events, weights->n_in);
    if (status == SLF_OK) {
        status = slf_check_lanes16_scratch(scratch, weights->n_out);
    }
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    lanes = scratch->word;
    acc = slf_ring_head(ring);
    /* An event of count n is its index n times; full batches of SLF_LANES16_BATCH indices go into
     * the lanes, which are widened into the slot every SLF_LANES16_CHUNK columns. */
    for (k = 0; k < n_events; k++) {
        uint32_t count = events[k].count;
        for (; count != 0u; count--) {
            batch_index[batch++] = events[k].index;
            if (batch == SLF_LANES16_BATCH) {
                slf_internal_lanes16_add(lanes, data, n_out, batch_index, batch, in_lanes == 0u);
                in_lanes += batch;
                batch = 0;
                if (in_lanes == SLF_LANES16_CHUNK) {
                    slf_internal_lanes16_widen(acc, lanes, n_out);
                    in_lanes = 0;
                }
            }
        }
    }
    if (in_lanes == 0u) {
        /* the lanes hold nothing: the rest (up to two columns straight into the slot) on its own */
        slf_internal_lanes16_sum(acc, lanes, data, n_out, batch_index, batch);
    } else {
        if (batch != 0u) {
            slf_internal_lanes16_add(lanes, data, n_out, batch_index, batch, 0);
        }
        slf_internal_lanes16_widen(acc, lanes, n_out);
    }
    return SLF_OK;
}

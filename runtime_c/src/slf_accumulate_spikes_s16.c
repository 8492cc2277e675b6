/* slf_accumulate_spikes_s16: hidden-layer spikes x int16 weights -> ring slot `head`.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_columns.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_spikes_s16(const slf_weights_s16 *weights, const slf_spike_list *spikes,
                                    slf_delay_ring_s32 *ring)
{
    const int16_t *data;
    const uint16_t *index;
    int32_t *acc;
    uint32_t n_out, count, k;
    slf_status status;

    if (weights == NULL || spikes == NULL || ring == NULL || weights->data == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    index = spikes->index;
    count = spikes->count;
    acc = slf_ring_head(ring);
    /* Two inputs per pass: the accumulators are loaded and stored once for both. */
    for (k = 0; k + 2u <= count; k += 2u) {
        slf_col_add2_s16(acc, data + (size_t)index[k] * n_out, data + (size_t)index[k + 1u] * n_out, n_out);
    }
    if (k < count) {
        slf_col_add_s16(acc, data + (size_t)index[k] * n_out, n_out);
    }
    return SLF_OK;
}

/* slf_accumulate_spikes_s8_lanes16: hidden-layer spikes x int8 weights, summed in packed 16-bit
 * lanes, -> ring slot `head`. Contract: include/slf_synapses.h; the lane sum (one per path):
 * dsp/ and portable/slf_internal_lanes16_sum.c. */
#include "internal/slf_columns.h"
#include "internal/slf_lanes16.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_spikes_s8_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                            const slf_lanes16_scratch *scratch, slf_delay_ring_s32 *ring)
{
    const int8_t *data;
    const uint16_t *index;
    int32_t *acc;
    uint32_t n_out, count;
    slf_status status;

    if (weights == NULL || spikes == NULL || scratch == NULL || ring == NULL || weights->data == NULL ||
        scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status == SLF_OK) {
        status = slf_check_lanes16_scratch(scratch, weights->n_out);
    }
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    index = spikes->index;
    count = spikes->count;
    acc = slf_ring_head(ring);
    /* Up to two spikes: no lanes (one pass straight into the slot is cheaper); the sums are
     * in [-256, 254], so sext16 changes nothing. */
    if (count < 3u) {
        if (count == 2u) {
            slf_col_add2_s8(acc, data + (size_t)index[0] * n_out, data + (size_t)index[1] * n_out, n_out);
        } else if (count == 1u) {
            slf_col_add_s8(acc, data + (size_t)index[0] * n_out, n_out);
        }
        return SLF_OK;
    }
    slf_internal_lanes16_add(scratch->word, data, n_out, index, count, 1);
    slf_internal_lanes16_widen(acc, scratch->word, n_out);
    return SLF_OK;
}

/* slf_accumulate_spikes_s8_lanes16: hidden-layer spikes x int8 weights, summed in packed 16-bit
 * lanes, -> ring slot `head`. Contract: include/slf_synapses.h; the lane sum (one per path):
 * src/slf_internal_lanes16_sum.c. */
#include "internal/slf_lanes16.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_spikes_s8_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                            const slf_lanes16_scratch *scratch, slf_delay_ring_s32 *ring)
{
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

    slf_internal_lanes16_sum(slf_ring_head(ring), scratch->word, weights->data, weights->n_out, spikes->index,
                             spikes->count);
    return SLF_OK;
}

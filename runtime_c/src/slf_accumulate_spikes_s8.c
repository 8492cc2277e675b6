/* slf_accumulate_spikes_s8: hidden-layer spikes x int8 weights -> ring slot `head`.
 * Contract: include/slf_synapses.h. */
#include "slf_internal.h"

slf_status slf_accumulate_spikes_s8(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                    slf_delay_ring_s32 *ring)
{
    slf_status status;

    if (weights == NULL || spikes == NULL || ring == NULL || weights->data == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }
    slf_spikes_add_s8(slf_ring_head(ring), weights->data, weights->n_out, spikes->index, spikes->count);
    return SLF_OK;
}

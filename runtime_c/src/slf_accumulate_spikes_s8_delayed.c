/* slf_accumulate_spikes_s8_delayed: spikes x int8 weights with 4-bit per-synapse delays.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_checks.h"
#include "internal/slf_delays.h"
#include "internal/slf_ring.h"

slf_status slf_accumulate_spikes_s8_delayed(const slf_weights_s8 *weights, const slf_synaptic_delays *delays,
                                            const slf_spike_list *spikes, slf_delay_ring_s32 *ring)
{
    ptrdiff_t shift_of[16];
    int32_t *acc;
    const int8_t *data;
    const uint8_t *nibble;
    const uint16_t *index;
    uint32_t n_out, stride, count, k;
    slf_status status;

    if (weights == NULL || delays == NULL || spikes == NULL || ring == NULL || weights->data == NULL ||
        delays->nibble == NULL) {
        return SLF_ERR_NULL;
    }
    if (delays->n_in != weights->n_in || delays->n_out != weights->n_out) {
        return SLF_ERR_SHAPE;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    nibble = delays->nibble;
    n_out = weights->n_out;
    stride = (n_out + 1u) >> 1;
    index = spikes->index;
    count = spikes->count;
    /* 16 slot offsets per call (not per synapse): the inner loop is a table lookup. */
    slf_delay_offsets(ring, shift_of);
    acc = slf_ring_head(ring);
    for (k = 0; k < count; k++) {
        uint32_t j = index[k];
        slf_col_delayed_s8(acc, shift_of, data + (size_t)j * n_out, nibble + (size_t)j * stride, n_out, 1);
    }
    return SLF_OK;
}

/* silifc runtime, internal (not part of the API): the one body of
 * slf_accumulate_spikes_s8_delayed and slf_accumulate_spikes_s16_delayed, spikes x int8 or
 * int16 weights with 4-bit per-synapse delays (contract: include/slf_synapses.h).
 *
 * The two kernels differ only in the weight type and the names that carry it, so each kernel
 * file (src/<kernel>.c) defines these, then includes this body once:
 *   SLF_KERNEL       the function's name
 *   SLF_WEIGHT       the weight type: int8_t or int16_t
 *   SLF_TYPED(name)  name##_s8 or name##_s16: the weight table type and the column loops
 */
#if !defined(SLF_KERNEL) || !defined(SLF_WEIGHT) || !defined(SLF_TYPED)
#error "define SLF_KERNEL, SLF_WEIGHT and SLF_TYPED before including a kernel body"
#endif

#include "slf_checks.h"
#include "slf_delays.h"
#include "slf_ring.h"

slf_status SLF_KERNEL(const SLF_TYPED(slf_weights) *weights, const slf_synaptic_delays *delays,
                      const slf_spike_list *spikes, slf_delay_ring_s32 *ring)
{
    ptrdiff_t shift_of[16];
    int32_t *acc;
    const SLF_WEIGHT *data;
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
        SLF_TYPED(slf_col_delayed)(acc, shift_of, data + (size_t)j * n_out, nibble + (size_t)j * stride,
                                   n_out, 1);
    }
    return SLF_OK;
}

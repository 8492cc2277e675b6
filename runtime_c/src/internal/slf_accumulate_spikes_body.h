/* silifc runtime, internal (not part of the API): the one body of slf_accumulate_spikes_s8 and
 * slf_accumulate_spikes_s16, hidden-layer spikes x int8 or int16 weights -> ring slot `head`
 * (contract: include/slf_synapses.h).
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
#include "slf_columns.h"
#include "slf_ring.h"

slf_status SLF_KERNEL(const SLF_TYPED(slf_weights) *weights, const slf_spike_list *spikes,
                      slf_delay_ring_s32 *ring)
{
    const SLF_WEIGHT *data;
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
        SLF_TYPED(slf_col_add2)(acc, data + (size_t)index[k] * n_out, data + (size_t)index[k + 1u] * n_out,
                                n_out);
    }
    if (k < count) {
        SLF_TYPED(slf_col_add)(acc, data + (size_t)index[k] * n_out, n_out);
    }
    return SLF_OK;
}

/* slf_dense_spikes_s8, portable reference: dense 0/1 spike vector x offset-binary int8 weights
 * -> ring slot `head`. Contract: include/slf_dense.h; the Cortex-M DSP version (dsp/) sums the
 * same products with USADA8. */
#include "../internal/slf_dense_rows.h"
#include "../internal/slf_ring.h"
#include "slf_portable.h"

slf_status slf_dense_spikes_s8(const slf_dense_weights_s8 *weights, const uint8_t *spiked,
                               const slf_dense_scratch *scratch, slf_delay_ring_s32 *ring)
{
    slf_status status = spiked == NULL ? SLF_ERR_NULL : slf_check_dense(weights, scratch, ring);
    if (status != SLF_OK) {
        return status;
    }
    if (scratch->n_words < SLF_DENSE_SPIKES_SCRATCH_WORDS(weights->n_in)) {
        return SLF_ERR_CAPACITY;
    }
    slf_dense_spikes_rows(slf_ring_head(ring), weights->data, spiked, weights->n_in, weights->n_out,
                          SLF_DENSE_STRIDE(weights->n_in));
    return SLF_OK;
}

/* slf_dense_events_s8, portable reference: input events scattered into a dense count vector x
 * offset-binary int8 weights -> ring slot `head`. Contract: include/slf_dense.h; the count vector:
 * internal/slf_dense_rows.h; the Cortex-M DSP version (dsp/) sums the same products with USADA8
 * per bit plane or SMLAD. */
#include "../internal/slf_dense_rows.h"
#include "../internal/slf_ring.h"
#include "slf_portable.h"

slf_status slf_dense_events_s8(const slf_dense_weights_s8 *weights, const slf_event *events, uint16_t n_events,
                               const slf_dense_scratch *scratch, slf_delay_ring_s32 *ring)
{
    uint32_t n_in, stride, total128;
    slf_status status = slf_check_dense(weights, scratch, ring);
    if (status == SLF_OK) {
        status = slf_check_events(events, n_events, weights->n_in);
    }
    if (status != SLF_OK) {
        return status;
    }
    n_in = weights->n_in;
    stride = SLF_DENSE_STRIDE(n_in);
    if (scratch->n_words < SLF_DENSE_EVENTS_SCRATCH_WORDS(n_in)) {
        return SLF_ERR_CAPACITY;
    }
    total128 = slf_dense_counts(scratch->word, stride / 2u, events, n_events);
    slf_dense_events_rows(slf_ring_head(ring), weights->data, scratch->word, n_in, weights->n_out, stride,
                          total128);
    return SLF_OK;
}

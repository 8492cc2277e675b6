/* silifc runtime, internal (not part of the API): the one body of slf_accumulate_events_s8 and
 * slf_accumulate_events_s16, input events (index, count) x int8 or int16 weights -> ring slot
 * `head` (contract: include/slf_synapses.h).
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

slf_status SLF_KERNEL(const SLF_TYPED(slf_weights) *weights, const slf_event *events, uint16_t n_events,
                      slf_delay_ring_s32 *ring)
{
    const SLF_WEIGHT *data;
    const SLF_WEIGHT *pending = NULL; /* a count-1 column waiting for a partner */
    int32_t *acc;
    uint32_t n_out, k;
    slf_status status;

    if (weights == NULL || ring == NULL || weights->data == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_event_input(ring, weights->n_out, events, n_events, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    acc = slf_ring_head(ring);
    for (k = 0; k < n_events; k++) {
        const SLF_WEIGHT *column = data + (size_t)events[k].index * n_out;
        uint32_t count = events[k].count;
        if (count == 1u) {
            /* Pair single events as the spike kernel does: one pass for two columns. */
            if (pending != NULL) {
                SLF_TYPED(slf_col_add2)(acc, pending, column, n_out);
                pending = NULL;
            } else {
                pending = column;
            }
        } else if (count != 0u) {
            SLF_TYPED(slf_col_mul)(acc, column, n_out, count);
        }
    }
    if (pending != NULL) {
        SLF_TYPED(slf_col_add)(acc, pending, n_out);
    }
    return SLF_OK;
}

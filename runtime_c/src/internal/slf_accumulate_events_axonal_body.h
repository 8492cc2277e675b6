/* silifc runtime, internal (not part of the API): the one body of
 * slf_accumulate_events_s8_axonal and slf_accumulate_events_s16_axonal, input events x int8 or
 * int16 weights, one delay per input (contract: include/slf_synapses.h).
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

slf_status SLF_KERNEL(const SLF_TYPED(slf_weights) *weights, const slf_axonal_delays *delays,
                      const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring)
{
    const SLF_WEIGHT *data;
    const uint8_t *delay;
    const SLF_WEIGHT *pending = NULL; /* a count-1 column waiting for a partner with the same delay */
    uint32_t pending_delay = 0, n_out, k;
    slf_status status;

    if (weights == NULL || delays == NULL || ring == NULL || weights->data == NULL || delays->delay == NULL) {
        return SLF_ERR_NULL;
    }
    if (delays->n_in != weights->n_in) {
        return SLF_ERR_SHAPE;
    }
    status = slf_check_event_input(ring, weights->n_out, events, n_events, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }
    delay = delays->delay;
    for (k = 0; k < n_events; k++) {
        if (delay[events[k].index] >= ring->depth) {
            return SLF_ERR_INDEX;
        }
    }

    data = weights->data;
    n_out = weights->n_out;
    for (k = 0; k < n_events; k++) {
        const SLF_WEIGHT *column = data + (size_t)events[k].index * n_out;
        uint32_t d = delay[events[k].index];
        uint32_t count = events[k].count;
        if (count == 1u) {
            if (pending != NULL && pending_delay == d) {
                SLF_TYPED(slf_col_add2)(slf_ring_slot(ring, d), pending, column, n_out);
                pending = NULL;
            } else {
                if (pending != NULL) {
                    SLF_TYPED(slf_col_add)(slf_ring_slot(ring, pending_delay), pending, n_out);
                }
                pending = column;
                pending_delay = d;
            }
        } else if (count != 0u) {
            SLF_TYPED(slf_col_mul)(slf_ring_slot(ring, d), column, n_out, count);
        }
    }
    if (pending != NULL) {
        SLF_TYPED(slf_col_add)(slf_ring_slot(ring, pending_delay), pending, n_out);
    }
    return SLF_OK;
}

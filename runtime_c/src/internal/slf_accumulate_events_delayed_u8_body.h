/* silifc runtime, internal (not part of the API): the one body of
 * slf_accumulate_events_s8_delayed_u8 and slf_accumulate_events_s16_delayed_u8, input events x
 * int8 or int16 weights with byte per-synapse delays (contract: include/slf_synapses.h).
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

slf_status SLF_KERNEL(const SLF_TYPED(slf_weights) *weights, const slf_synaptic_delays_u8 *delays,
                      const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring)
{
    slf_delay_u8_map map;
    const SLF_WEIGHT *data;
    const uint8_t *delay;
    uint32_t n_out, k;
    slf_status status;

    if (weights == NULL || delays == NULL || ring == NULL || weights->data == NULL || delays->delay == NULL) {
        return SLF_ERR_NULL;
    }
    if (delays->n_in != weights->n_in || delays->n_out != weights->n_out) {
        return SLF_ERR_SHAPE;
    }
    status = slf_check_event_input(ring, weights->n_out, events, n_events, weights->n_in);
    if (status != SLF_OK || n_events == 0u) {
        return status;
    }

    data = weights->data;
    delay = delays->delay;
    n_out = weights->n_out;
    slf_delay_u8_map_init(&map, ring); /* once per call, not per synapse */
    for (k = 0; k < n_events; k++) {
        size_t column = (size_t)events[k].index * n_out;
        int32_t count = events[k].count;
        if (count == 1) {
            SLF_TYPED(slf_col_delayed_u8)(&map, data + column, delay + column, n_out, 1);
        } else if (count != 0) {
            SLF_TYPED(slf_col_delayed_u8)(&map, data + column, delay + column, n_out, count);
        }
    }
    return SLF_OK;
}

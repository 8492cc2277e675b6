/* slf_synaptic_delays_u8_check: one-time validation of a byte delay table.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_base.h"

slf_status slf_synaptic_delays_u8_check(const slf_synaptic_delays_u8 *delays, uint16_t depth)
{
    size_t k, total;

    if (delays == NULL || (delays->delay == NULL && delays->n_in != 0u && delays->n_out != 0u)) {
        return SLF_ERR_NULL;
    }
    if (depth == 0u) {
        return SLF_ERR_SHAPE;
    }
    total = (size_t)delays->n_in * delays->n_out;
    for (k = 0; k < total; k++) {
        if (delays->delay[k] >= depth) {
            return SLF_ERR_INDEX;
        }
    }
    return SLF_OK;
}

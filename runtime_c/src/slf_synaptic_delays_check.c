/* slf_synaptic_delays_check: one-time validation of a 4-bit delay table.
 * Contract: include/slf_synapses.h. */
#include "internal/slf_base.h"

slf_status slf_synaptic_delays_check(const slf_synaptic_delays *delays, uint16_t depth)
{
    uint32_t j, i, stride;

    if (delays == NULL || (delays->nibble == NULL && delays->n_in != 0u && delays->n_out != 0u)) {
        return SLF_ERR_NULL;
    }
    if (depth == 0u) {
        return SLF_ERR_SHAPE;
    }
    stride = ((uint32_t)delays->n_out + 1u) >> 1;
    for (j = 0; j < delays->n_in; j++) {
        const uint8_t *column = delays->nibble + (size_t)j * stride;
        for (i = 0; i < delays->n_out; i++) {
            uint32_t d = (uint32_t)(column[i >> 1] >> ((i & 1u) * 4u)) & 15u;
            if (d >= depth) {
                return SLF_ERR_INDEX;
            }
        }
    }
    return SLF_OK;
}

/* slf_lanes16_weights_check_s8: one-time proof that slf_accumulate_spikes_s8_lanes16 is exact
 * for a weight matrix. Contract: include/slf_synapses.h. */
#include "slf_internal.h"

slf_status slf_lanes16_weights_check_s8(const slf_weights_s8 *weights)
{
    uint32_t i, j;

    if (weights == NULL || (weights->data == NULL && weights->n_in != 0u && weights->n_out != 0u)) {
        return SLF_ERR_NULL;
    }
    for (i = 0; i < weights->n_out; i++) {
        uint32_t positive = 0, negative = 0;
        for (j = 0; j < weights->n_in; j++) {
            int32_t q = weights->data[(size_t)j * weights->n_out + i];
            if (q > 0) {
                positive += (uint32_t)q;
            } else {
                negative += (uint32_t)-q;
            }
        }
        if (positive > 32767u || negative > 32768u) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

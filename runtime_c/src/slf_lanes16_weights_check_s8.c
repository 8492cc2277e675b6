/* slf_lanes16_weights_check_s8: one-time check that slf_accumulate_spikes_s8_lanes16 is exact
 * for a weight matrix (the subset-sum bound of quantize.subset_sum_bound).
 * Contract: include/slf_synapses.h. */
#include "internal/slf_base.h"

/* Largest |subset sum| of one output's weights that a 16-bit lane holds exactly (the negative
 * side could reach -32768; the bound is kept symmetric, as the compiler's). */
#define SLF_LANES16_LIMIT 32767u

slf_status slf_lanes16_weights_check_s8(const slf_weights_s8 *weights)
{
    uint32_t i, j, n_in, n_out;

    if (weights == NULL) {
        return SLF_ERR_NULL;
    }
    n_in = weights->n_in;
    n_out = weights->n_out;
    if (weights->data == NULL && n_in != 0u && n_out != 0u) {
        return SLF_ERR_NULL;
    }
    for (i = 0; i < n_out; i++) {
        const int8_t *q = weights->data + i;
        uint32_t positive = 0, negative = 0; /* <= 65535 * 128: no overflow */
        for (j = 0; j < n_in; j++, q += n_out) {
            if (*q > 0) {
                positive += (uint32_t)*q;
            } else {
                negative += (uint32_t)-*q;
            }
        }
        if (positive > SLF_LANES16_LIMIT || negative > SLF_LANES16_LIMIT) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

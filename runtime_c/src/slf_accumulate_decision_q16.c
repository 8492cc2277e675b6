/* slf_accumulate_decision_q16: add this step's softmax to the decision totals.
 * Contract: include/slf_decision.h. */
#include "slf_internal.h"

slf_status slf_accumulate_decision_q16(const slf_readout_layer *layer, const int32_t *u, int32_t *total)
{
    int32_t p[SLF_MAX_CLASSES];
    uint32_t k;
    slf_status status;

    if (layer == NULL || u == NULL || total == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_softmax_q16(u, layer->n, layer->exp_mult, layer->exp_shift, p);
    if (status != SLF_OK) {
        return status;
    }
    for (k = 0; k < layer->n; k++) {
        /* p in [0, 2^16]: saturate at INT32_MAX without overflowing. */
        total[k] = total[k] > INT32_MAX - p[k] ? INT32_MAX : total[k] + p[k];
    }
    return SLF_OK;
}

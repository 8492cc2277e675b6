/* slf_accumulate_decision_q16: add this step's softmax to the decision totals.
 * Contract: include/slf_decision.h. */
#include "internal/slf_softmax.h"

slf_status slf_accumulate_decision_q16(const slf_readout_layer *layer, const int32_t *u, int32_t *total)
{
    uint32_t e[SLF_MAX_CLASSES];
    uint32_t k, n, reciprocal;

    if (layer == NULL || u == NULL || total == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    if (n == 0u || n > SLF_MAX_CLASSES) {
        return SLF_ERR_SHAPE;
    }
    reciprocal = slf_internal_softmax_exp(u, n, layer->exp_mult, layer->exp_shift, e);
    for (k = 0; k < n; k++) {
        total[k] = slf_add_sat_q16(total[k], slf_softmax_prob(e[k], reciprocal));
    }
    return SLF_OK;
}

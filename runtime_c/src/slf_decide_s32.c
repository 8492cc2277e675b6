/* slf_decide_s32: argmax of the decision totals, lowest index on ties. Contract: include/slf_decision.h. */
#include "internal/slf_base.h"

slf_status slf_decide_s32(const int32_t *total, uint16_t n, uint16_t *decision)
{
    uint32_t k, best = 0;

    if (total == NULL || decision == NULL) {
        return SLF_ERR_NULL;
    }
    if (n == 0u) {
        return SLF_ERR_SHAPE;
    }
    for (k = 1; k < n; k++) {
        if (total[k] > total[best]) { /* strict: an equal later total does not win */
            best = k;
        }
    }
    *decision = (uint16_t)best;
    return SLF_OK;
}

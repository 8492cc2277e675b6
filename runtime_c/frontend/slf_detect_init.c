/* silifc runtime: keyword detector parameter check and state initialisation (slf_detect.h). */
#include "slf_detect.h"

slf_status slf_detect_check(const slf_detect_params *params)
{
    if (!params)
        return SLF_ERR_NULL;
    if (params->classes < 1 || params->classes > SLF_MAX_CLASSES)
        return SLF_ERR_PARAM;
    if (params->keywords < 1 || params->keywords > params->classes)
        return SLF_ERR_PARAM;
    if (params->shift > SLF_DETECT_MAX_SHIFT || params->on < 1 || params->off > params->on)
        return SLF_ERR_PARAM;
    return SLF_OK;
}

slf_status slf_detect_init(slf_detect_state *state, uint32_t *acc, const slf_detect_params *params)
{
    slf_status status = slf_detect_check(params);
    if (status != SLF_OK)
        return status;
    if (!state || !acc)
        return SLF_ERR_NULL;
    for (uint32_t k = 0; k < params->classes; k++)
        acc[k] = 0;
    state->acc = acc;
    state->hold = 0;
    state->last = SLF_DETECT_NONE;
    state->idle = 1;
    return SLF_OK;
}

/* silifc runtime: audio front end parameter check and state initialisation (slf_frontend.h). */
#include "slf_frontend.h"

slf_status slf_frontend_check(const slf_frontend_params *params)
{
    if (!params || !params->neg_a1 || !params->neg_a2 || !params->log_gain)
        return SLF_ERR_NULL;
    if (params->bands < 1 || params->bands > SLF_FRONTEND_MAX_BANDS)
        return SLF_ERR_PARAM;
    /* Even: the resonator loop is unrolled by two samples. */
    if (params->step_samples < 2 || params->step_samples > SLF_FRONTEND_MAX_STEP_SAMPLES ||
        params->step_samples % 2u != 0)
        return SLF_ERR_PARAM;
    if (params->input_shift > SLF_FRONTEND_MAX_INPUT_SHIFT || params->env_shift > SLF_FRONTEND_MAX_SHIFT ||
        params->floor_rise_shift > SLF_FRONTEND_MAX_SHIFT || params->floor_fall_shift > SLF_FRONTEND_MAX_SHIFT)
        return SLF_ERR_PARAM;
    if (params->max_count < 1 || params->offset < 0 || params->threshold < 1 || params->threshold > (1u << 20))
        return SLF_ERR_PARAM;
    /* Levels stay far inside int32 after the Q14 scaling of the floor tracker. */
    if (params->min_level < -(1 << 20) || params->min_level > (1 << 20) || params->offset > (1 << 20))
        return SLF_ERR_PARAM;
    for (uint32_t b = 0; b < params->bands; b++)
        if (params->log_gain[b] < -(1 << 20) || params->log_gain[b] > (1 << 20))
            return SLF_ERR_PARAM;
    return SLF_OK;
}

slf_status slf_frontend_init(slf_frontend_state *state, slf_frontend_band_state *band_states,
                             const slf_frontend_params *params)
{
    slf_status status = slf_frontend_check(params);
    if (status != SLF_OK)
        return status;
    if (!state || !band_states)
        return SLF_ERR_NULL;
    state->x1 = 0;
    state->x2 = 0;
    state->started = 0;
    state->band = band_states;
    for (uint32_t b = 0; b < params->bands; b++) {
        band_states[b].y1 = 0;
        band_states[b].y2 = 0;
        band_states[b].env = 0;
        band_states[b].floor = 0;
        band_states[b].charge = 0;
    }
    return SLF_OK;
}

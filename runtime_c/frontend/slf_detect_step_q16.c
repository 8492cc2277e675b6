/* silifc runtime: one step of the keyword detector (contract in slf_detect.h). */
#include "slf_detect.h"

int16_t slf_detect_step_q16(slf_detect_state *state, const slf_detect_params *params, const int32_t *p)
{
    uint32_t *acc = state->acc;
    const uint32_t classes = params->classes, keywords = params->keywords, shift = params->shift;
    uint32_t best = 0, best_value = 0, active = 0;
    for (uint32_t k = 0; k < classes; k++) {
        /* Unsigned: defined for any p; inside the contract nothing wraps. */
        uint32_t value = acc[k] - (acc[k] >> shift) + (uint32_t)p[k];
        acc[k] = value;
        if (value > best_value || k == 0) { /* strict >: the lowest index wins a tie */
            best = k;
            best_value = value;
        }
    }
    if (state->hold > 0)
        state->hold--;
    if (state->last >= 0 && acc[state->last] < params->off)
        state->last = SLF_DETECT_NONE;
    int16_t detected = SLF_DETECT_NONE;
    if (state->hold == 0 && best < keywords && (int32_t)best != state->last && best_value >= params->on) {
        detected = (int16_t)best;
        state->last = detected;
        state->hold = params->hold_steps;
    }
    for (uint32_t k = 0; k < keywords; k++)
        active |= acc[k] >= params->off;
    state->idle = (uint8_t)(state->hold == 0 && !active);
    return detected;
}

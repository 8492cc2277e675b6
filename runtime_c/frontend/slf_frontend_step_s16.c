/* silifc runtime: one step of the integer audio front end (contract in slf_frontend.h). */
#include "slf_frontend.h"

const uint8_t slf_frontend_log2_table[SLF_FRONTEND_LOG_TABLE_SIZE] = {
    0,  1,  3,  4,  6,  7,  8,  10, 11, 12, 13, 15, 16, 17, 18, 19,
    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 35, 36,
    37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 47, 48, 49, 50, 51,
    52, 52, 53, 54, 55, 56, 56, 57, 58, 59, 60, 60, 61, 62, 63, 63,
};

/* Leading zeros of v > 0. CLZ on Cortex-M3 and up; the portable path finds the same. */
static uint32_t leading_zeros(uint32_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return (uint32_t)__builtin_clz(v);
#else
    uint32_t n = 0;
    if (!(v & 0xFFFF0000u)) { n += 16; v <<= 16; }
    if (!(v & 0xFF000000u)) { n += 8; v <<= 8; }
    if (!(v & 0xF0000000u)) { n += 4; v <<= 4; }
    if (!(v & 0xC0000000u)) { n += 2; v <<= 2; }
    if (!(v & 0x80000000u)) { n += 1; }
    return n;
#endif
}

/* floor(log2 v) * 64 + table[6 bits below the leading one], 0 <= v < 2^63; v = 0 counts as 1. */
static int32_t log2_q6(int64_t value)
{
    uint64_t v = value > 0 ? (uint64_t)value : 1u;
    uint32_t high = (uint32_t)(v >> 32), top, msb;
    if (high) {
        uint32_t zeros = leading_zeros(high);
        /* The leading one moved to bit 31; low bits refill from the lower word. */
        top = zeros ? (high << zeros) | ((uint32_t)v >> (32 - zeros)) : high;
        msb = 63 - zeros;
    } else {
        uint32_t zeros = leading_zeros((uint32_t)v);
        top = (uint32_t)v << zeros;
        msb = 31 - zeros;
    }
    uint32_t index = (top >> (31 - 6)) & (SLF_FRONTEND_LOG_TABLE_SIZE - 1u);
    return (int32_t)(msb << SLF_FRONTEND_LOG_FRAC_BITS) + (int32_t)slf_frontend_log2_table[index];
}

/* (pre + na1 * y1 + na2 * y2) >> 30, where pre already holds d * 2^30 + 2^29 (the rounding
 * term): one LDRD and two SMLAL. The result fits int32 by the design's bound on |y|. */
static inline int32_t resonate(int64_t pre, int32_t na1, int32_t y1, int32_t na2, int32_t y2)
{
    pre += (int64_t)na1 * y1;
    pre += (int64_t)na2 * y2;
    return (int32_t)(pre >> SLF_FRONTEND_COEF_FRAC_BITS);
}

void slf_frontend_step_s16(slf_frontend_state *state, const slf_frontend_params *params,
                           const int16_t *pcm, uint8_t *counts)
{
    int64_t pre[SLF_FRONTEND_MAX_STEP_SAMPLES];
    const uint32_t n_samples = params->step_samples;
    const int32_t scale = (int32_t)1 << params->input_shift;
    const int64_t round = (int64_t)1 << (SLF_FRONTEND_COEF_FRAC_BITS - 1);

    /* The numerator 1 - z^-2 and the rounding term are common to all bands: once per step.
     * |d| <= 65535 * 2^12 < 2^28, so pre fits int64 with room for the two products. */
    int32_t x1 = state->x1, x2 = state->x2;
    for (uint32_t n = 0; n < n_samples; n++) {
        int32_t x = pcm[n];
        pre[n] = (int64_t)((x - x2) * scale) * ((int64_t)1 << SLF_FRONTEND_COEF_FRAC_BITS) + round;
        x2 = x1;
        x1 = x;
    }
    state->x1 = x1;
    state->x2 = x2;

    const uint32_t first = !state->started;
    for (uint32_t b = 0; b < params->bands; b++) {
        slf_frontend_band_state *band = &state->band[b];
        const int32_t na1 = params->neg_a1[b], na2 = params->neg_a2[b];
        int32_t y1 = band->y1, y2 = band->y2;
        int64_t energy = 0;
        /* Unrolled by two so that y1/y2 swap roles instead of being copied. */
        for (uint32_t n = 0; n < n_samples; n += 2) {
            y2 = resonate(pre[n], na1, y1, na2, y2);
            energy += (int64_t)y2 * y2;
            y1 = resonate(pre[n + 1], na1, y2, na2, y1);
            energy += (int64_t)y1 * y1;
        }
        band->y1 = y1;
        band->y2 = y2;

        /* energy, env in [0, 2^62): the difference fits int64. */
        const int64_t env = band->env + ((energy - band->env) >> params->env_shift);
        band->env = env;

        const int32_t level = log2_q6(env) + params->log_gain[b];
        const int32_t level_fine = level * (1 << SLF_FRONTEND_FLOOR_FRAC_BITS);
        if (first)
            band->floor = level_fine;
        /* The drive uses the floor before this step's update: onsets see the old floor. */
        int32_t floor = band->floor >> SLF_FRONTEND_FLOOR_FRAC_BITS;
        if (floor < params->min_level)
            floor = params->min_level;
        int32_t drive = level - floor - params->offset;
        if (drive < 0)
            drive = 0;
        const int32_t delta = level_fine - band->floor;
        band->floor += delta >> (delta > 0 ? params->floor_rise_shift : params->floor_fall_shift);

        uint32_t charge = band->charge + (uint32_t)drive;
        uint32_t count = charge / params->threshold;
        if (count > params->max_count)
            count = params->max_count;
        charge -= count * params->threshold;
        if (charge >= params->threshold)
            charge = params->threshold - 1u;
        band->charge = charge;
        counts[b] = (uint8_t)count;
    }
    state->started = 1;
}

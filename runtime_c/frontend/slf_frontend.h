/* silifc runtime: integer audio front end, 16-bit PCM -> spike counts per band per step.
 *
 * The specification is the Python model silifc.audio.frontend (docs/audio.md): this code
 * computes the same integers, bit for bit. Per step of `step_samples` samples:
 *
 *   1. pre[n] = (x[n] - x[n-2]) * 2^input_shift * 2^30 + 2^29     (shared by every band)
 *   2. per band b and sample n, a 2-pole resonator with Q2.30 poles, one rounding:
 *        y[n] = (pre[n] + neg_a1[b] * y[n-1] + neg_a2[b] * y[n-2]) >> 30     (int64)
 *      E = sum of y[n]^2 over the step                               (int64)
 *   3. env += (E - env) >> env_shift                             (arithmetic shift, int64)
 *   4. L = floor(log2 env) * 64 + log2_table[6 bits below the leading one] + log_gain[b]
 *      (env = 0 counts as 1)                                      Q6 log2 of power
 *   5. drive D = max(0, L - max(floor >> 8, min_level) - offset), with the floor of the
 *      previous step (the first step after init sets floor = L * 256 before this); then
 *      floor += (L * 256 - floor) >> (L * 256 > floor ? floor_rise_shift : floor_fall_shift)
 *   6. charge += D; count = min(charge / threshold, max_count);
 *      charge = min(charge - count * threshold, threshold - 1);  counts[b] = count
 *
 * No saturation anywhere: the ranges below are proven by the Python design for every
 * int16 input (the L1 norm of every band filter bounds |y| by peak_bound < 2^29, and
 * peak_bound^2 * step_samples < 2^62, so the accumulator, E and env fit int64). Constants must therefore come from silifc.audio.frontend.design()
 * (FrontEndConstants.c_fields() lists them in this struct's order); hand-made poles void
 * the proof. Cost on Cortex-M4: see docs/audio.md (bench/frontend.py: about 6 instructions
 * and 7 estimated cycles per band and sample on the DSP path, where the resonator loop is
 * Thumb-2 assembly computing the same integers in a 4x scale: two SMLAL into an accumulator
 * preloaded with d and the rounding term, one shift, one SMLAL for the energy).
 *
 * Relies on what slf_common.h lists: `>>` of negative values is arithmetic.
 */
#ifndef SLF_FRONTEND_H
#define SLF_FRONTEND_H

#include <stdint.h>

#include "slf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLF_FRONTEND_COEF_FRAC_BITS 30  /* poles neg_a1, neg_a2: Q2.30 */
#define SLF_FRONTEND_LOG_FRAC_BITS 6    /* levels: Q6 log2 of power (64 units = 3.01 dB) */
#define SLF_FRONTEND_LOG_TABLE_SIZE 64
#define SLF_FRONTEND_FLOOR_FRAC_BITS 8  /* floor tracker: Q14 log2 */
#define SLF_FRONTEND_MAX_STEP_SAMPLES 160 /* d[] lives on the stack: 4 bytes per sample */
#define SLF_FRONTEND_MAX_BANDS 255
#define SLF_FRONTEND_MAX_INPUT_SHIFT 12
#define SLF_FRONTEND_MAX_SHIFT 15       /* env_shift, floor_rise_shift, floor_fall_shift */

/* Constant parameters (flash). Ranges are checked by slf_frontend_check. */
typedef struct {
    uint16_t bands;           /* 1..255 */
    uint16_t step_samples;    /* even, 2..SLF_FRONTEND_MAX_STEP_SAMPLES (64 = 4 ms at 16 kHz) */
    uint8_t input_shift;      /* 0..12: d = (x[n] - x[n-2]) * 2^input_shift */
    uint8_t env_shift;        /* 0..15 */
    uint8_t floor_rise_shift; /* 0..15 */
    uint8_t floor_fall_shift; /* 0..15 */
    uint8_t max_count;        /* 1..255: cap of a count */
    int32_t min_level;        /* Q6 log2 of power: absolute floor of the noise floor */
    int32_t offset;           /* Q6 log2 units, >= 0 */
    uint32_t threshold;       /* Q6 log2 units of drive per spike, 1..2^20 */
    const int32_t *neg_a1;    /* [bands] -a1 in Q2.30 (2 cos w0 / (1 + alpha)) */
    const int32_t *neg_a2;    /* [bands] -a2 in Q2.30 (-(1 - alpha) / (1 + alpha)) */
    const int32_t *log_gain;  /* [bands] Q6 log2: normalises L to mean band power in PCM LSB^2 */
} slf_frontend_params;

/* Per-band state (RAM), 24 bytes. */
typedef struct {
    int32_t y1;      /* y[n-1]: |y| <= peak_bound < 2^29 */
    int32_t y2;      /* y[n-2] */
    int64_t env;     /* smoothed sum of y^2 per step, 0 <= env < 2^62 */
    int32_t floor;   /* noise floor, Q14 log2 of power */
    uint32_t charge; /* integrate-and-fire charge, < threshold */
} slf_frontend_band_state;

typedef struct {
    int32_t x1;                    /* x[n-1] of the previous step (int16 range) */
    int32_t x2;                    /* x[n-2] */
    uint32_t started;              /* 0 until the first step has set the floors */
    slf_frontend_band_state *band; /* [bands], bound by slf_frontend_init */
} slf_frontend_state;

/* log2 fraction table: round(64 * log2(1 + i / 64)), i = 0..63 (silifc.audio.frontend.LOG2_TABLE). */
extern const uint8_t slf_frontend_log2_table[SLF_FRONTEND_LOG_TABLE_SIZE];

/* Validate `params`: SLF_ERR_NULL (params or an array NULL), SLF_ERR_PARAM (a field outside
 * the ranges above). Does not (cannot) re-prove the overflow bound of the poles. */
slf_status slf_frontend_check(const slf_frontend_params *params);

/* Check `params`, bind `band_states` ([params->bands] entries, caller-owned) to `state` and
 * set the power-on state (all zero; floors are set by the first step). Also the way to
 * restart a stream. Errors: those of slf_frontend_check, SLF_ERR_NULL (state or
 * band_states NULL); on error nothing is written. */
slf_status slf_frontend_init(slf_frontend_state *state, slf_frontend_band_state *band_states,
                             const slf_frontend_params *params);

/* One step: read pcm[0..step_samples) (int16 PCM, any values incl. -32768), update the state
 * and write counts[0..bands) (0..max_count). `state` must have been initialised with the same
 * `params`; nothing is checked here (call slf_frontend_check once). Deterministic, no
 * allocation, stack use 4 * SLF_FRONTEND_MAX_STEP_SAMPLES + about 90 bytes, no floating point. */
void slf_frontend_step_s16(slf_frontend_state *state, const slf_frontend_params *params,
                           const int16_t *pcm, uint8_t *counts);

#ifdef __cplusplus
}
#endif

#endif /* SLF_FRONTEND_H */

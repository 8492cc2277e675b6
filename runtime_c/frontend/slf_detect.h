/* silifc runtime: streaming keyword detector over per-step class probabilities.
 *
 * The specification is the Python model silifc.kws.Detector (docs/kws.md): this code
 * computes the same integers and decisions, bit for bit. A network trained on 1-second
 * clips decides by the sum over the clip of its softmax; on an endless stream the network
 * runs on without resets and this detector replaces the sum by a leaky average. Per step,
 * with p[k] this step's softmax of class k (Q16, 0..65536):
 *
 *   1. acc[k] = acc[k] - (acc[k] >> shift) + p[k]          (uint32; a leaky sum of p over
 *      about 2^shift steps: a class at probability q for long gives acc ~ q * 2^(16+shift))
 *   2. hold = hold - 1 if hold > 0                          (refractory countdown)
 *   3. last = -1 if last >= 0 and acc[last] < off           (re-armed: the last keyword faded)
 *   4. k = argmax acc (lowest index on ties); if hold == 0, k < keywords, k != last and
 *      acc[k] >= on: detection of k; last = k, hold = hold_steps
 *   5. idle = (hold == 0 and acc[j] < off for every keyword j)
 *
 * Classes 0 .. keywords-1 are keywords; the others (e.g. "unknown", "silence") are never
 * reported, but they compete in the argmax. No saturation: acc stays below
 * (65536 + 1) * 2^shift <= 2^30 + 2^14 for p in range, by induction.
 */
#ifndef SLF_DETECT_H
#define SLF_DETECT_H

#include <stdint.h>

#include "slf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLF_DETECT_PROB_ONE 65536      /* Q16 probability 1.0: the largest p[k] */
#define SLF_DETECT_MAX_SHIFT 14
#define SLF_DETECT_NONE (-1)

/* Constant parameters (flash). Ranges are checked by slf_detect_check. */
typedef struct {
    uint16_t classes;     /* 1..SLF_MAX_CLASSES: entries of p[] and acc[] */
    uint16_t keywords;    /* 1..classes: classes 0..keywords-1 can be detected */
    uint8_t shift;        /* 0..SLF_DETECT_MAX_SHIFT: time constant 2^shift steps */
    uint32_t on;          /* detection threshold in acc units (Q16 * 2^shift), >= 1 */
    uint32_t off;         /* re-arm threshold, <= on */
    uint16_t hold_steps;  /* refractory steps after a detection (no detection of any class) */
} slf_detect_params;

typedef struct {
    uint32_t *acc; /* [classes] leaky sums, bound by slf_detect_init */
    uint16_t hold; /* steps left in the refractory period */
    int16_t last;  /* last detected keyword until it falls below `off`, else -1 */
    uint8_t idle;  /* 1 when no keyword is active: hold == 0 and every keyword acc < off */
} slf_detect_state;

/* Validate `params`: SLF_ERR_NULL, SLF_ERR_PARAM (a field outside the ranges above). */
slf_status slf_detect_check(const slf_detect_params *params);

/* Check `params`, bind `acc` ([params->classes], caller-owned) and clear the state (idle).
 * Errors: those of slf_detect_check, SLF_ERR_NULL (state or acc NULL); nothing written then. */
slf_status slf_detect_init(slf_detect_state *state, uint32_t *acc, const slf_detect_params *params);

/* One step (1.-5. above). p: [classes] Q16 probabilities of this step, each in 0..65536
 * (other values give defined but meaningless results). Returns the detected keyword, or
 * SLF_DETECT_NONE. The state must come from slf_detect_init with the same params; nothing
 * is checked here. No allocation, no floating point, O(classes). */
int16_t slf_detect_step_q16(slf_detect_state *state, const slf_detect_params *params, const int32_t *p);

#ifdef __cplusplus
}
#endif

#endif /* SLF_DETECT_H */

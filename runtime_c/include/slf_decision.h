/* silifc runtime: the integer summed-softmax decision (fixedpoint.softmax_q16,
 * int_ref.accumulate_decision, int_ref.decide).
 *
 * Per step, over the n <= SLF_MAX_CLASSES readout states u (int32, readout format F_o):
 *   1. d_k = max(u) - u_k                      (uint32, exact)
 *   2. t_k = min((d_k * exp_mult + 2^(exp_shift-1)) >> exp_shift, 31 * 2^16)   (Q16)
 *   3. e_k = 2^-t_k in Q24: 65-entry table of 2^-(i/64) indexed by bits 15..10 of t,
 *      linear interpolation over bits 9..0 (rounded), then >> (t >> 16)
 *   4. S = sum e_k  (2^24 <= S < 2^31: the largest class gives exactly 2^24)
 *   5. r = 2^46 / S  (one unsigned 64-by-32 division; libgcc's __aeabi_uldivmod on Cortex-M)
 *   6. p_k = (e_k * r + 2^29) >> 30           (Q16 probability, 0..65536)
 * Step 2 is computed in uint64 and never overflows (d < 2^32, exp_mult < 2^31). The
 * quantizer's exp_mult is always 1549082005 (log2 e normalised), for which the Python
 * reference's int64 arithmetic cannot overflow either.
 */
#ifndef SLF_DECISION_H
#define SLF_DECISION_H

#include "slf_common.h"
#include "slf_neurons.h"

#ifdef __cplusplus
extern "C" {
#endif

/* p[k] = softmax_q16(u)[k] for k < n (steps 1-6 above). u: [n] any int32; p: [n] Q16 in
 * [0, 65536]; exp_mult in [0, 2^31 - 1], exp_shift in 1..62 (other values give defined but
 * meaningless results). Uses 4*n bytes of stack.
 * Errors: SLF_ERR_NULL; SLF_ERR_SHAPE when n == 0 or n > SLF_MAX_CLASSES. */
slf_status slf_softmax_q16(const int32_t *u, uint16_t n, int32_t exp_mult, int32_t exp_shift, int32_t *p);

/* total[k] = min(total[k] + p[k], 2^31 - 1) with p = softmax_q16(u) of this step
 * (int_ref.accumulate_decision), n = layer->n, exp constants from the layer.
 * total: [n] int32, zero at start; values stay >= their start value (p >= 0). A total
 * below 0 (never produced by the runtime) still gets p added exactly.
 * Errors: SLF_ERR_NULL; SLF_ERR_SHAPE when layer->n is 0 or > SLF_MAX_CLASSES. */
slf_status slf_accumulate_decision_q16(const slf_readout_layer *layer, const int32_t *u, int32_t *total);

/* *decision = index of the largest total[k], k < n; the lowest index wins a tie
 * (int_ref.decide / numpy argmax). Errors: SLF_ERR_NULL; SLF_ERR_SHAPE when n == 0. */
slf_status slf_decide_s32(const int32_t *total, uint16_t n, uint16_t *decision);

#ifdef __cplusplus
}
#endif

#endif /* SLF_DECISION_H */

/* silifc runtime, internal: the integer softmax shared by slf_softmax_q16 and
 * slf_accumulate_decision_q16 (not part of the API; fixedpoint.softmax_q16 is the reference). */
#ifndef SLF_SOFTMAX_H
#define SLF_SOFTMAX_H

#include "slf_arith.h"

/* e[k] = 2^-t_k in Q24 for k < n (steps 1-4 of fixedpoint.softmax_q16) and returns
 * 2^46 // sum(e). n in 1..SLF_MAX_CLASSES (the callers check). Defined in slf_softmax_q16.c. */
uint32_t slf_internal_softmax_exp(const int32_t *u, uint32_t n, int32_t exp_mult, int32_t exp_shift, uint32_t *e);

/* p = (e * reciprocal + 2^29) >> 30: Q16, in [0, 2^16] */
SLF_INLINE int32_t slf_softmax_prob(uint32_t e, uint32_t reciprocal)
{
    return (int32_t)(((uint64_t)e * reciprocal + ((uint64_t)1 << 29)) >> 30);
}

#endif /* SLF_SOFTMAX_H */

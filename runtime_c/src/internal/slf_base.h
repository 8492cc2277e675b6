/* silifc runtime, internal (not part of the API): what every kernel source includes first.
 *
 * The internal headers, by topic (each includes what it needs):
 *   slf_base.h      this file: includes, inline and static-assert macros
 *   slf_arith.h     scalar arithmetic (saturation, wrapping MLA/MLS, Q31 products, QDADD)
 *   slf_checks.h    argument checks shared by the kernels
 *   slf_ring.h      delay-ring slot addressing
 *   slf_columns.h   acc[0..n) += one weight column (or two, or count x one): the accumulation loops
 *   slf_delays.h    per-synapse delays: slot offsets and the delayed column loops
 *   slf_lanes16.h   shared parts of the 16-bit lane kernel (both paths)
 *   slf_dense.h     shared parts of the dense kernels (both paths)
 *   slf_softmax.h   the softmax exponentials shared by slf_softmax_q16 and the decision
 * Written once for int8 and int16 weights, included per type with the weight type and name
 * suffix defined (see each file's first comment):
 *   slf_columns_typed.h, slf_delays_typed.h   the column loops (from slf_columns.h, slf_delays.h)
 *   slf_accumulate_<family>_body.h            one body per accumulation kernel family, e.g.
 *                                             slf_accumulate_spikes_axonal_body.h for
 *                                             src/slf_accumulate_spikes_{s8,s16}_axonal.c
 * Every helper is written here in portable C99. Where a Cortex-M DSP form exists, it lives in
 * src/dsp/ (slf_*_dsp.h) and replaces or extends the portable helper when SLF_USE_DSP is 1; both
 * forms return the same integers for all inputs inside the contracts of the public headers, and
 * neither executes undefined behaviour for inputs outside them.
 */
#ifndef SLF_BASE_H
#define SLF_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "silifc.h"

#if defined(__GNUC__)
#define SLF_INLINE static inline __attribute__((always_inline))
#else
#define SLF_INLINE static inline
#endif

/* Hide where a pointer comes from, so that GCC keeps it in a register instead of re-deriving
 * a stack address (sp + offset) at every indexed access: 3 instructions become 1. */
#if defined(__GNUC__)
#define SLF_IN_REGISTER(pointer) __asm__("" : "+r"(pointer))
#else
#define SLF_IN_REGISTER(pointer) ((void)0)
#endif

/* C99 compile-time check */
#define SLF_STATIC_ASSERT(name, cond) typedef char slf_static_assert_##name[(cond) ? 1 : -1]

#endif /* SLF_BASE_H */

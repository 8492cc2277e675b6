/* silifc runtime, internal: what every source of the Cortex-M DSP path includes (not part of the API).
 *
 * src/dsp/ holds the DSP-extension versions of the kernels and loops whose portable reference is
 * in src/portable/ or src/internal/; a build compiles the sources in src/ plus those in either
 * src/dsp/ (SLF_USE_DSP=1) or src/portable/ (SLF_USE_DSP=0). Needs GCC or Clang (ACLE
 * intrinsics, inline assembly). Weights are read with word loads that may be unaligned, so
 * CCR.UNALIGN_TRP must be 0 (its reset value; CMSIS-NN relies on it too).
 *
 * Inline assembly never uses r7, which Thumb code reserves as its frame pointer at -O0 and
 * with -fno-omit-frame-pointer; the loops that need most registers pin their operands with
 * local register variables, so no optimisation level has to find registers for them.
 */
#ifndef SLF_DSP_H
#define SLF_DSP_H

#include "../internal/slf_base.h"

#if !SLF_USE_DSP
#error "src/dsp/ is the Cortex-M DSP path: build it with SLF_USE_DSP=1, or build src/portable/ instead"
#endif
#if !defined(__GNUC__)
#error "src/dsp/ needs GCC or Clang (inline assembly); build src/portable/ with SLF_USE_DSP=0"
#endif

#include <arm_acle.h>

/* The 8 int32 accumulators of the column loops, loaded and stored with one LDM/STM. */
#define SLF_ACC_REGS "{r4, r5, r6, r8, r9, r10, r11, r12}"
#define SLF_ACC_CLOBBERS "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory"

/* 4 little-endian bytes/halfwords of a possibly unaligned array as one word: one LDR.
 * __builtin_memcpy, because firmware builds with -ffreestanding turn memcpy into a call. */
SLF_INLINE uint32_t slf_load_word(const void *p)
{
    uint32_t word;
    __builtin_memcpy(&word, p, sizeof word);
    return word;
}

/* p[0..n) = 0 (the consumed ring slot): four words per STM. A plain loop would be turned into
 * a memset call, which freestanding builds need not provide. */
SLF_INLINE void slf_zero_s32_dsp(int32_t *p, uint32_t n)
{
    uint32_t blocks = n >> 2;
    if (blocks != 0u) {
        __asm__ volatile("movs   r0, #0\n\t"
                         "movs   r1, #0\n\t"
                         "movs   r2, #0\n\t"
                         "movs   r3, #0\n\t"
                         "1:\n\t"
                         "stmia  %[p]!, {r0, r1, r2, r3}\n\t"
                         "subs   %[b], %[b], #1\n\t"
                         "bne    1b"
                         : [p] "+r"(p), [b] "+r"(blocks)
                         :
                         : "r0", "r1", "r2", "r3", "cc", "memory");
    }
    n &= 3u;
    while (n-- != 0u) {
        *p++ = 0;
    }
}

/* acc[r] = sum over 8 * pairs inputs of |u - m| for the 4 rows of one dense block (the dense
 * kernels' USADA8 loop): w the block's bytes (word aligned), m byte masks, one word per 4 inputs.
 * Defined in dsp/slf_internal_dense_block_usad.c. */
void slf_internal_dense_block_usad(int32_t *acc, const uint8_t *w, const uint32_t *m, uint32_t pairs);

#endif /* SLF_DSP_H */

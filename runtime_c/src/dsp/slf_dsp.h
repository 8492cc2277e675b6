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

/* p[0..n) = 0 (the consumed ring slot). Eight zero registers, 32 words per iteration: four
 * 8-register STMs (9 estimated Cortex-M4 cycles each, docs/cycles.md; 39 per 32 words with the
 * loop, against 8 per 4 words with one 4-register STM), then 16, 8, 4, 2 and 1 words as the
 * low bits of n say (STMs and an STR under IT). A plain loop would be turned into a memset
 * call, which freestanding builds need not provide. */
SLF_INLINE void slf_zero_s32_dsp(int32_t *p, uint32_t n)
{
    /* pinned, so that no optimisation level has to find registers beside the eight zeros */
    register int32_t *rp __asm__("r6") = p;
    register uint32_t rn __asm__("r8") = n;
    register uint32_t rblocks __asm__("r9");
    __asm__ volatile("movs   r0, #0\n\t"
                     "movs   r1, #0\n\t"
                     "movs   r2, #0\n\t"
                     "movs   r3, #0\n\t"
                     "movs   r4, #0\n\t"
                     "movs   r5, #0\n\t"
                     "mov    r12, #0\n\t"
                     "mov    lr, #0\n\t"
                     "lsrs   r9, r8, #5\n\t" /* 32-word blocks */
                     "beq    2f\n\t"
                     "1:\n\t"
                     "stmia  r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "stmia  r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "stmia  r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "stmia  r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "subs   r9, r9, #1\n\t"
                     "bne    1b\n\t"
                     "2:\n\t"
                     "lsls   r8, r8, #28\n\t" /* C = bit 4 of n, N = bit 3 */
                     "itt    cs\n\t"
                     "stmiacs r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "stmiacs r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "it     mi\n\t"
                     "stmiami r6!, {r0, r1, r2, r3, r4, r5, r12, lr}\n\t"
                     "lsls   r8, r8, #2\n\t" /* C = bit 2 of n, N = bit 1 */
                     "it     cs\n\t"
                     "stmiacs r6!, {r0, r1, r2, r3}\n\t"
                     "it     mi\n\t"
                     "stmiami r6!, {r0, r1}\n\t"
                     "lsls   r8, r8, #1\n\t" /* N = bit 0 of n */
                     "it     mi\n\t"
                     "strmi  r0, [r6]\n\t"
                     : "+r"(rp), "+r"(rn), "=r"(rblocks)
                     :
                     : "r0", "r1", "r2", "r3", "r4", "r5", "r12", "lr", "cc", "memory");
}

/* acc[r] = sum over 8 * pairs inputs of |u - m| for the 4 rows of one dense block (the dense
 * kernels' USADA8 loop): w the block's bytes (word aligned), m byte masks, one word per 4 inputs.
 * Defined in dsp/slf_internal_dense_block_usad.c. */
void slf_internal_dense_block_usad(int32_t *acc, const uint8_t *w, const uint32_t *m, uint32_t pairs);

#endif /* SLF_DSP_H */

/* silifc runtime, internal: the accumulation loops of internal/slf_columns.h on the Cortex-M DSP
 * path, in blocks of 8 accumulators (included from there when SLF_USE_DSP is 1; not part of the
 * API). slf_col_{add,add2,mul}_<t> of internal/slf_columns_typed.h run these for n / 8 blocks,
 * then the portable loop for the n % 8 tail.
 *
 * 8 accumulators per LDM/STM in r4-r6, r8-r12 (never r7: the Thumb frame pointer at -O0 and
 * with -fno-omit-frame-pointer), weights added with SXTAB/SXTAH (byte rotations pick the
 * lanes), two inputs per pass over the accumulators; counts > 1 with SXTB16 + SMLABB/SMLATB.
 * Pointers and counters are in registers the compiler picks (at most 5 operands, which every
 * optimisation level can allocate next to the 8 clobbered accumulators).
 */
#ifndef SLF_COLUMNS_DSP_H
#define SLF_COLUMNS_DSP_H

#include "slf_dsp.h"

/* 4 int8 weights of the word in t into 4 accumulators: SXTAB with the byte rotation. */
#define SLF_SXTAB4(a, b, c, d)                 \
    "sxtab  " a ", " a ", %[t]\n\t"            \
    "sxtab  " b ", " b ", %[t], ror #8\n\t"    \
    "sxtab  " c ", " c ", %[t], ror #16\n\t"   \
    "sxtab  " d ", " d ", %[t], ror #24\n\t"

/* 2 int16 weights of the word in t into 2 accumulators. */
#define SLF_SXTAH2(a, b)                       \
    "sxtah  " a ", " a ", %[t]\n\t"            \
    "sxtah  " b ", " b ", %[t], ror #16\n\t"

/* acc[0..8*blocks) += w[...], blocks >= 1 */
SLF_INLINE void slf_col_add_dsp_s8(int32_t *acc, const int8_t *w, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAB4("r4", "r5", "r6", "r8")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAB4("r9", "r10", "r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

/* acc[0..8*blocks) += wa[...] + wb[...], blocks >= 1: one pass over the accumulators
 * for two inputs (24 instructions per 16 synaptic operations). */
SLF_INLINE void slf_col_add2_dsp_s8(int32_t *acc, const int8_t *wa, const int8_t *wb, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAB4("r4", "r5", "r6", "r8")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAB4("r9", "r10", "r11", "r12")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAB4("r4", "r5", "r6", "r8")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAB4("r9", "r10", "r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [wa] "+r"(wa), [wb] "+r"(wb), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

/* acc[0..8*blocks) += count * w[...], blocks in 1..65535, count in 0..255.
 * SXTB16 splits a weight word into (b0, b2) and (b1, b3) halfword pairs; SMLAxB multiplies
 * one half by the count in the bottom half of `nc`. The top half of `nc` counts the
 * remaining blocks, which saves a register. */
SLF_INLINE void slf_col_mul_dsp_s8(int32_t *acc, const int8_t *w, uint32_t blocks, uint32_t count)
{
    uint32_t t, even, nc = ((blocks - 1u) << 16) | count;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "sxtb16 %[e], %[t]\n\t"
        "sxtb16 %[t], %[t], ror #8\n\t"
        "smlabb r4, %[e], %[nc], r4\n\t"
        "smlabb r5, %[t], %[nc], r5\n\t"
        "smlatb r6, %[e], %[nc], r6\n\t"
        "smlatb r8, %[t], %[nc], r8\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "sxtb16 %[e], %[t]\n\t"
        "sxtb16 %[t], %[t], ror #8\n\t"
        "smlabb r9, %[e], %[nc], r9\n\t"
        "smlabb r10, %[t], %[nc], r10\n\t"
        "smlatb r11, %[e], %[nc], r11\n\t"
        "smlatb r12, %[t], %[nc], r12\n\t"
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[nc], %[nc], #65536\n\t"
        "bcs    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [nc] "+r"(nc), [t] "=&r"(t), [e] "=&r"(even)
        :
        : SLF_ACC_CLOBBERS);
}

SLF_INLINE void slf_col_add_dsp_s16(int32_t *acc, const int16_t *w, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r4", "r5")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r6", "r8")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r9", "r10")
        "ldr    %[t], [%[w]], #4\n\t"
        SLF_SXTAH2("r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

SLF_INLINE void slf_col_add2_dsp_s16(int32_t *acc, const int16_t *wa, const int16_t *wb, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r4", "r5")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r6", "r8")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r9", "r10")
        "ldr    %[t], [%[wa]], #4\n\t"
        SLF_SXTAH2("r11", "r12")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r4", "r5")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r6", "r8")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r9", "r10")
        "ldr    %[t], [%[wb]], #4\n\t"
        SLF_SXTAH2("r11", "r12")
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [acc] "+r"(acc), [wa] "+r"(wa), [wb] "+r"(wb), [n] "+r"(blocks), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

/* count in 0..255, |count * w| < 2^23: SMLAxB on the weight halves directly. */
SLF_INLINE void slf_col_mul_dsp_s16(int32_t *acc, const int16_t *w, uint32_t blocks, uint32_t count)
{
    uint32_t t, nc = ((blocks - 1u) << 16) | count;
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[acc], " SLF_ACC_REGS "\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r4, %[t], %[nc], r4\n\t"
        "smlatb r5, %[t], %[nc], r5\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r6, %[t], %[nc], r6\n\t"
        "smlatb r8, %[t], %[nc], r8\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r9, %[t], %[nc], r9\n\t"
        "smlatb r10, %[t], %[nc], r10\n\t"
        "ldr    %[t], [%[w]], #4\n\t"
        "smlabb r11, %[t], %[nc], r11\n\t"
        "smlatb r12, %[t], %[nc], r12\n\t"
        "stmia  %[acc]!, " SLF_ACC_REGS "\n\t"
        "subs   %[nc], %[nc], #65536\n\t"
        "bcs    1b\n\t"
        : [acc] "+r"(acc), [w] "+r"(w), [nc] "+r"(nc), [t] "=&r"(t)
        :
        : SLF_ACC_CLOBBERS);
}

#endif /* SLF_COLUMNS_DSP_H */

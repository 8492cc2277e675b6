/* slf_internal_lanes16_add and _widen, Cortex-M DSP version: the lane passes of the 16-bit lane kernels
 * (slf_accumulate_spikes_s8_lanes16, slf_accumulate_events_s8_lanes16; contracts:
 * include/slf_synapses.h; why the lanes are exact: internal/slf_lanes16.h; portable reference:
 * portable/slf_internal_lanes16_pass.c).
 *
 * Blocks of 8 outputs, 4 lane words each:
 *   lane word 0 = outputs (0, 2), 1 = (1, 3), 2 = (4, 6), 3 = (5, 7), low half first:
 *   SXTAB16 adds bytes 0 and 2 of a weight word to the halves of a lane word, and with
 *   ROR #8 bytes 1 and 3. Per column and block: 2 LDR, back to back into two registers (the
 *   second overlaps the first: 3 estimated Cortex-M4 cycles, docs/cycles.md), + 4 SXTAB16.
 *   Five columns share one LDM/STM of the 4 lane words: 34 instructions and 48 est. cycles per
 *   40 synaptic operations (1.2 per SOP; six columns with one temporary, whose loads could not
 *   overlap, took 40 and 61 per 48, 1.27). The rest of the list in passes of 4 (28 and 41 per
 *   32), 2 (16 and 27 per 16) and 1 (10 and 20 per 8); eight left are two passes of four. The
 *   first pass writes the lanes with SXTB16 instead of loading them (5 cycles less), so the
 *   scratch needs no clearing. Each pass's loop starts word-aligned, so that its branch back
 *   costs the refill of an aligned 32-bit target.
 *   The widening pass (SXTAH, 14 instructions per 8 outputs) undoes the lane order.
 *   n_out % 8 = r != 0: the last block is the 8 outputs n_out - 8 .. n_out - 1 (it overlaps
 *   the one before, so all weight reads stay inside the column) with its own 4 lane words;
 *   only its last r outputs are widened. Layers narrower than 8 keep the portable path's lane
 *   order in C (modulo 2^16 too, so both paths give the same integers for every input).
 */
#include "../internal/slf_columns.h"
#include "../internal/slf_lanes16.h"
#include "slf_dsp.h"

/* One input into the 4 lane words r4, r5, r6, r8 of a block: its 8 weights are 2 words, read
 * into t and u by two back-to-back loads (the second overlaps the first: 3 cycles, not 4). */
#define SLF_L16_ADD(w)                         \
    "ldr     %[t], [%[" w "]], #4\n\t"         \
    "ldr     %[u], [%[" w "]], #4\n\t"         \
    "sxtab16 r4, r4, %[t]\n\t"                 \
    "sxtab16 r5, r5, %[t], ror #8\n\t"         \
    "sxtab16 r6, r6, %[u]\n\t"                 \
    "sxtab16 r8, r8, %[u], ror #8\n\t"

/* The first input of the first pass sets the lanes instead of adding to them. */
#define SLF_L16_SET(w)                         \
    "ldr     %[t], [%[" w "]], #4\n\t"         \
    "ldr     %[u], [%[" w "]], #4\n\t"         \
    "sxtb16  r4, %[t]\n\t"                     \
    "sxtb16  r5, %[t], ror #8\n\t"             \
    "sxtb16  r6, %[u]\n\t"                     \
    "sxtb16  r8, %[u], ror #8\n\t"

#define SLF_L16_LOAD "ldm     %[l], {r4, r5, r6, r8}\n\t"

/* Column pointer w back to the overlapping last block: t holds back << 16. */
#define SLF_L16_BACK(w) "sub     %[" w "], %[" w "], %[t], lsr #16\n\t"

/* Loop over the blocks: nc = ((full blocks - 1) << 16) | back, back = 8 - n_out % 8 (or 0).
 * After the full blocks, a nonzero back moves the column pointers back by `back` bytes and
 * runs the body once more (nc = 0 then ends the loop) for the overlapping last block. */
#define SLF_L16_PASS(body, backs)              \
    ".p2align 2\n"                            \
    "1:\n\t" body                              \
    "stmia   %[l]!, {r4, r5, r6, r8}\n\t"      \
    "subs    %[nc], %[nc], #65536\n\t"         \
    "bcs     1b\n\t"                           \
    "lsls    %[t], %[nc], #16\n\t"             \
    "beq     2f\n\t" backs                     \
    "movs    %[nc], #0\n\t"                    \
    "b       1b\n\t"                           \
    "2:\n\t"

#define SLF_L16_CLOBBERS "r4", "r5", "r6", "r8", "cc", "memory"

/* Every operand is pinned to a register by hand: next to the 4 clobbered lane registers GCC's
 * allocator found no registers for 7 operands at -O0 (hard-float ABI, where it offers only
 * r0-r6), -O3 and -fno-omit-frame-pointer. */

/* Five inputs: 9 operands and the 4 lane registers take every register but r7 (the Thumb frame
 * pointer) and sp/pc. */
static void slf_lanes_pass5(uint32_t *lanes, const int8_t *const *w, uint32_t nc_, int first)
{
    register uint32_t *l __asm__("r11") = lanes;
    register const int8_t *a __asm__("r0") = w[0];
    register const int8_t *b __asm__("r1") = w[1];
    register const int8_t *c __asm__("r2") = w[2];
    register const int8_t *d __asm__("r3") = w[3];
    register const int8_t *e __asm__("r9") = w[4];
    register uint32_t nc __asm__("r12") = nc_;
    register uint32_t t __asm__("lr");
    register uint32_t u __asm__("r10");
    if (first) {
        __asm__ volatile(SLF_L16_PASS(SLF_L16_SET("a") SLF_L16_ADD("b") SLF_L16_ADD("c") SLF_L16_ADD("d")
                                          SLF_L16_ADD("e"),
                                      SLF_L16_BACK("a") SLF_L16_BACK("b") SLF_L16_BACK("c") SLF_L16_BACK("d")
                                          SLF_L16_BACK("e"))
                         : [l] "+r"(l), [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [e] "+r"(e),
                           [nc] "+r"(nc), [t] "=&r"(t), [u] "=&r"(u)
                         :
                         : SLF_L16_CLOBBERS);
    } else {
        __asm__ volatile(SLF_L16_PASS(SLF_L16_LOAD SLF_L16_ADD("a") SLF_L16_ADD("b") SLF_L16_ADD("c")
                                          SLF_L16_ADD("d") SLF_L16_ADD("e"),
                                      SLF_L16_BACK("a") SLF_L16_BACK("b") SLF_L16_BACK("c") SLF_L16_BACK("d")
                                          SLF_L16_BACK("e"))
                         : [l] "+r"(l), [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [e] "+r"(e),
                           [nc] "+r"(nc), [t] "=&r"(t), [u] "=&r"(u)
                         :
                         : SLF_L16_CLOBBERS);
    }
}

static void slf_lanes_pass4(uint32_t *lanes, const int8_t *const *w, uint32_t nc_, int first)
{
    register uint32_t *l __asm__("r11") = lanes;
    register const int8_t *a __asm__("r0") = w[0];
    register const int8_t *b __asm__("r1") = w[1];
    register const int8_t *c __asm__("r2") = w[2];
    register const int8_t *d __asm__("r3") = w[3];
    register uint32_t nc __asm__("r12") = nc_;
    register uint32_t t __asm__("lr");
    register uint32_t u __asm__("r10");
    if (first) {
        __asm__ volatile(SLF_L16_PASS(SLF_L16_SET("a") SLF_L16_ADD("b") SLF_L16_ADD("c") SLF_L16_ADD("d"),
                                      SLF_L16_BACK("a") SLF_L16_BACK("b") SLF_L16_BACK("c") SLF_L16_BACK("d"))
                         : [l] "+r"(l), [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [nc] "+r"(nc),
                           [t] "=&r"(t), [u] "=&r"(u)
                         :
                         : SLF_L16_CLOBBERS);
    } else {
        __asm__ volatile(SLF_L16_PASS(SLF_L16_LOAD SLF_L16_ADD("a") SLF_L16_ADD("b") SLF_L16_ADD("c")
                                          SLF_L16_ADD("d"),
                                      SLF_L16_BACK("a") SLF_L16_BACK("b") SLF_L16_BACK("c") SLF_L16_BACK("d"))
                         : [l] "+r"(l), [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [d] "+r"(d), [nc] "+r"(nc),
                           [t] "=&r"(t), [u] "=&r"(u)
                         :
                         : SLF_L16_CLOBBERS);
    }
}

static void slf_lanes_pass2(uint32_t *lanes, const int8_t *wa, const int8_t *wb, uint32_t nc_, int first)
{
    register uint32_t *l __asm__("r0") = lanes;
    register const int8_t *a __asm__("r1") = wa;
    register const int8_t *b __asm__("r2") = wb;
    register uint32_t nc __asm__("r3") = nc_;
    register uint32_t t __asm__("r12");
    register uint32_t u __asm__("lr");
    if (first) {
        __asm__ volatile(SLF_L16_PASS(SLF_L16_SET("a") SLF_L16_ADD("b"), SLF_L16_BACK("a") SLF_L16_BACK("b"))
                         : [l] "+r"(l), [a] "+r"(a), [b] "+r"(b), [nc] "+r"(nc), [t] "=&r"(t), [u] "=&r"(u)
                         :
                         : SLF_L16_CLOBBERS);
    } else {
        __asm__ volatile(SLF_L16_PASS(SLF_L16_LOAD SLF_L16_ADD("a") SLF_L16_ADD("b"),
                                      SLF_L16_BACK("a") SLF_L16_BACK("b"))
                         : [l] "+r"(l), [a] "+r"(a), [b] "+r"(b), [nc] "+r"(nc), [t] "=&r"(t), [u] "=&r"(u)
                         :
                         : SLF_L16_CLOBBERS);
    }
}

/* One column; never the first pass (slf_internal_lanes16_add is given n >= 2 when first). */
static void slf_lanes_pass1(uint32_t *lanes, const int8_t *wa, uint32_t nc_)
{
    register uint32_t *l __asm__("r0") = lanes;
    register const int8_t *a __asm__("r1") = wa;
    register uint32_t nc __asm__("r3") = nc_;
    register uint32_t t __asm__("r12");
    register uint32_t u __asm__("lr");
    __asm__ volatile(SLF_L16_PASS(SLF_L16_LOAD SLF_L16_ADD("a"), SLF_L16_BACK("a"))
                     : [l] "+r"(l), [a] "+r"(a), [nc] "+r"(nc), [t] "=&r"(t), [u] "=&r"(u)
                     :
                     : SLF_L16_CLOBBERS);
}

/* acc[0..8*blocks) += the lanes of as many blocks, sign-extended and in output order. */
static void slf_lanes_widen(int32_t *acc, const uint32_t *l, uint32_t blocks)
{
    uint32_t x, y;
    __asm__ volatile("1:\n\t"
                     "ldm     %[acc], " SLF_ACC_REGS "\n\t"
                     "ldrd    %[x], %[y], [%[l]], #8\n\t" /* x = (0, 2), y = (1, 3) */
                     "sxtah   r4, r4, %[x]\n\t"
                     "sxtah   r5, r5, %[y]\n\t"
                     "sxtah   r6, r6, %[x], ror #16\n\t"
                     "sxtah   r8, r8, %[y], ror #16\n\t"
                     "ldrd    %[x], %[y], [%[l]], #8\n\t" /* x = (4, 6), y = (5, 7) */
                     "sxtah   r9, r9, %[x]\n\t"
                     "sxtah   r10, r10, %[y]\n\t"
                     "sxtah   r11, r11, %[x], ror #16\n\t"
                     "sxtah   r12, r12, %[y], ror #16\n\t"
                     "stmia   %[acc]!, " SLF_ACC_REGS "\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [acc] "+r"(acc), [l] "+r"(l), [n] "+r"(blocks), [x] "=&r"(x), [y] "=&r"(y)
                     :
                     : SLF_ACC_CLOBBERS);
}

#define SLF_COLUMN(m) (data + (size_t)index[m] * n_out)

/* Narrower than one block: lane word k holds outputs 2k (low half) and 2k + 1, as on the portable path. */
static void slf_lanes_add_narrow(uint32_t *lanes, const int8_t *data, uint32_t n_out, const uint16_t *index,
                                 uint32_t n, int first)
{
    uint32_t i, k;
    if (first) {
        for (i = 0; i < (n_out + 1u) / 2u; i++) {
            lanes[i] = 0u;
        }
    }
    /* Output by output over the columns (the column pointers are not formed: a narrow layer has
     * few outputs per column, and its per-column set-up would dominate). */
    for (i = 0; i < n_out; i++) {
        const int8_t *weight = data + i;
        uint32_t sum = 0, word = lanes[i >> 1];
        for (k = 0; k < n; k++) {
            sum += (uint32_t)weight[(size_t)index[k] * n_out];
        }
        /* the low half's carry must not reach the high half */
        lanes[i >> 1] = (i & 1u) ? word + (sum << 16) : (word & 0xFFFF0000u) | ((word + sum) & 0xFFFFu);
    }
}

void slf_internal_lanes16_add(uint32_t *lanes, const int8_t *data, uint32_t n_out, const uint16_t *index, uint32_t n,
                              int first)
{
    uint32_t full = n_out >> 3, r = n_out & 7u, k = 0;
    uint32_t nc = ((full - 1u) << 16) | (r != 0u ? 8u - r : 0u);

    if (n_out < 8u) {
        slf_lanes_add_narrow(lanes, data, n_out, index, n, first);
        return;
    }
    /* Passes of five; eight left are two passes of four (41 + 41 est. cycles per block, not
     * 48 + 27 + 20), and at most four left take a pass of 4, 2 and/or 1. */
    for (; n - k >= 4u; first = 0) {
        const int8_t *w[5];
        w[0] = SLF_COLUMN(k);
        w[1] = SLF_COLUMN(k + 1u);
        w[2] = SLF_COLUMN(k + 2u);
        w[3] = SLF_COLUMN(k + 3u);
        if (n - k >= 5u && n - k != 8u) {
            w[4] = SLF_COLUMN(k + 4u);
            slf_lanes_pass5(lanes, w, nc, first);
            k += 5u;
        } else {
            slf_lanes_pass4(lanes, w, nc, first);
            k += 4u;
        }
    }
    if (n - k >= 2u) {
        slf_lanes_pass2(lanes, SLF_COLUMN(k), SLF_COLUMN(k + 1u), nc, first);
        k += 2u;
        first = 0;
    }
    if (k < n) {
        slf_lanes_pass1(lanes, SLF_COLUMN(k), nc);
    }
}
#undef SLF_COLUMN

void slf_internal_lanes16_widen(int32_t *acc, const uint32_t *lanes, uint32_t n_out)
{
    uint32_t full = n_out >> 3, r = n_out & 7u, p;

    if (n_out < 8u) {
        for (p = 0; p < n_out; p++) {
            acc[p] = slf_wrap_add(acc[p], slf_sext16(lanes[p >> 1] >> ((p & 1u) << 4)));
        }
        return;
    }
    slf_lanes_widen(acc, lanes, full);
    /* the last r outputs from the overlapping block's lanes (positions 8 - r .. 7) */
    for (p = 8u - r; p < 8u; p++) {
        uint32_t word = lanes[4u * full + ((p >> 2) << 1) + (p & 1u)];
        int32_t *a = acc + n_out - 8u + p;
        *a = slf_wrap_add(*a, slf_sext16(word >> (((p >> 1) & 1u) << 4)));
    }
}

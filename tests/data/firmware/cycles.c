/*
 * Hand-timed instruction sequences for tests/test_cycles.py (Cortex-M4 only: ARMv7E-M
 * instructions). Each sequence seq_X runs from its label up to seq_X_end (a `bx lr`), so
 * the test measures it as the region (seq_X, seq_X_end); the expected cycles, worked out
 * by hand from the TRM rules in docs/cycles.md, are in the test, one line per instruction.
 *
 * Every sequence starts word-aligned and is entered with BL from main, so its first
 * instruction also pays the BL's refill P = 1 (docs/cycles.md: a refill is charged to the
 * instruction the branch lands on). Widths are spelled out (.n 16-bit, .w 32-bit) because
 * the expected refills depend on the width and alignment of branch targets.
 * r0 = `buffer` on entry; buffer[0] = &buffer, buffer[5] = seq_ldr_pc_target (Thumb bit set).
 */
#include <stdint.h>

#define SEQUENCES(X) X(alu) X(loads) X(address_stall) X(multiple) X(not_taken) X(taken_narrow) \
    X(taken_wide_unaligned) X(loop) X(compare_branch) X(call) X(ldr_pc) X(table_branch) X(unaligned) X(divide)
#define DECLARE(name) void seq_##name(uint32_t *buffer);
SEQUENCES(DECLARE)
void seq_ldr_pc_target(void);

__asm__(
    ".syntax unified\n"
    ".thumb\n"
    ".text\n"
#define BEGIN(name) ".balign 4\n.global seq_" #name "\n.type seq_" #name ", %function\n.thumb_func\nseq_" #name ":\n"
#define END(name) ".global seq_" #name "_end\n.type seq_" #name "_end, %function\n.thumb_func\nseq_" #name "_end:\n" \
    "bx.n lr\n"

    BEGIN(alu)
    "adds.n r1, r0, #1\n"
    "eor.w r2, r1, r0\n"
    "muls.n r2, r1, r2\n"
    "smlabb r3, r1, r2, r3\n"
    "umull r2, r3, r1, r2\n"
    "sxtb16 r3, r3\n"
    "cmp.n r1, r1\n"
    "ite eq\n"
    "moveq.n r2, #1\n"
    "movne.n r2, #2\n"
    "mov.w r3, #5\n"
    END(alu)

    BEGIN(loads)
    "movs.n r1, #12\n"
    "ldr.n r3, [r0]\n"
    "ldr.n r2, [r0, #4]\n"
    "ldr.w r12, [r0, #8]\n"
    "ldr.n r1, [r0]\n"
    "ldr.n r2, [r1]\n"
    "str.n r2, [r0, #8]\n"
    "ldr.n r3, [r0, #4]\n"
    "movs.n r1, #12\n"
    "nop.n\n"
    "ldr.n r2, [r0, r1]\n"
    "str.n r2, [r0, r1]\n"
    "str.n r2, [r0, r1]\n"
    "ldrb.n r2, [r0]\n"
    "ldrh.n r3, [r0, #2]\n"
    "ldrsb.w r2, [r0, #1]\n"
    END(loads)

    BEGIN(address_stall)
    "adds.n r1, r0, #4\n"
    "ldr.n r2, [r1]\n"
    "adds.n r3, r0, #4\n"
    "ldr.n r2, [r0]\n"
    "mov.n r1, r0\n"
    "str.n r2, [r1, #4]\n"
    "movs.n r1, #4\n"
    "ldr.n r2, [r0, r1]\n"
    "adds.n r2, #1\n"
    "str.n r2, [r0, #8]\n"
    END(address_stall)

    BEGIN(multiple)
    "ldrd r2, r3, [r0]\n"
    "ldr.n r1, [r0]\n"
    "ldmia.w r0, {r1, r2, r3}\n"
    "ldr.n r1, [r0]\n"
    "push.n {r4, r5, r6}\n"
    "pop.n {r4, r5, r6}\n"
    "strd r2, r3, [r0, #8]\n"
    "stmia.w r0, {r1, r2}\n"
    END(multiple)

    BEGIN(not_taken)
    "cmp.n r0, r0\n"
    "bne.n 1f\n"
    "nop.n\n"
    "1: nop.n\n"
    END(not_taken)

    BEGIN(taken_narrow)
    "cmp.n r0, r0\n"
    "beq.n 1f\n"
    "nop.n\n"
    "nop.n\n"
    "1: nop.n\n"
    END(taken_narrow)

    BEGIN(taken_wide_unaligned)
    "cmp.n r0, r0\n"
    "beq.n 1f\n"
    "nop.n\n"
    "1: add.w r1, r1, #1\n"
    END(taken_wide_unaligned)

    BEGIN(loop)
    "movs.n r1, #3\n"
    "1: subs.n r1, #1\n"
    "bne.n 1b\n"
    END(loop)

    BEGIN(compare_branch)
    "movs.n r1, #0\n"
    "cbz r1, 1f\n"
    "nop.n\n"
    "1: cbnz r1, 2f\n"
    "nop.n\n"
    "2: nop.n\n"
    END(compare_branch)

    BEGIN(call)
    "push.n {r4, lr}\n"
    "bl helper_leaf\n"
    "nop.n\n"
    "bl helper_pop\n"
    "nop.n\n"
    "pop.w {r4, lr}\n"
    END(call)

    BEGIN(ldr_pc)
    "ldr.w pc, [r0, #20]\n"
    "nop.n\n"
    ".balign 4\n"
    ".global seq_ldr_pc_target\n.type seq_ldr_pc_target, %function\n.thumb_func\n"
    "seq_ldr_pc_target:\n"
    "nop.n\n"
    END(ldr_pc)

    BEGIN(table_branch)
    "movs.n r1, #1\n"
    "nop.n\n"
    "tbb [pc, r1]\n"
    "2: .byte (3f - 2b) / 2\n"
    ".byte (4f - 2b) / 2\n"
    "3: nop.n\n"
    "4: nop.n\n"
    END(table_branch)

    BEGIN(unaligned)
    "ldr.w r2, [r0, #1]\n"
    "nop.n\n"
    "ldr.w r2, [r0, #2]\n"
    "nop.n\n"
    "ldrh.w r2, [r0, #1]\n"
    "str.w r2, [r0, #6]\n"
    "strh.w r2, [r0, #3]\n"
    "ldr.w r3, [r0, #4]\n"
    END(unaligned)

    BEGIN(divide)
    "movs.n r1, #100\n"
    "movs.n r2, #7\n"
    "udiv r3, r1, r2\n"
    "sdiv r3, r1, r2\n"
    END(divide)

    ".balign 4\n"
    ".type helper_leaf, %function\n.thumb_func\nhelper_leaf:\n"
    "bx.n lr\n"
    ".balign 4\n"
    ".type helper_pop, %function\n.thumb_func\nhelper_pop:\n"
    "push.n {r4, lr}\n"
    "movs.n r4, #1\n"
    "pop.n {r4, pc}\n"
);

static uint32_t buffer[16] __attribute__((aligned(8)));

int main(void)
{
    buffer[0] = (uint32_t)(uintptr_t)buffer;
    buffer[5] = (uint32_t)(uintptr_t)seq_ldr_pc_target;
#define CALL(name) seq_##name(buffer);
    SEQUENCES(CALL)
    return 0;
}

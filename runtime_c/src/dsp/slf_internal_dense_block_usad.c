/* slf_internal_dense_block_usad: the USADA8 inner loop shared by the dense kernels' DSP versions
 * (internal, not part of the API; declared in slf_dsp.h). All registers are spelled out: 4
 * accumulators, 4 weight words, 2 masks, 3 pointers/counters. See dsp/slf_dense_spikes_s8.c for
 * the arithmetic. */
#include "slf_dsp.h"

__attribute__((naked, noinline)) void slf_internal_dense_block_usad(int32_t *acc __attribute__((unused)),
                                                                           const uint8_t *w __attribute__((unused)),
                                                                           const uint32_t *m __attribute__((unused)),
                                                                           uint32_t pairs __attribute__((unused)))
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "movs   r4, #0\n\t"
        "movs   r5, #0\n\t"
        "movs   r6, #0\n\t"
        "movs   r7, #0\n\t"
        "1:\n\t"
        "ldrd   r12, lr, [r2], #8\n\t"
        "ldm    r1!, {r8-r11}\n\t"
        "usada8 r4, r8, r12, r4\n\t"
        "usada8 r5, r9, r12, r5\n\t"
        "usada8 r6, r10, r12, r6\n\t"
        "usada8 r7, r11, r12, r7\n\t"
        "ldm    r1!, {r8-r11}\n\t"
        "usada8 r4, r8, lr, r4\n\t"
        "usada8 r5, r9, lr, r5\n\t"
        "usada8 r6, r10, lr, r6\n\t"
        "usada8 r7, r11, lr, r7\n\t"
        "subs   r3, r3, #1\n\t"
        "bne    1b\n\t"
        "stm    r0, {r4-r7}\n\t"
        "pop    {r4-r11, pc}\n\t");
}


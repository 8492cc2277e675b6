/* slf_silif_update_q31, Cortex-M DSP version: one SiLIF step for a layer. Contract:
 * include/slf_neurons.h; portable reference: portable/slf_silif_update_q31.c. */
#include "../internal/slf_checks.h"
#include "../internal/slf_ring.h"
#include "slf_dsp.h"

/* The DSP loop of slf_silif_update_q31 in hand-allocated registers (GCC spills otherwise):
 * the same operations as the portable reference (ranges: include/slf_neurons.h), ordered for the
 * Cortex-M4 timing (docs/cycles.md). The eight words a neuron reads are single loads in two
 * unbroken runs, because a load right after a load costs one cycle while LDM and LDRD cost as
 * much and never overlap a neighbour: five (s, u, w, k_beta, k_a|jump), then, once w' is stored
 * and only the reset and x = reset + w' are live, three (acc, bias, mult|k_leak); u' and w' are
 * single stores (one cycle each; STRD takes three). The record's halfword pairs are used in
 * place: SMLAWB takes k_a from the bottom half, SMULWT jump and k_leak from the top, UXTH
 * extracts mult. Five loads in the first run leave one register for 4*threshold, so the jump
 * product needs one MUL and the reset one MLS.
 * Registers: r0-r4 scratch, r5 = 4*threshold, r6 records, r8 cells, r9 spike flags, r10
 * accumulators (read only: the caller zeroes the slot afterwards), r11 spike list, r12 = index i
 * in the low half and the neurons left in the high half (carry out ends the loop), lr =
 * threshold. Four neurons per iteration, one branch: neuron 0's first access of each array
 * post-increments it by the whole iteration, every other access is a negative offset from there.
 * Per neuron 28 instructions (8 loads, 4 stores, 15 data-processing, the index ADD) and a quarter
 * BCC: 30.5 estimated cycles (10 for the loads, 4, 15, 1, 0.5 for the taken branch).
 * Returns the end of the spike list. n >= 1. */
SLF_STATIC_ASSERT(silif_record_order,
                  offsetof(slf_silif_neuron, k_beta) == 0 && offsetof(slf_silif_neuron, bias) == 4 &&
                      offsetof(slf_silif_neuron, k_a) == 8 && offsetof(slf_silif_neuron, jump) == 10 &&
                      offsetof(slf_silif_neuron, mult) == 12 && offsetof(slf_silif_neuron, k_leak) == 14 &&
                      sizeof(slf_silif_neuron) == 16);

/* One neuron of the DSP loop (registers as described above); the arguments are the addressing
 * of each access, "[base], #step" (post-increment) or "[base, #offset]"; s_out and u_out
 * address the same flag and cell as s and u, without the increment. ka_jump and mult_leak are
 * the record's halfword pairs (k_a | jump << 16, mult | k_leak << 16). */
#define SLF_SILIF_NEURON_ASM(s, u, w, k_beta, ka_jump, acc, bias, mult_leak, s_out, u_out)      \
    "ldrb   r0, " s "\n\t"                   /* s */                               \
    "ldr    r1, " u "\n\t"                   /* u */                               \
    "ldr    r2, " w "\n\t"                   /* w */                               \
    "ldr    r3, " k_beta "\n\t"                                                    \
    "ldr    r4, " ka_jump "\n\t"                                                   \
    "smmulr r3, r2, r3\n\t"                  /* h = r32(w, k_beta) */              \
    "smlawb r3, r1, r4, r3\n\t"              /*   + w16(u, k_a) */                 \
    "mul    r2, r0, r5\n\t"                  /* s*4*threshold */                   \
    "mls    r1, r0, lr, r1\n\t"              /* reset = u - s*threshold */         \
    "smulwt r2, r2, r4\n\t"                  /* w16(s*4*threshold, jump) */        \
    "qdadd  r2, r2, r3\n\t"                  /* w' = sat32(jump term + sat32(2h)) */ \
    "qadd   r3, r1, r2\n\t"                  /* x = sat32(reset + w') */           \
    "str    r2, " w "\n\t"                                                         \
    "ldr    r0, " acc "\n\t"                 /* acc */                             \
    "ldr    r2, " bias "\n\t"                                                      \
    "ldr    r4, " mult_leak "\n\t"                                                 \
    "smulwt r3, r3, r4\n\t"                  /* w16(x, k_leak) */                  \
    "uxth   r4, r4\n\t"                      /* mult */                            \
    "mla    r0, r0, r4, r2\n\t"              /* I = acc*mult + bias */             \
    "qadd   r1, r1, r0\n\t"                  /* c = sat32(reset + I) */            \
    "qdadd  r1, r1, r3\n\t"                  /* u' = sat32(c + sat32(2 w16)) */    \
    "str    r1, " u_out "\n\t"                                                     \
    /* spike = u' > threshold; branch-free list emission */                        \
    "qsub   r0, lr, r1\n\t"                                                        \
    "lsrs   r0, r0, #31\n\t"                                                       \
    "strb   r0, " s_out "\n\t"                                                     \
    "strh   r12, [r11]\n\t"                                                        \
    "add    r11, r11, r0, lsl #1\n\t"

static uint16_t *slf_silif_loop_dsp(const slf_silif_neuron *p, slf_silif_cell *cell, uint8_t *spiked,
                                    const int32_t *acc, uint16_t *out, uint32_t n, int32_t threshold)
{
    register const slf_silif_neuron *rp __asm__("r6") = p;
    register slf_silif_cell *rcell __asm__("r8") = cell;
    register uint8_t *rspk __asm__("r9") = spiked;
    register const int32_t *racc __asm__("r10") = acc;
    register uint16_t *rout __asm__("r11") = out;
    register uint32_t ric __asm__("r12") = (0x10000u - n) << 16;
    __asm__ volatile(
        "ldr    lr, %[thr]\n\t"
        "lsl    r5, lr, #2\n\t" /* 4*threshold < 2^31 inside the contract (modulo 2^32 outside) */
        /* four neurons per iteration, one branch; n = 4k - j (bits 16-17 of r12 hold j) enters
         * at neuron j, with the pointers where neurons 0..j-1 would have left them */
        "ubfx   r0, r12, #16, #2\n\t"
        "cbz    r0, 1f\n\t"
        "cmp    r0, #2\n\t"
        "beq    5f\n\t"
        "bhi    6f\n\t"
        "add    r6, r6, #48\n\t"
        "add    r8, r8, #24\n\t"
        "add    r9, r9, #3\n\t"
        "add    r10, r10, #12\n\t"
        "b      2f\n\t"
        "5:\n\t"
        "add    r6, r6, #32\n\t"
        "add    r8, r8, #16\n\t"
        "add    r9, r9, #2\n\t"
        "add    r10, r10, #8\n\t"
        "b      3f\n\t"
        "6:\n\t"
        "add    r6, r6, #16\n\t"
        "add    r8, r8, #8\n\t"
        "add    r9, r9, #1\n\t"
        "add    r10, r10, #4\n\t"
        "b      4f\n\t"
        ".p2align 2\n\t" /* the loop branch lands on a 32-bit instruction: aligned, no extra refill */
        "1:\n\t"
        /* after neuron 0's post-increments: r6 = its record + 64, r8 = its cell + 32,
         * r9 = its flag + 4, r10 = its acc + 16 */
        SLF_SILIF_NEURON_ASM("[r9], #4", "[r8], #32", "[r8, #-28]", "[r6], #64", "[r6, #-56]", "[r10], #16",
                             "[r6, #-60]", "[r6, #-52]", "[r9, #-4]", "[r8, #-32]")
        "add    r12, r12, #0x10001\n\t"
        "2:\n\t"
        SLF_SILIF_NEURON_ASM("[r9, #-3]", "[r8, #-24]", "[r8, #-20]", "[r6, #-48]", "[r6, #-40]", "[r10, #-12]",
                             "[r6, #-44]", "[r6, #-36]", "[r9, #-3]", "[r8, #-24]")
        "add    r12, r12, #0x10001\n\t"
        "3:\n\t"
        SLF_SILIF_NEURON_ASM("[r9, #-2]", "[r8, #-16]", "[r8, #-12]", "[r6, #-32]", "[r6, #-24]", "[r10, #-8]",
                             "[r6, #-28]", "[r6, #-20]", "[r9, #-2]", "[r8, #-16]")
        "add    r12, r12, #0x10001\n\t"
        "4:\n\t"
        SLF_SILIF_NEURON_ASM("[r9, #-1]", "[r8, #-8]", "[r8, #-4]", "[r6, #-16]", "[r6, #-8]", "[r10, #-4]",
                             "[r6, #-12]", "[r6, #-4]", "[r9, #-1]", "[r8, #-8]")
        "adds   r12, r12, #0x10001\n\t"
        "bcc    1b\n\t"
        : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)
        : [thr] "m"(threshold)
        : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");
    return rout;
}

slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes)
{
    const slf_silif_neuron *restrict p;
    slf_silif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out;
    int32_t threshold;
    uint32_t n;
    slf_status status;

    if (layer == NULL || state == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    status = slf_check_spiking_update(layer->neuron, state->cell, state->spiked, n, input, spikes);
    if (status != SLF_OK) {
        return status;
    }

    p = layer->neuron;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    out = spikes->index;
    threshold = layer->threshold;
    if (n != 0u) {
        out = slf_silif_loop_dsp(p, cell, spiked, acc, out, n, threshold);
        slf_zero_s32_dsp(acc, n);
    }
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

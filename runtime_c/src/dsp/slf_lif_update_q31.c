/* slf_lif_update_q31, Cortex-M DSP version (SLF_USE_DSP): one step of a LIF-family layer.
 * Contract: include/slf_lif.h; the same integers as portable/slf_lif_update_q31.c.
 *
 * A layer's flags are fixed, so each common spiking combination has its own loop with no
 * per-neuron test of them: LIF and CubaLIF with a subtract or a value reset, and IF with a
 * value reset. These are hand-allocated assembly, like the SiLIF loop (slf_silif_update_q31.c);
 * the other combinations (the non-spiking output kinds, IF with a subtract reset) run one C loop
 * that tests the flags per neuron.
 * Products are SMMULR + QDADD (slf_r32, slf_dmac), sums QADD, the spike test QSUB. */
#include "../internal/slf_lif_step.h"
#include "slf_dsp.h"

/* The five loops in hand-allocated registers, ordered for the Cortex-M4 timing as the SiLIF
 * loop (slf_silif_update_q31.c, docs/cycles.md): a neuron's words are single loads in unbroken
 * runs (a load right after a load costs one cycle; LDM and LDRD cost as much and never overlap a
 * neighbour), v' and j' are two single stores (one cycle each; STRD takes three), and each
 * neuron's first access of an array post-increments it, every later one a negative offset.
 * Registers: r6 records (the next record after the first load), r8 cells, r9 spike flags, r10
 * accumulators (read only: the caller zeroes the slot afterwards), r11 spike list, r12 = index
 * in the low half and iterations left in the high half; r0-r5 and lr scratch. Every neuron
 * starts with the same five loads: s (r5), acc (r0), mult (r1), bias (r2), v (r3). Each neuron
 * ends with the index ADD; two neurons per iteration, one taken BCC (2 cycles) per pair. Per neuron:
 *   LIF, subtract:     9 loads (7 + 2: 11 cycles), 4 stores, 8 data-processing: 22 instructions, 25 cycles
 *   CubaLIF, subtract: 11 loads (7 + 4: 13),      4 stores, 10:                 26 instructions, 29 cycles
 *   LIF, value:        10 loads (7 + 3: 12),      4 stores, 11:                 26 instructions, 29 cycles
 *   CubaLIF, value:    12 loads (7 + 4 + 1: 15),  4 stores, 13:                 30 instructions, 34 cycles
 *   IF, value:         9 loads (7 + 2: 11),       4 stores, 10:                 24 instructions, 27 cycles
 * (instructions include the index ADD, not the BCC; cycles: loads + stores + data processing + the
 * index ADD + half the BCC.) */
SLF_STATIC_ASSERT(lif_record_order,
                  offsetof(slf_lif_neuron, mult) == 0 && offsetof(slf_lif_neuron, bias) == 4 &&
                      offsetof(slf_lif_neuron, k_beta) == 8 && offsetof(slf_lif_neuron, k_alpha) == 12 &&
                      offsetof(slf_lif_neuron, leak) == 16 && offsetof(slf_lif_neuron, threshold) == 20 &&
                      offsetof(slf_lif_neuron, reset_to) == 24 && offsetof(slf_lif_neuron, reset_sub) == 28 &&
                      sizeof(slf_lif_neuron) == 32 && sizeof(slf_lif_cell) == 8 &&
                      offsetof(slf_lif_cell, v) == 0 && offsetof(slf_lif_cell, j) == 4);

/* The first loads of every neuron: s, acc, mult, bias (r6 then at the next record: a field at
 * offset k of this one is [r6, #k-32]), then the cell's v (r3, r8 then at the next cell). */
#define SLF_LIF_ASM_HEAD \
    "ldrb   r5, [r9], #1\n\t"                /* s */                                    \
    "ldr    r0, [r10], #4\n\t"               /* acc */                                  \
    "ldr    r1, [r6], #32\n\t"               /* mult */                                 \
    "ldr    r2, [r6, #-28]\n\t"              /* bias */                                 \
    "ldr    r3, [r8], #8\n\t"                /* v */
/* I = acc*mult + bias (r0) */
#define SLF_LIF_ASM_INPUT "mla    r0, r0, r1, r2\n\t"
/* v_r = s ? reset_to : v, with reset_to in R (r3) */
#define SLF_LIF_ASM_RESET_VALUE(R) "cmp    r5, #0\n\t" "it     ne\n\t" "movne  r3, " R "\n\t"
/* The stores of v' (V) and j' (J), then spike = v' > threshold (T) in X: branch-free list emission */
#define SLF_LIF_ASM_TAIL(V, J, T, X) \
    "str    " V ", [r8, #-8]\n\t"                                                       \
    "str    " J ", [r8, #-4]\n\t"                                                       \
    "qsub   " X ", " T ", " V "\n\t"                                                    \
    "lsr    " X ", " X ", #31\n\t"                                                      \
    "strb   " X ", [r9, #-1]\n\t"                                                       \
    "strh   r12, [r11]\n\t"                                                             \
    "add    r11, r11, " X ", lsl #1\n\t"

/* LIF, reset by subtraction: j' = I */
#define SLF_LIF_NEURON_LIF_SUBTRACT \
    SLF_LIF_ASM_HEAD                                                                    \
    "ldr    r4, [r6, #-24]\n\t"              /* k_beta */                               \
    "ldr    lr, [r6, #-16]\n\t"              /* leak */                                 \
    SLF_LIF_ASM_INPUT                                                                   \
    "smmulr r3, r3, r4\n\t"                  /* h = r32(v, k_beta) */                   \
    "ldr    r1, [r6, #-4]\n\t"               /* reset_sub */                            \
    "ldr    r2, [r6, #-12]\n\t"              /* threshold */                            \
    "mls    lr, r5, r1, lr\n\t"              /* leak - s*reset_sub (exact: layer check) */ \
    "qadd   r4, r0, lr\n\t"                  /* c = sat32(j' + leak - s*reset_sub) */   \
    "qdadd  r1, r4, r3\n\t"                  /* v' = dmac(c, h) */                      \
    SLF_LIF_ASM_TAIL("r1", "r0", "r2", "r2")

/* CubaLIF, reset by subtraction */
#define SLF_LIF_NEURON_CUBALIF_SUBTRACT \
    SLF_LIF_ASM_HEAD                                                                    \
    "ldr    r4, [r8, #-4]\n\t"               /* j */                                    \
    "ldr    lr, [r6, #-20]\n\t"              /* k_alpha */                              \
    SLF_LIF_ASM_INPUT                                                                   \
    "smmulr r4, r4, lr\n\t"                                                             \
    "qdadd  r4, r0, r4\n\t"                  /* j' = dmac(I, r32(j, k_alpha)) */        \
    "ldr    r0, [r6, #-24]\n\t"              /* k_beta */                               \
    "ldr    r1, [r6, #-16]\n\t"              /* leak */                                 \
    "ldr    r2, [r6, #-4]\n\t"               /* reset_sub */                            \
    "ldr    lr, [r6, #-12]\n\t"              /* threshold */                            \
    "mls    r1, r5, r2, r1\n\t"              /* leak - s*reset_sub */                   \
    "qadd   r1, r4, r1\n\t"                  /* c */                                    \
    "smmulr r0, r3, r0\n\t"                  /* h = r32(v, k_beta) */                   \
    "qdadd  r3, r1, r0\n\t"                  /* v' = dmac(c, h) */                      \
    SLF_LIF_ASM_TAIL("r3", "r4", "lr", "r0")

/* LIF, reset to a value: j' = I */
#define SLF_LIF_NEURON_LIF_VALUE \
    SLF_LIF_ASM_HEAD                                                                    \
    "ldr    r4, [r6, #-8]\n\t"               /* reset_to */                             \
    "ldr    lr, [r6, #-24]\n\t"              /* k_beta */                               \
    SLF_LIF_ASM_INPUT                                                                   \
    SLF_LIF_ASM_RESET_VALUE("r4")                                                       \
    "smmulr r3, r3, lr\n\t"                  /* h = r32(v_r, k_beta) */                 \
    "ldr    r1, [r6, #-16]\n\t"              /* leak */                                 \
    "ldr    r2, [r6, #-4]\n\t"               /* reset_sub */                            \
    "ldr    lr, [r6, #-12]\n\t"              /* threshold */                            \
    "mls    r1, r5, r2, r1\n\t"              /* leak - s*reset_sub */                   \
    "qadd   r4, r0, r1\n\t"                  /* c */                                    \
    "qdadd  r1, r4, r3\n\t"                  /* v' = dmac(c, h) */                      \
    SLF_LIF_ASM_TAIL("r1", "r0", "lr", "r2")

/* CubaLIF, reset to a value: three runs of loads (seven registers hold at most seven words,
 * and j', s and v stay live across the second run) */
#define SLF_LIF_NEURON_CUBALIF_VALUE \
    SLF_LIF_ASM_HEAD                                                                    \
    "ldr    r4, [r8, #-4]\n\t"               /* j */                                    \
    "ldr    lr, [r6, #-20]\n\t"              /* k_alpha */                              \
    SLF_LIF_ASM_INPUT                                                                   \
    "smmulr r4, r4, lr\n\t"                                                             \
    "qdadd  r4, r0, r4\n\t"                  /* j' = dmac(I, r32(j, k_alpha)) */        \
    "ldr    r0, [r6, #-8]\n\t"               /* reset_to */                             \
    "ldr    r1, [r6, #-4]\n\t"               /* reset_sub */                            \
    "ldr    r2, [r6, #-16]\n\t"              /* leak */                                 \
    "ldr    lr, [r6, #-24]\n\t"              /* k_beta */                               \
    SLF_LIF_ASM_RESET_VALUE("r0")                                                       \
    "mls    r2, r5, r1, r2\n\t"              /* leak - s*reset_sub */                   \
    "qadd   r2, r4, r2\n\t"                  /* c */                                    \
    "smmulr r0, r3, lr\n\t"                  /* h = r32(v_r, k_beta) */                 \
    "qdadd  r3, r2, r0\n\t"                  /* v' = dmac(c, h) */                      \
    "ldr    lr, [r6, #-12]\n\t"              /* threshold */                            \
    SLF_LIF_ASM_TAIL("r3", "r4", "lr", "r0")

/* IF, reset to a value: j' = I, v' = sat32(c + v_r) */
#define SLF_LIF_NEURON_IF_VALUE \
    SLF_LIF_ASM_HEAD                                                                    \
    "ldr    r4, [r6, #-8]\n\t"               /* reset_to */                             \
    "ldr    lr, [r6, #-16]\n\t"              /* leak */                                 \
    SLF_LIF_ASM_INPUT                                                                   \
    SLF_LIF_ASM_RESET_VALUE("r4")                                                       \
    "ldr    r1, [r6, #-4]\n\t"               /* reset_sub */                            \
    "ldr    r2, [r6, #-12]\n\t"              /* threshold */                            \
    "mls    lr, r5, r1, lr\n\t"              /* leak - s*reset_sub */                   \
    "qadd   r4, r0, lr\n\t"                  /* c */                                    \
    "qadd   r1, r4, r3\n\t"                  /* v' = sat32(c + v_r) */                  \
    SLF_LIF_ASM_TAIL("r1", "r0", "r2", "r2")

/* A loop over n >= 1 neurons of one flag combination, two per iteration (one branch; an odd n
 * enters at the second, each neuron moving its own pointers). Returns the end of the spike list. */
#define SLF_LIF_LOOP_ASM(name, NEURON)                                                                      \
    static uint16_t *name(const slf_lif_neuron *p, slf_lif_cell *cell, uint8_t *spiked, const int32_t *acc, \
                          uint16_t *out, uint32_t n)                                                         \
    {                                                                                                        \
        register const slf_lif_neuron *rp __asm__("r6") = p;                                                 \
        register slf_lif_cell *rcell __asm__("r8") = cell;                                                   \
        register uint8_t *rspk __asm__("r9") = spiked;                                                       \
        register const int32_t *racc __asm__("r10") = acc;                                                   \
        register uint16_t *rout __asm__("r11") = out;                                                        \
        register uint32_t ric __asm__("r12") = (0x10000u - n) << 16;                                         \
        __asm__ volatile("tst    r12, #0x10000\n\t"                                                          \
                         "bne    2f\n\t"                                                                     \
                         ".p2align 2\n\t" /* the loop branch lands on a 32-bit instruction: aligned */      \
                         "1:\n\t" NEURON                                                                     \
                         "add    r12, r12, #0x10001\n\t"                                                     \
                         "2:\n\t" NEURON                                                                     \
                         "adds   r12, r12, #0x10001\n\t"                                                     \
                         "bcc    1b\n\t"                                                                     \
                         : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)             \
                         :                                                                                   \
                         : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");                        \
        return rout;                                                                                         \
    }

SLF_LIF_LOOP_ASM(slf_lif_loop_lif_subtract, SLF_LIF_NEURON_LIF_SUBTRACT)
SLF_LIF_LOOP_ASM(slf_lif_loop_cubalif_subtract, SLF_LIF_NEURON_CUBALIF_SUBTRACT)
SLF_LIF_LOOP_ASM(slf_lif_loop_lif_value, SLF_LIF_NEURON_LIF_VALUE)
SLF_LIF_LOOP_ASM(slf_lif_loop_cubalif_value, SLF_LIF_NEURON_CUBALIF_VALUE)
SLF_LIF_LOOP_ASM(slf_lif_loop_if_value, SLF_LIF_NEURON_IF_VALUE)

/* n neurons of a layer with the given flags; returns the end of the spike list. */
SLF_INLINE uint16_t *slf_lif_loop(const slf_lif_neuron *p, slf_lif_cell *cell, uint8_t *spiked, int32_t *acc,
                                  uint16_t *out, uint32_t n, uint32_t flags)
{
    uint32_t i;
    SLF_IN_REGISTER(p);
    SLF_IN_REGISTER(cell);
    for (i = 0; i < n; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_mla_wrap(p->bias, *acc, p->mult);
        int32_t s = *spiked;
        int32_t j = (flags & SLF_LIF_CURRENT) ? slf_dmac(current, slf_r32(cell->j, p->k_alpha)) : current;
        int32_t v = ((flags & SLF_LIF_RESET_VALUE) && s) ? p->reset_to : cell->v;
        /* leak - s*reset_sub is exact (slf_lif_layer_check), so one QADD saturates as the reference */
        int32_t c = __qadd(j, slf_mls_wrap(p->leak, s, p->reset_sub));
        v = (flags & SLF_LIF_INTEGRATOR) ? __qadd(c, v) : slf_dmac(c, slf_r32(v, p->k_beta));
        *acc = 0;
        cell->v = v;
        cell->j = j;
        if (flags & SLF_LIF_SPIKING) {
            uint32_t fire = slf_greater(v, p->threshold);
            *spiked = (uint8_t)fire;
            *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
            out += fire;
        }
    }
    return out;
}

/* The loop with the flags as a run-time value (the rare combinations). */
static uint16_t *slf_lif_loop_any(const slf_lif_neuron *p, slf_lif_cell *cell, uint8_t *spiked, int32_t *acc,
                                  uint16_t *out, uint32_t n, uint32_t flags)
{
    return slf_lif_loop(p, cell, spiked, acc, out, n, flags);
}

/* The assembly loops of the common combinations; they read acc, so the slot is zeroed after. */
#define SLF_LIF_LOOP(asm_loop) (n == 0u ? out : (out = asm_loop(p, cell, spiked, acc, out, n), \
                                                slf_zero_s32_dsp(acc, n), out))

slf_status slf_lif_update_q31(const slf_lif_layer *layer, slf_lif_state *state, slf_delay_ring_s32 *input,
                              slf_spike_list *spikes, int32_t *totals)
{
    const slf_lif_neuron *p;
    slf_lif_cell *cell;
    uint8_t *spiked;
    int32_t *acc;
    uint16_t *out = NULL;
    uint32_t n;
    slf_status status = slf_check_lif_update(layer, state, input, spikes);

    if (status != SLF_OK) {
        return status;
    }
    n = layer->n;
    p = layer->neuron;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    if (layer->flags & SLF_LIF_SPIKING) {
        out = spikes->index;
    }
    switch (layer->flags) {
    case SLF_LIF_SPIKING: /* LIF, reset by subtraction (snnTorch Leaky) */
        out = SLF_LIF_LOOP(slf_lif_loop_lif_subtract);
        break;
    case SLF_LIF_SPIKING | SLF_LIF_CURRENT: /* CubaLIF, subtraction (snnTorch Synaptic) */
        out = SLF_LIF_LOOP(slf_lif_loop_cubalif_subtract);
        break;
    case SLF_LIF_SPIKING | SLF_LIF_RESET_VALUE: /* LIF, reset to a value (Norse LIFBoxCell) */
        out = SLF_LIF_LOOP(slf_lif_loop_lif_value);
        break;
    case SLF_LIF_SPIKING | SLF_LIF_CURRENT | SLF_LIF_RESET_VALUE: /* CubaLIF, value (Norse LIFCell) */
        out = SLF_LIF_LOOP(slf_lif_loop_cubalif_value);
        break;
    case SLF_LIF_SPIKING | SLF_LIF_INTEGRATOR | SLF_LIF_RESET_VALUE: /* IF, value (Norse IAFCell) */
        out = SLF_LIF_LOOP(slf_lif_loop_if_value);
        break;
    default:
        out = slf_lif_loop_any(p, cell, spiked, acc, out, n, layer->flags);
        break;
    }
    slf_lif_finish(layer, state, input, spikes, out, totals);
    return SLF_OK;
}

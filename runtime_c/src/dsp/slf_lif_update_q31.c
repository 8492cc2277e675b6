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

/* One neuron in hand-allocated registers: r6 records, r8 cells, r9 spike flags, r10
 * accumulators (read only: the caller zeroes the slot afterwards), r11 spike list, r12 = index
 * in the low half and iterations left in the high half; r0-r5 and lr scratch. After the first
 * loads r0 = I, r1 = v, r2 = j, r3 = k_beta, r4 = k_alpha; J names the register of the new j
 * (r2 after the current's decay, else I itself in r0), F the other one, free from then on. */
SLF_STATIC_ASSERT(lif_record_order,
                  offsetof(slf_lif_neuron, mult) == 0 && offsetof(slf_lif_neuron, bias) == 4 &&
                      offsetof(slf_lif_neuron, k_beta) == 8 && offsetof(slf_lif_neuron, k_alpha) == 12 &&
                      offsetof(slf_lif_neuron, leak) == 16 && offsetof(slf_lif_neuron, threshold) == 20 &&
                      offsetof(slf_lif_neuron, reset_to) == 24 && offsetof(slf_lif_neuron, reset_sub) == 28 &&
                      sizeof(slf_lif_neuron) == 32);

/* j' = dmac(I, r32(j, k_alpha)) into r2 (SLF_LIF_CURRENT) */
#define SLF_LIF_ASM_CURRENT "smmulr r2, r2, r4\n\t" "qdadd  r2, r0, r2\n\t"
/* v_r = s ? reset_to : v (SLF_LIF_RESET_VALUE); then F = reset_sub, r6 at the next record */
#define SLF_LIF_ASM_RESET_VALUE(F) \
    "ldr    " F ", [r6], #4\n\t" "cmp    r5, #0\n\t" "it     ne\n\t" "movne  r1, " F "\n\t" \
    "ldr    " F ", [r6], #4\n\t"
#define SLF_LIF_ASM_RESET_KEEP(F) "ldr    " F ", [r6, #4]\n\t" "add    r6, r6, #8\n\t"
/* v' from c (r4) and v_r (r1): dmac(c, r32(v_r, k_beta)), or sat32(c + v_r) (SLF_LIF_INTEGRATOR) */
#define SLF_LIF_ASM_DECAY(F) "smmulr " F ", r1, r3\n\t" "qdadd  r1, r4, " F "\n\t"
#define SLF_LIF_ASM_INTEGRATE(F) "qadd   r1, r4, r1\n\t"

#define SLF_LIF_NEURON_ASM(J, F, CURRENT, RESET, MEMBRANE) \
    "ldr    r0, [r10], #4\n\t"               /* acc */                                  \
    "ldmia  r6!, {r1, r2, r3, r4}\n\t"       /* mult, bias, k_beta, k_alpha */          \
    "mla    r0, r0, r1, r2\n\t"              /* I = acc*mult + bias */                  \
    "ldrd   r1, r2, [r8]\n\t"                /* v, j */                                 \
    CURRENT                                                                               \
    "ldrb   r5, [r9]\n\t"                    /* s */                                    \
    "ldmia  r6!, {r4, lr}\n\t"               /* leak, threshold */                      \
    RESET(F)                                                                              \
    "mls    r4, r5, " F ", r4\n\t"           /* leak - s*reset_sub (exact: layer check) */ \
    "qadd   r4, " J ", r4\n\t"               /* c = sat32(j' + leak - s*reset_sub) */   \
    MEMBRANE(F)                                                                           \
    "strd   r1, " J ", [r8], #8\n\t"         /* v', j' */                               \
    /* spike = v' > threshold; branch-free list emission */                               \
    "qsub   " F ", lr, r1\n\t"                                                           \
    "lsr    " F ", " F ", #31\n\t"                                                       \
    "strb   " F ", [r9], #1\n\t"                                                         \
    "strh   r12, [r11]\n\t"                                                              \
    "add    r11, r11, " F ", lsl #1\n\t"

/* A loop over n >= 1 neurons of one flag combination, two per iteration (one branch; an odd n
 * enters at the second), as slf_silif_update_q31's. Returns the end of the spike list. */
#define SLF_LIF_LOOP_ASM(name, J, F, CURRENT, RESET, MEMBRANE)                                             \
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
                         "1:\n\t" SLF_LIF_NEURON_ASM(J, F, CURRENT, RESET, MEMBRANE)                         \
                         "add    r12, r12, #0x10001\n\t"                                                     \
                         "2:\n\t" SLF_LIF_NEURON_ASM(J, F, CURRENT, RESET, MEMBRANE)                         \
                         "adds   r12, r12, #0x10001\n\t"                                                     \
                         "bcc    1b\n\t"                                                                     \
                         : "+r"(rp), "+r"(rcell), "+r"(rspk), "+r"(racc), "+r"(rout), "+r"(ric)             \
                         :                                                                                   \
                         : "r0", "r1", "r2", "r3", "r4", "r5", "lr", "cc", "memory");                        \
        return rout;                                                                                         \
    }

SLF_LIF_LOOP_ASM(slf_lif_loop_lif_subtract, "r0", "r2", "", SLF_LIF_ASM_RESET_KEEP, SLF_LIF_ASM_DECAY)
SLF_LIF_LOOP_ASM(slf_lif_loop_cubalif_subtract, "r2", "r0", SLF_LIF_ASM_CURRENT, SLF_LIF_ASM_RESET_KEEP,
                 SLF_LIF_ASM_DECAY)
SLF_LIF_LOOP_ASM(slf_lif_loop_lif_value, "r0", "r2", "", SLF_LIF_ASM_RESET_VALUE, SLF_LIF_ASM_DECAY)
SLF_LIF_LOOP_ASM(slf_lif_loop_cubalif_value, "r2", "r0", SLF_LIF_ASM_CURRENT, SLF_LIF_ASM_RESET_VALUE,
                 SLF_LIF_ASM_DECAY)
SLF_LIF_LOOP_ASM(slf_lif_loop_if_value, "r0", "r2", "", SLF_LIF_ASM_RESET_VALUE, SLF_LIF_ASM_INTEGRATE)

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

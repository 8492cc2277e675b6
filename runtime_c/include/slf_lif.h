/* silifc runtime: the LIF family imported from NIR graphs (LIF, CubaLIF, IF, LI, CubaLI, I).
 *
 * One kernel updates a population for one step, fused like the SiLIF kernels (slf_neurons.h)
 * with the `take` of its delay ring and the input current I = acc*mult + bias (modulo 2^32,
 * exact under the quantizer's bound; docs/fixed-point.md, "LIF-family neurons"). A
 * recurrent population's own previous spikes are accumulated into the same ring slot
 * before the update (slf_accumulate_spikes_* with the recurrent weights).
 * Portable C in src/portable/slf_lif_update_q31.c, the DSP version in src/dsp/slf_lif_update_q31.c;
 * both are exactly compiler/reference/int_ref.lif_update, with r32/dmac as in slf_neurons.h:
 *     j   = dmac(I, r32(j, k_alpha))            if SLF_LIF_CURRENT, else j = I
 *     v_r = reset_to                            if SLF_LIF_RESET_VALUE and s, else v
 *     c   = sat32(j + leak - (s ? reset_sub : 0))
 *     v'  = sat32(c + v_r)                      if SLF_LIF_INTEGRATOR
 *         = dmac(c, r32(v_r, k_beta))           otherwise
 *     s'  = v' > threshold                      if SLF_LIF_SPIKING (strict), else 0
 * s is spiked[i], the previous step's spike (0 at start).
 */
#ifndef SLF_LIF_H
#define SLF_LIF_H

#include "slf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLF_LIF_CURRENT 1u      /* CubaLIF, CubaLI: a synaptic current state j */
#define SLF_LIF_INTEGRATOR 2u   /* IF, I: no decay of v (exact integration) */
#define SLF_LIF_RESET_VALUE 4u  /* v = reset_to after a spike, before the update */
#define SLF_LIF_SPIKING 8u      /* LIF, CubaLIF, IF: emit spikes */

/* Per-neuron constants (QuantPopulation + QuantSynapses), 32 bytes; initialise by name. */
typedef struct {
    int32_t mult;      /* input scale: state LSBs per weight LSB, >= 0 */
    int32_t bias;      /* constant drive, state format */
    int32_t k_beta;    /* Q31 membrane decay, 0..SLF_Q31_LIMIT (unused by integrators) */
    int32_t k_alpha;   /* Q31 current decay, 0..SLF_Q31_LIMIT (SLF_LIF_CURRENT; else 0) */
    int32_t leak;      /* added to v per step, state format */
    int32_t threshold; /* spike when v' > threshold, state format */
    int32_t reset_to;  /* v after a spike (SLF_LIF_RESET_VALUE) */
    int32_t reset_sub; /* subtracted from c in the step after a spike (reset by subtraction; else 0) */
} slf_lif_neuron;

typedef struct {
    const slf_lif_neuron *neuron; /* [n] */
    uint16_t n;
    uint16_t flags;               /* SLF_LIF_* */
    int16_t out_shift;            /* output layer of a non-spiking kind: totals += v >> out_shift
                                   * (F - 16, so totals are Q16; a negative value shifts left) */
} slf_lif_layer;

typedef struct {
    int32_t v; /* membrane, state format (before the reset of the next step) */
    int32_t j; /* synaptic current, state format (SLF_LIF_CURRENT) */
} slf_lif_cell;

typedef struct {
    slf_lif_cell *cell; /* [n], zero at start */
    uint8_t *spiked;    /* [n] previous spikes (0/1), zero at start */
} slf_lif_state;

/* One step. spikes: the list to write (SLF_LIF_SPIKING layers; may be NULL otherwise).
 * totals: NULL, or [n] output accumulators of the network's last layer: a spiking layer adds
 * s' (saturating), a non-spiking one adds v' >> out_shift (saturating; out_shift < 0 shifts
 * left, saturating). Constants must pass slf_lif_layer_check (|leak| + |reset_sub| <= 2^31 - 1
 * keeps leak - s*reset_sub exact). Errors as slf_silif_update_q31 (SLF_ERR_NULL, SLF_ERR_SHAPE,
 * SLF_ERR_CAPACITY); nothing changes then. */
slf_status slf_lif_update_q31(const slf_lif_layer *layer, slf_lif_state *state, slf_delay_ring_s32 *input,
                              slf_spike_list *spikes, int32_t *totals);

/* SLF_OK when every record is inside its contract (mult >= 0, 0 <= k_beta, k_alpha <=
 * SLF_Q31_LIMIT, |leak| + |reset_sub| <= 2^31 - 1, flags known, |out_shift| <= 31);
 * SLF_ERR_PARAM otherwise (in src/slf_layer_check.c). */
slf_status slf_lif_layer_check(const slf_lif_layer *layer);

#ifdef __cplusplus
}
#endif

#endif /* SLF_LIF_H */

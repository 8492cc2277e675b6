/* silifc runtime: neuron-state updates (SiLIF, C-SiLIF, readout integrator).
 *
 * Each kernel updates every neuron of a layer for one step (neurons receive a constant
 * bias current, so none can be skipped), fused with:
 *  - the `take` of the layer's delay ring: acc_i = slot[head][i] is read and zeroed,
 *    then head advances to (head + 1) mod depth;
 *  - the input current (int_ref.input_current): I_i = acc_i * mult_i + bias_i, computed
 *    modulo 2^32 (one MLA). The quantizer chooses mult_i, bias_i and the largest event
 *    count per input so that this is exact for every accumulator the synapse kernels can
 *    produce (docs/fixed-point.md, "Input current"); the kernels cannot check it per step.
 *
 * Notation: Q31 = int32 value/2^31 in [-(2^31 - 2), 2^31 - 2] (SLF_Q31_LIMIT: the rounded
 * products below stay inside int64 only for these); "state format" = the layer's Q(31-F).F.
 *   sat32(x)          clamp to [-2^31, 2^31 - 1]
 *   r32(x, k)         (x*k + 2^31) >> 32: the Q31 product x*k/2^31, halved and rounded (SMMULR)
 *   w16(x, k)         (x*k) >> 16 for an int16 k: the Q15 product x*k/2^15, halved, floor (SMULWx)
 *   dmac(c, h)        sat32(c + sat32(2*h)) with h a sum of r32 terms (QDADD)
 * exactly as compiler/int_ref.py and compiler/fixedpoint.py.
 *
 * Common errors, checked before anything is written:
 *  SLF_ERR_NULL      a pointer (struct, array, layer->neuron, ring->slots) is NULL;
 *  SLF_ERR_SHAPE     ring->width != layer->n, ring->head >= ring->depth or depth == 0;
 *  SLF_ERR_CAPACITY  spikes->capacity < layer->n (the list is written branch-free).
 * Per-neuron constants are not range-checked per step (cost); out-of-range constants
 * give wrong numbers but never undefined behaviour or out-of-bounds accesses. Validate
 * them once with the slf_*_layer_check functions.
 */
#ifndef SLF_NEURONS_H
#define SLF_NEURONS_H

#include "slf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLF_Q31_LIMIT 2147483646 /* 2^31 - 2 */
#define SLF_SILIF_THRESHOLD_MAX 536870911 /* 2^29 - 1: the SiLIF jump product takes 4 * threshold */

/* ---------------------------------------------------------------- SiLIF */

/* Per-neuron constants of a SiLIF layer (QuantSiLIF + QuantSynapses), 16 bytes, in the
 * order the DSP loop's loads assume: the halves used for w' (k_a, jump) share one word, those
 * used for u' (mult, k_leak) another. Initialise by field name. */
typedef struct {
    int32_t k_beta; /* Q31 adaptation decay beta, 0..SLF_Q31_LIMIT */
    int32_t bias;   /* constant current, state format */
    int16_t k_a;    /* Q15 coupling a_hat (u -> w), 0..32767 (a_hat = 1 is stored as 32767) */
    int16_t jump;   /* b_hat in units of threshold/2^14, 0..32767 (added to w after a spike; 2 is 32767) */
    uint16_t mult;  /* input scale: state LSBs per weight LSB */
    int16_t k_leak; /* Q15 -(1 - alpha), -32768..0 */
} slf_silif_neuron;

typedef struct {
    const slf_silif_neuron *neuron; /* [n] */
    uint16_t n;
    int32_t threshold; /* thr: 1.0 in state format, 1..SLF_SILIF_THRESHOLD_MAX; spike when u' > thr,
                        * soft reset subtracts thr */
} slf_silif_layer;

/* State of one neuron; u and w adjacent, as the DSP loop's offsets assume. */
typedef struct {
    int32_t u; /* membrane, state format */
    int32_t w; /* adaptation, state format */
} slf_silif_cell;

typedef struct {
    slf_silif_cell *cell; /* [n], zero at start */
    uint8_t *spiked;      /* [n] previous step's spikes: spiked[i] == (u > thr), 0 or 1; zero at start */
} slf_silif_state;

/* One SiLIF step for all n neurons (int_ref.silif_update), s = spiked[i], thr = layer->threshold,
 * w16(x, k) = (x*k) >> 16 (floor; SMULWB/SMULWT, the product of SMLAWB):
 *     reset = u - s*thr                                 (modulo 2^32; exact when s == (u > thr), thr >= 0)
 *     h     = r32(w, k_beta) + w16(u, k_a)              (|each| < 2^30: no wrap; sees the un-reset u)
 *     w'    = sat32(w16(s*4*thr, jump) + sat32(2h))      (4*thr < 2^31; the jump term is < 2^29)
 *     x     = sat32(reset + w')
 *     c     = sat32(reset + I)
 *     u'    = sat32(c + sat32(2*w16(x, k_leak)))         (|w16(x, k_leak)| <= 2^30)
 *     s'    = u' > thr                                  (strict)
 * u' is alpha*reset - (1 - alpha)*w' + I written reset + I - (1 - alpha)*(reset + w'): one leak
 * constant. Writes u', w', spiked[i] = s' and the indices of the spiking neurons, ascending, to
 * spikes->index[0..spikes->count). Consumes ring slot `head` (see top of file).
 * Ranges: u, w, bias any int32; thr and the constants as in the records. */
slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes);

/* ---------------------------------------------------------------- C-SiLIF */

/* Per-neuron constants of a C-SiLIF layer (QuantCSiLIF + QuantSynapses), 16 bytes. */
typedef struct {
    int32_t mult; /* input scale: state LSBs per weight LSB, >= 0 */
    int32_t bias; /* state format */
    int32_t k_re; /* Q31 real part of the complex decay, |k_re| <= SLF_Q31_LIMIT */
    int32_t k_im; /* Q31 imaginary part, |k_im| <= SLF_Q31_LIMIT */
} slf_csilif_neuron;

typedef struct {
    const slf_csilif_neuron *neuron; /* [n] */
    uint16_t n;
    int32_t threshold; /* thr: 0.5 in state format; spike when Re z' > thr, reset subtracts thr */
} slf_csilif_layer;

typedef struct {
    int32_t zr; /* Re z, state format */
    int32_t zi; /* Im z, state format */
} slf_csilif_cell;

typedef struct {
    slf_csilif_cell *cell; /* [n], zero at start */
    uint8_t *spiked;       /* [n] previous spikes: 0 or 1, zero at start */
} slf_csilif_state;

/* One C-SiLIF step for all n neurons (int_ref.csilif_update), thr = layer->threshold,
 * s = spiked[i] == (zr > thr):
 *     reset = zr - s*thr                                (modulo 2^32)
 *     zr'   = dmac(I, r32(reset, k_re) + r32(zi, -k_im))
 *     zi'   = dmac(0, r32(reset, k_im) + r32(zi, k_re))
 *     s'    = zr' > thr
 * Outputs as slf_silif_update_q31. */
slf_status slf_csilif_update_q31(const slf_csilif_layer *layer, slf_csilif_state *state,
                                 slf_delay_ring_s32 *input, slf_spike_list *spikes);

/* ---------------------------------------------------------------- readout integrator */

/* Per-class constants of the readout (QuantReadout + QuantSynapses), 12 bytes. */
typedef struct {
    int32_t mult;    /* input scale, >= 0 */
    int32_t bias;    /* readout state format */
    int32_t k_alpha; /* Q31 decay, |k_alpha| <= SLF_Q31_LIMIT */
} slf_readout_neuron;

typedef struct {
    const slf_readout_neuron *neuron; /* [n] */
    uint16_t n;                       /* classes, 1..SLF_MAX_CLASSES */
    int32_t exp_mult;                 /* softmax: log2(e) / 2^F_o in Q16 = exp_mult * 2^-exp_shift, */
    int32_t exp_shift;                /*   exp_mult in [0, 2^31 - 1], exp_shift 1..62 */
} slf_readout_layer;

/* One readout step (int_ref.readout_update): u[k] = dmac(I_k, r32(u[k], k_alpha))
 * for k < n. u: [n] int32 in the readout state format, zero at start. Consumes ring slot
 * `head`. Errors as the other neuron kernels (no spike list). */
slf_status slf_readout_update_q31(const slf_readout_layer *layer, int32_t *u, slf_delay_ring_s32 *input);

/* ---------------------------------------------------------------- one-time validation */

/* SLF_OK when every per-neuron record is inside its contract: mult >= 0, |Q31 constants|
 * <= SLF_Q31_LIMIT (SiLIF k_beta >= 0, k_a >= 0, k_leak <= 0, jump >= 0, 1 <= threshold < 2^29;
 * readout k_alpha >= 0; and for the readout
 * 1 <= n <= SLF_MAX_CLASSES, exp_mult >= 0, exp_shift in 1..62); SLF_ERR_PARAM otherwise,
 * SLF_ERR_NULL for NULL pointers. Call once at start-up (generated init does). */
slf_status slf_silif_layer_check(const slf_silif_layer *layer);
slf_status slf_csilif_layer_check(const slf_csilif_layer *layer);
slf_status slf_readout_layer_check(const slf_readout_layer *layer);

#ifdef __cplusplus
}
#endif

#endif /* SLF_NEURONS_H */

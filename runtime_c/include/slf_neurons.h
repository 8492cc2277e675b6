/* silifc runtime: neuron-state updates (SiLIF, C-SiLIF, readout integrator).
 *
 * Each kernel updates every neuron of a layer for one step (neurons receive a constant
 * bias current, so none can be skipped), fused with:
 *  - the `take` of the layer's delay ring: acc_i = slot[head][i] is read and zeroed,
 *    then head advances to (head + 1) mod depth;
 *  - the input current (int_ref.input_current):
 *        I_i = sat32(((acc_i * mult_i + 2^(shift_i - 1)) >> shift_i) + bias_i)
 *    (round half up, arithmetic shift, one saturation), computed from the precomputed
 *    `offset` field so that the common shift <= 31 case needs no 64-bit shift:
 *        offset_i = 2^(shift_i - 1) + (shift_i <= 31 ? bias_i * 2^shift_i : -2^63)
 *    (-2^63 makes the high word of acc*mult + offset nonzero for shift >= 32, which sends
 *    those neurons to the kernels' out-of-line path; see slf_input_current).
 *    The code generator fills the four fields with SLF_INPUT_FIELDS(mult, shift, bias);
 *    slf_*_layer_check rejects records whose offset disagrees.
 *
 * Notation: Q31 = int32 value/2^31 in [-(2^31 - 1), 2^31 - 1] (INT32_MIN is outside every
 * contract: the quantizer never emits it, and the exactness proofs of the 64-bit
 * accumulation need |k| < 2^31); "state format" = the layer's Q(31-F).F int32.
 *   sat32(x)           clamp to [-2^31, 2^31 - 1]
 *   mac_q31(x1,k1,...) (x1*k1 + x2*k2 + 2^30) >> 31, exact 64-bit sum, one rounding
 * Every equation saturates once, at its end, exactly as compiler/int_ref.py.
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

/* Rounding term and bias of the input current folded into one 64-bit constant
 * (an integer constant expression: usable in static initializers). shift in 1..62. */
#define SLF_INPUT_OFFSET(bias, shift)                                                                 \
    (((int64_t)1 << ((shift) - 1)) + ((shift) <= 31 ? (int64_t)(bias) * ((int64_t)1 << ((shift) & 31)) \
                                                    : INT64_MIN))

/* Designated initializers of the input-scaling fields shared by all neuron records:
 *   static const slf_silif_neuron l0[] = {{SLF_INPUT_FIELDS(m, s, b), .k_alpha = ..., ...}, ...};
 * mult in [0, 2^31 - 1] (QuantSynapses.mult), shift in 1..62, bias in state format. */
#define SLF_INPUT_FIELDS(mult_, shift_, bias_) \
    .offset = SLF_INPUT_OFFSET(bias_, shift_), .mult = (mult_), .shift = (shift_), .bias = (bias_)

/* ---------------------------------------------------------------- SiLIF */

/* Per-neuron constants of a SiLIF layer (QuantSiLIF + QuantSynapses), 40 bytes, in the
 * order the DSP loop reads them with LDM (bias last: only its out-of-line path uses it).
 * Initialise by field name; the order is not part of the interface. */
typedef struct {
    int64_t offset;     /* SLF_INPUT_OFFSET(bias, shift) */
    int32_t mult;       /* input scale mantissa, [0, 2^31 - 1] */
    int32_t shift;      /* input scale shift, 1..62 */
    int32_t k_beta;     /* Q31 adaptation decay beta */
    int32_t k_a;        /* Q31 coupling a_hat (u -> w) */
    int32_t jump;       /* state format b_hat: added to w after a spike */
    int32_t k_alpha;    /* Q31 membrane decay alpha */
    int32_t neg_k_gain; /* Q31 -(1 - alpha) */
    int32_t bias;       /* constant current, state format */
} slf_silif_neuron;

typedef struct {
    const slf_silif_neuron *neuron; /* [n] */
    uint16_t n;
    int32_t threshold; /* Θ: 1.0 in state format; spike when u' > Θ, soft reset subtracts Θ */
} slf_silif_layer;

/* State of one neuron; arrays of cells make u and w one LDRD/STRD. */
typedef struct {
    int32_t u; /* membrane, state format */
    int32_t w; /* adaptation, state format */
} slf_silif_cell;

typedef struct {
    slf_silif_cell *cell; /* [n], zero at start */
    uint8_t *spiked;      /* [n] previous step's spikes s: 0 or 1 (only these are ever written), zero at start */
} slf_silif_state;

/* One SiLIF step for all n neurons (int_ref.silif_update), s = spiked[i]:
 *     reset = sat32(u - s*Θ)
 *     w'    = sat32(mac_q31((w, k_beta), (u, k_a)) + s*jump)      (sees the un-reset u)
 *     u'    = sat32(mac_q31((reset, k_alpha), (w', neg_k_gain)) + I)   (uses the new w')
 *     s'    = u' > Θ                                              (strict)
 * Writes u', w', spiked[i] = s' and the indices of the spiking neurons, ascending, to
 * spikes->index[0..spikes->count). Consumes ring slot `head` (see top of file).
 * Ranges: u, w, Θ, jump, bias any int32; Q31 constants as above. */
slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes);

/* ---------------------------------------------------------------- C-SiLIF */

/* Per-neuron constants of a C-SiLIF layer (QuantCSiLIF + QuantSynapses), 32 bytes. */
typedef struct {
    int64_t offset;   /* SLF_INPUT_OFFSET(bias, shift) */
    int32_t mult;     /* [0, 2^31 - 1] */
    int32_t shift;    /* 1..62 */
    int32_t bias;     /* state format */
    int32_t k_re;     /* Q31 real part of the complex decay */
    int32_t k_im;     /* Q31 imaginary part */
    int32_t neg_k_im; /* Q31 -k_im (kept: both rotations stay multiply-accumulates) */
} slf_csilif_neuron;

typedef struct {
    const slf_csilif_neuron *neuron; /* [n] */
    uint16_t n;
    int32_t threshold; /* Θ: 0.5 in state format; spike when Re z' > Θ, reset subtracts Θ */
} slf_csilif_layer;

typedef struct {
    int32_t zr; /* Re z, state format */
    int32_t zi; /* Im z, state format */
} slf_csilif_cell;

typedef struct {
    slf_csilif_cell *cell; /* [n], zero at start */
    uint8_t *spiked;       /* [n] previous spikes: 0 or 1, zero at start */
} slf_csilif_state;

/* One C-SiLIF step for all n neurons (int_ref.csilif_update), s = spiked[i]:
 *     reset = sat32(zr - s*Θ)
 *     zr'   = sat32(mac_q31((reset, k_re), (zi, neg_k_im)) + I)
 *     zi'   = sat32(mac_q31((reset, k_im), (zi, k_re)))
 *     s'    = zr' > Θ
 * Outputs as slf_silif_update_q31. */
slf_status slf_csilif_update_q31(const slf_csilif_layer *layer, slf_csilif_state *state,
                                 slf_delay_ring_s32 *input, slf_spike_list *spikes);

/* ---------------------------------------------------------------- readout integrator */

/* Per-class constants of the readout (QuantReadout + QuantSynapses), 24 bytes. */
typedef struct {
    int64_t offset;  /* SLF_INPUT_OFFSET(bias, shift) */
    int32_t mult;    /* [0, 2^31 - 1] */
    int32_t shift;   /* 1..62 */
    int32_t bias;    /* readout state format */
    int32_t k_alpha; /* Q31 decay */
} slf_readout_neuron;

typedef struct {
    const slf_readout_neuron *neuron; /* [n] */
    uint16_t n;                       /* classes, 1..SLF_MAX_CLASSES */
    int32_t exp_mult;                 /* softmax: log2(e) / 2^F_o in Q16 = exp_mult * 2^-exp_shift, */
    int32_t exp_shift;                /*   exp_mult in [0, 2^31 - 1], exp_shift 1..62 */
} slf_readout_layer;

/* One readout step (int_ref.readout_update): u[k] = sat32(mac_q31((u[k], k_alpha)) + I_k)
 * for k < n. u: [n] int32 in the readout state format, zero at start. Consumes ring slot
 * `head`. Errors as the other neuron kernels (no spike list). */
slf_status slf_readout_update_q31(const slf_readout_layer *layer, int32_t *u, slf_delay_ring_s32 *input);

/* ---------------------------------------------------------------- one-time validation */

/* SLF_OK when every per-neuron record is inside its contract: mult >= 0, shift in 1..62,
 * offset == SLF_INPUT_OFFSET(bias, shift), Q31 constants != INT32_MIN (and for the readout
 * 1 <= n <= SLF_MAX_CLASSES, exp_mult >= 0, exp_shift in 1..62); SLF_ERR_PARAM otherwise,
 * SLF_ERR_NULL for NULL pointers. Call once at start-up (generated init does). */
slf_status slf_silif_layer_check(const slf_silif_layer *layer);
slf_status slf_csilif_layer_check(const slf_csilif_layer *layer);
slf_status slf_readout_layer_check(const slf_readout_layer *layer);

#ifdef __cplusplus
}
#endif

#endif /* SLF_NEURONS_H */

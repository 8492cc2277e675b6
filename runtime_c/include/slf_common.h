/* silifc runtime: types shared by all kernels.
 *
 * The runtime is C99, integer-only, allocation-free and keeps no global mutable
 * state: every buffer and every state variable lives in structs the caller passes.
 * Arrays are plain C arrays in the order documented at each struct.
 *
 * Implementation-defined behaviour relied on (GCC and Clang define all of it the
 * same way on every target they support):
 *  - `>>` of a negative signed integer is an arithmetic (flooring) shift;
 *  - converting an out-of-range unsigned value to a signed type wraps modulo 2^N.
 * No kernel executes undefined behaviour for any argument values: arithmetic that
 * could exceed its type is either saturated, done in unsigned (wrapping) types, or
 * proven in range by the contract in the kernel's header comment.
 */
#ifndef SLF_COMMON_H
#define SLF_COMMON_H

#include <stdint.h>

#include "slf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLF_VERSION_MAJOR 0
#define SLF_VERSION_MINOR 1

/* Largest number of readout classes the integer softmax supports (its sum of Q24
 * exponentials must stay below 2^31). Same as fixedpoint.MAX_CLASSES. */
#define SLF_MAX_CLASSES 127

/* Longest per-synapse delay, in steps: 15 in the 4-bit form (slf_synaptic_delays), 255 in the
 * byte form (slf_synaptic_delays_u8). A ring holds depth = 1 + the longest delay slots (<= 256). */
#define SLF_MAX_SYNAPTIC_DELAY_U4 15
#define SLF_MAX_SYNAPTIC_DELAY 255

/* Return value of every kernel that can fail. On any error nothing has been written:
 * kernels validate all arguments before touching an output. */
typedef enum {
    SLF_OK = 0,
    SLF_ERR_NULL = -1,     /* a required pointer is NULL */
    SLF_ERR_SHAPE = -2,    /* sizes of the arguments disagree (e.g. ring width != layer size) */
    SLF_ERR_INDEX = -3,    /* an input index >= n_in, or an axonal delay >= ring depth */
    SLF_ERR_CAPACITY = -4, /* an output list or array is too small */
    SLF_ERR_PARAM = -5,    /* a constant outside its documented range (the *_check functions) */
    SLF_ERR_COUNT = -6,    /* an input's event count (repeats summed) above the model's limit (generated step) */
    SLF_ERR_STATE = -7     /* a model context not set up by its <prefix>_init (generated API) */
} slf_status;

/* One input event of a step: `count` (>= 1) events on input `index`.
 * sizeof(slf_event) == 4 (one padding byte). */
typedef struct {
    uint16_t index;
    uint8_t count;
} slf_event;

/* The spikes of one layer in one step: ascending neuron indices.
 * Written by the neuron-update kernels, read by the accumulation kernels. */
typedef struct {
    uint16_t *index;   /* [capacity] */
    uint16_t count;    /* valid entries in index[] */
    uint16_t capacity; /* entries available at index[] (>= layer size for an update kernel) */
} slf_spike_list;

/* Synaptic accumulators of one layer, as a ring of `depth` slots of `width` int32:
 * slots[slot * width + neuron]. `head` is the slot of the current step t
 * (head == t mod depth). A contribution through delay d at step t goes to slot
 * (head + d) mod depth; the neuron update of step t reads slot `head`, clears it
 * and advances head (`take` in int_ref.DelayRing). depth == 1 is a plain
 * accumulator buffer (no delays). Zero the slots and head before the first step
 * (slf_delay_ring_init_s32). */
typedef struct {
    int32_t *slots;  /* [depth][width] */
    uint16_t depth;  /* 1 + largest delay of the layer's synapses, >= 1 */
    uint16_t width;  /* postsynaptic neurons */
    uint16_t head;   /* < depth */
} slf_delay_ring_s32;

/* Weights of one layer, stored per presynaptic neuron ("column-major" in the
 * [out][in] sense): the n_out weights leaving input j are data[j * n_out + 0 .. n_out-1],
 * exactly QuantSynapses.weights[j, :]. Values are the quantized integers q_ij. */
typedef struct {
    const int8_t *data; /* [n_in][n_out] */
    uint16_t n_in;
    uint16_t n_out;
} slf_weights_s8;

typedef struct {
    const int16_t *data; /* [n_in][n_out] */
    uint16_t n_in;
    uint16_t n_out;
} slf_weights_s16;

/* Per-presynaptic ("axonal") delays: every synapse leaving input j has delay[j] steps. */
typedef struct {
    const uint8_t *delay; /* [n_in], each < ring depth */
    uint16_t n_in;
} slf_axonal_delays;

/* Per-synapse delays, 4 bits each, packed two per byte in the weights' order:
 * the delay of synapse (j -> i) is
 *     (nibble[j * stride + i / 2] >> (4 * (i % 2))) & 15,   stride = (n_out + 1) / 2,
 * i.e. even i in the low nibble. Costs n_in * ceil(n_out / 2) bytes: half of the int8
 * weights, a quarter of int16 weights. Each delay must be < ring depth (<= 16 slots);
 * slf_synaptic_delays_check verifies it once. */
typedef struct {
    const uint8_t *nibble; /* [n_in][(n_out + 1) / 2] */
    uint16_t n_in;
    uint16_t n_out;
} slf_synaptic_delays;

/* Per-synapse delays, one byte each, in the weights' order: the delay of synapse (j -> i) is
 * delay[j * n_out + i], 0..255 steps. Costs n_in * n_out bytes: as much as int8 weights, half of
 * int16 weights; for delays up to 15 the 4-bit form above costs half. Each delay must be < ring
 * depth (<= 256 slots); slf_synaptic_delays_u8_check verifies it once. */
typedef struct {
    const uint8_t *delay; /* [n_in][n_out] */
    uint16_t n_in;
    uint16_t n_out;
} slf_synaptic_delays_u8;

#ifdef __cplusplus
}
#endif

#endif /* SLF_COMMON_H */

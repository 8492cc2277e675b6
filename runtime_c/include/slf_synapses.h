/* silifc runtime: event-driven synaptic accumulation and delay rings.
 *
 * Work is proportional to (active inputs x fan-out): each active presynaptic input j
 * adds its weight column q[j][0..n_out) (times its event count) into the int32
 * accumulators of the layer's delay ring. Weights never get scanned for silent inputs.
 *
 * Accumulator range (all kernels below): the slots hold exact sums
 * sum_j count_j * q_ij. quantize_synapses proves max_i sum_j |q_ij| * max_count < 2^31,
 * which bounds every slot, also with delays (a synapse contributes at most once to
 * the slot of a given step), so the sums never overflow. Should a caller break that
 * bound, the additions wrap modulo 2^32 (no undefined behaviour, no saturation).
 * The order of additions is unspecified (kernels pair inputs to save passes over the
 * accumulators); wrapping sums do not depend on it.
 *
 * Common errors, checked before anything is written:
 *  SLF_ERR_NULL   a struct or array pointer is NULL (a list with count 0 may have index NULL);
 *  SLF_ERR_SHAPE  ring->width != weights->n_out, ring->head >= ring->depth, ring->depth == 0,
 *                 a delay table's shape differs from the weights', or spikes->count > capacity;
 *  SLF_ERR_INDEX  an input index >= weights->n_in (or an axonal delay >= ring->depth).
 *
 * DSP path (SLF_USE_DSP): 8 accumulators per LDM/STM, SXTAB/SXTAH adds and SMLABB for
 * counts > 1; weights are read with word loads that may be unaligned, which needs
 * CCR.UNALIGN_TRP = 0 (the reset value; CMSIS-NN relies on it too).
 */
#ifndef SLF_SYNAPSES_H
#define SLF_SYNAPSES_H

#include "slf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- delay ring */

/* Bind `slots` ([depth][width] int32) to `ring`, zero every slot and set head = 0.
 * Call before the first step and to reset a layer between sequences.
 * Errors: SLF_ERR_NULL, SLF_ERR_SHAPE (depth == 0). */
slf_status slf_delay_ring_init_s32(slf_delay_ring_s32 *ring, int32_t *slots, uint16_t depth, uint16_t width);

/* The `take` of int_ref.DelayRing without a neuron update: copy slot `head` to
 * out[0..width), zero it, and advance head to (head + 1) mod depth. (The neuron-update
 * kernels do the same fused with the update; use this for custom schedules/tests.)
 * Errors: SLF_ERR_NULL, SLF_ERR_SHAPE (head >= depth or depth == 0). */
slf_status slf_delay_ring_take_s32(slf_delay_ring_s32 *ring, int32_t *out);

/* ---------------------------------------------------------------- no delays (slot `head`) */

/* Hidden-layer input: for every spike j in spikes->index[0..count) (0/1 spikes; a repeated
 * index adds its column again): slot[head][i] += q[j][i] for all i < n_out.
 * weights: int8 q in [-128, 127] ([-127, 127] from the quantizer). */
slf_status slf_accumulate_spikes_s8(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                    slf_delay_ring_s32 *ring);

/* As slf_accumulate_spikes_s8, summing in packed 16-bit lanes (Cortex-M DSP: SXTAB16, four
 * inputs per pass over the lanes, ~0.9 instructions per synaptic operation) and then adding
 * the lanes into the slot. Exact only when the indices are distinct and every output's weights
 * satisfy sum(q > 0) <= 32767 and sum(-q, q < 0) <= 32768: each sum is then a subset sum that
 * fits int16, and lane arithmetic modulo 2^16 makes intermediate wraps harmless. Check the
 * weights once with slf_lanes16_weights_check_s8 (the generated init does). lanes: scratch
 * of 4 * (n_out / 8) words, zero at the first call; the kernel leaves it zero. The portable
 * build (SLF_USE_DSP 0) adds into the slot directly and never touches the lanes. */
slf_status slf_accumulate_spikes_s8_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                            uint32_t *lanes, slf_delay_ring_s32 *ring);

/* SLF_OK when slf_accumulate_spikes_s8_lanes16 is exact for these weights (the bound above),
 * SLF_ERR_PARAM otherwise, SLF_ERR_NULL for NULL pointers. O(n_in * n_out), once at start-up. */
slf_status slf_lanes16_weights_check_s8(const slf_weights_s8 *weights);

/* As slf_accumulate_spikes_s8 with int16 weights q in [-32768, 32767]. */
slf_status slf_accumulate_spikes_s16(const slf_weights_s16 *weights, const slf_spike_list *spikes,
                                     slf_delay_ring_s32 *ring);

/* Network input: for every event (j = events[k].index, n = events[k].count):
 * slot[head][i] += n * q[j][i]. n in 0..255 (0 adds nothing); events need not be sorted
 * and an index may repeat. */
slf_status slf_accumulate_events_s8(const slf_weights_s8 *weights, const slf_event *events, uint16_t n_events,
                                    slf_delay_ring_s32 *ring);

/* As slf_accumulate_events_s8 with int16 weights. */
slf_status slf_accumulate_events_s16(const slf_weights_s16 *weights, const slf_event *events,
                                     uint16_t n_events, slf_delay_ring_s32 *ring);

/* ---------------------------------------------------------------- axonal delays (one per input) */

/* As slf_accumulate_spikes_s8, but the column of input j goes to slot
 * (head + delays->delay[j]) mod depth. Also SLF_ERR_INDEX when delay[j] >= ring->depth for
 * an active j, SLF_ERR_SHAPE when delays->n_in != weights->n_in. Cost: one byte per input. */
slf_status slf_accumulate_spikes_s8_axonal(const slf_weights_s8 *weights, const slf_axonal_delays *delays,
                                           const slf_spike_list *spikes, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_spikes_s16_axonal(const slf_weights_s16 *weights, const slf_axonal_delays *delays,
                                            const slf_spike_list *spikes, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_events_s8_axonal(const slf_weights_s8 *weights, const slf_axonal_delays *delays,
                                           const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_events_s16_axonal(const slf_weights_s16 *weights, const slf_axonal_delays *delays,
                                            const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring);

/* ---------------------------------------------------------------- per-synapse delays (4 bit) */

/* As slf_accumulate_spikes_s8, but synapse (j -> i) adds into slot (head + d_ij) mod depth,
 * d_ij the 4-bit delay of slf_synaptic_delays. d_ij must be < ring->depth (depth <= 16 is
 * enough); this is not checked per synapse (it would double the cost): a larger d_ij wraps
 * modulo depth, which stays inside the ring but is not the reference's result. Validate the
 * table once with slf_synaptic_delays_check. Also SLF_ERR_SHAPE when the delay table's
 * shape differs from the weights'. */
slf_status slf_accumulate_spikes_s8_delayed(const slf_weights_s8 *weights, const slf_synaptic_delays *delays,
                                            const slf_spike_list *spikes, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_spikes_s16_delayed(const slf_weights_s16 *weights, const slf_synaptic_delays *delays,
                                             const slf_spike_list *spikes, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_events_s8_delayed(const slf_weights_s8 *weights, const slf_synaptic_delays *delays,
                                            const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_events_s16_delayed(const slf_weights_s16 *weights, const slf_synaptic_delays *delays,
                                             const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring);

/* SLF_OK when every 4-bit delay of the table is < depth (the unused high nibble that ends
 * each column when n_out is odd is ignored); SLF_ERR_INDEX otherwise; SLF_ERR_NULL / SLF_ERR_SHAPE (depth == 0). Run once at
 * start-up: O(n_in * n_out / 2). */
slf_status slf_synaptic_delays_check(const slf_synaptic_delays *delays, uint16_t depth);

#ifdef __cplusplus
}
#endif

#endif /* SLF_SYNAPSES_H */

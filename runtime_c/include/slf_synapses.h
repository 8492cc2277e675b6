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
 *
 * slf_accumulate_spikes_s8_lanes16 sums a step's spikes in packed int16 lanes (SXTAB16) before
 * adding them to the slot: exact for spike-fed int8 layers without delays whose subset-sum
 * bound fits int16 (the compiler selects it only there; slf_lanes16_weights_check_s8).
 * slf_accumulate_events_s8_lanes16 does the same for input events, exact for any int8 weights
 * (it widens the lanes after at most 240 column additions).
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

/* ---------------------------------------------------------------- no delays, packed 16-bit lanes */

/* Scratch of the lane kernels (slf_accumulate_spikes_s8_lanes16, _events_s8_lanes16): the layer's partial sums as packed int16
 * lanes, at least SLF_LANES16_SCRATCH_WORDS(n_out) words. Its contents on entry are ignored
 * (every call writes its lanes before it reads them), so one buffer serves every layer. */
typedef struct {
    uint32_t *word;   /* [n_words] */
    uint16_t n_words;
} slf_lanes16_scratch;

/* 32-bit scratch words for a layer with n_out outputs: two int16 lanes per word, whole blocks of 8. */
#define SLF_LANES16_SCRATCH_WORDS(n_out) (((((uint32_t)(n_out)) + 7u) >> 3) * 4u)

/* Hidden-layer input, as slf_accumulate_spikes_s8 but summed in 16 bits:
 *     slot[head][i] += sext16(sum_k q[index[k]][i] mod 2^16)   for all i < n_out.
 * The DSP path keeps 8 outputs in 4 words of two int16 lanes and adds a weight word (4 int8)
 * with two SXTAB16 (bytes 0, 2 and, rotated by 8, bytes 1, 3), five inputs per pass over the
 * lanes (then 4, 2, 1); one widening pass (SXTAH) then adds the lanes into the int32 slot. The weights keep
 * the layout of slf_weights_s8; the lane order is undone in the widening pass. Lists of
 * fewer than 3 spikes go straight into the slot (their sums fit int16 anyway).
 *
 * Exactness: lane sums are taken modulo 2^16, so intermediate wraps cancel and only the
 * final sum must fit int16. With the indices distinct (0/1 spikes: each input at most once
 * per step; the update kernels write ascending lists; any order is allowed) the sum of
 * output i is a subset sum of column i's weights, inside [-N_i, P_i] with
 * P_i = sum_j max(q_ij, 0) and N_i = sum_j max(-q_ij, 0). If max(P_i, N_i) <= 32767 for
 * every i (quantize.subset_sum_bound; verify once with slf_lanes16_weights_check_s8) the
 * sext16 above is the identity and the slot receives exactly what slf_accumulate_spikes_s8
 * adds. A repeated index or weights beyond the bound give the defined, wrapped result above
 * (no undefined behaviour), on the DSP and the portable path alike.
 *
 * scratch: see slf_lanes16_scratch; SLF_ERR_NULL if it or its words are NULL,
 * SLF_ERR_CAPACITY if n_words < SLF_LANES16_SCRATCH_WORDS(n_out). Must not overlap the ring.
 * Cost (Cortex-M4 DSP): 0.85 instructions and 1.2 estimated cycles per synaptic operation in
 * the lane passes (five inputs per pass), plus ~25 instructions per pass for the column
 * pointers and 1.75 per output for the widening pass. */
slf_status slf_accumulate_spikes_s8_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                            const slf_lanes16_scratch *scratch, slf_delay_ring_s32 *ring);

/* SLF_OK when every output i of the weights has sum_j max(q_ij, 0) <= 32767 and
 * sum_j max(-q_ij, 0) <= 32767, i.e. slf_accumulate_spikes_s8_lanes16 is exact for distinct
 * spike indices; SLF_ERR_PARAM otherwise; SLF_ERR_NULL for NULL pointers (data may be NULL
 * when n_in or n_out is 0). Run once at start-up: O(n_in * n_out). */
slf_status slf_lanes16_weights_check_s8(const slf_weights_s8 *weights);

/* Network input, as slf_accumulate_events_s8 (the same sums, exactly, for any int8 weights and
 * counts 0..255) through the lanes of slf_accumulate_spikes_s8_lanes16: an event of count n adds
 * its column n times. The columns go through the lanes in chunks of at most 240 column additions,
 * each widened into the slot before the next, so a lane never holds more than 240 x 128 = 30720
 * in magnitude: no weight check is needed. scratch: as slf_accumulate_spikes_s8_lanes16
 * (SLF_ERR_NULL, SLF_ERR_CAPACITY). Pays when most counts are small: a count-n event costs n
 * column additions (slf_accumulate_events_s8 multiplies instead). */
slf_status slf_accumulate_events_s8_lanes16(const slf_weights_s8 *weights, const slf_event *events,
                                            uint16_t n_events, const slf_lanes16_scratch *scratch,
                                            slf_delay_ring_s32 *ring);

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
/* (delays up to 15 steps; see below for up to 255) */

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

/* ---------------------------------------------------------------- per-synapse delays (1 byte) */

/* As the 4-bit kernels above, with slf_synaptic_delays_u8: synapse (j -> i) adds into slot
 * (head + d_ij) mod depth, d_ij = delays->delay[j * n_out + i] in 0..255. d_ij must be < ring->depth;
 * this is not checked per synapse: a larger d_ij lands in slot (head + (d_ij mod P)) mod depth,
 * P the smallest power of two >= depth, which stays inside the ring but is not the reference's
 * result (P = 256 for depth >= 256). Validate the table once with slf_synaptic_delays_u8_check.
 * Also SLF_ERR_SHAPE when the delay table's shape differs from the weights'. The DSP path builds a
 * table of P slot offsets per call (P < 2 * depth entries; 1 KB of stack); the portable path
 * finds each synapse's slot with two compares. */
slf_status slf_accumulate_spikes_s8_delayed_u8(const slf_weights_s8 *weights, const slf_synaptic_delays_u8 *delays,
                                               const slf_spike_list *spikes, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_spikes_s16_delayed_u8(const slf_weights_s16 *weights,
                                                const slf_synaptic_delays_u8 *delays, const slf_spike_list *spikes,
                                                slf_delay_ring_s32 *ring);

slf_status slf_accumulate_events_s8_delayed_u8(const slf_weights_s8 *weights, const slf_synaptic_delays_u8 *delays,
                                               const slf_event *events, uint16_t n_events, slf_delay_ring_s32 *ring);

slf_status slf_accumulate_events_s16_delayed_u8(const slf_weights_s16 *weights,
                                                const slf_synaptic_delays_u8 *delays, const slf_event *events,
                                                uint16_t n_events, slf_delay_ring_s32 *ring);

/* SLF_OK when every delay of the table is < depth; SLF_ERR_INDEX otherwise; SLF_ERR_NULL /
 * SLF_ERR_SHAPE (depth == 0). Run once at start-up: O(n_in * n_out). */
slf_status slf_synaptic_delays_u8_check(const slf_synaptic_delays_u8 *delays, uint16_t depth);

#ifdef __cplusplus
}
#endif

#endif /* SLF_SYNAPSES_H */

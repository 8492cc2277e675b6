/* silifc runtime, internal: shared parts of slf_accumulate_spikes_s8_lanes16 (both paths; not
 * part of the API). Contract: include/slf_synapses.h.
 *
 * Why 16 bits are exact. Every lane operation is an addition modulo 2^16, so the lane ends
 * up holding S_i mod 2^16, S_i = sum_k q[index[k]][i], whatever the order of the additions
 * and however often a partial sum wrapped on the way. Sign-extending it gives S_i itself
 * whenever -32768 <= S_i <= 32767. With distinct indices (0/1 spikes, no delays: each input
 * adds its column at most once per step) S_i is a subset sum of column i's weights, so
 * -N_i <= S_i <= P_i with P_i = sum_j max(q_ij, 0) and N_i = sum_j max(-q_ij, 0); the
 * compiler (quantize.subset_sum_bound) and slf_lanes16_weights_check_s8 require
 * max(P_i, N_i) <= 32767 for every i. Then the slot receives the exact int32 sum of
 * slf_accumulate_spikes_s8 (docs/fixed-point.md, "16-bit lane accumulation").
 */
#ifndef SLF_LANES16_H
#define SLF_LANES16_H

#include "slf_checks.h"

/* sext16(x mod 2^16), without an implementation-defined conversion */
SLF_INLINE int32_t slf_sext16(uint32_t x)
{
    return (int32_t)((x & 0xFFFFu) ^ 0x8000u) - 0x8000;
}

/* The lane kernel's arguments, checked before anything is written. */
SLF_INLINE slf_status slf_check_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                        const slf_lanes16_scratch *scratch, const slf_delay_ring_s32 *ring)
{
    slf_status status;
    if (weights == NULL || spikes == NULL || scratch == NULL || ring == NULL || weights->data == NULL ||
        scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status == SLF_OK && scratch->n_words < SLF_LANES16_SCRATCH_WORDS(weights->n_out)) {
        status = SLF_ERR_CAPACITY;
    }
    return status;
}

#endif /* SLF_LANES16_H */

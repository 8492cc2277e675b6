/* silifc runtime, internal: shared parts of the 16-bit lane kernels (not part of the API):
 * slf_accumulate_spikes_s8_lanes16 and slf_accumulate_events_s8_lanes16 (contracts:
 * include/slf_synapses.h) both hand lists of weight columns to the lane sum, which each
 * path implements (dsp/ and portable/slf_internal_lanes16_pass.c: slf_internal_lanes16_add and
 * slf_internal_lanes16_widen; src/slf_internal_lanes16_sum.c puts them together).
 *
 * Why 16 bits are exact. Every lane operation is an addition modulo 2^16, so the lane ends
 * up holding S_i mod 2^16, S_i = the sum of weight i over the columns added, whatever the order
 * of the additions and however often a partial sum wrapped on the way. Sign-extending it gives
 * S_i itself whenever -32768 <= S_i <= 32767.
 *  - Spikes: with distinct indices (0/1 spikes, no delays: each input adds its column at most
 *    once per step) S_i is a subset sum of column i's weights, so -N_i <= S_i <= P_i with
 *    P_i = sum_j max(q_ij, 0) and N_i = sum_j max(-q_ij, 0); the compiler
 *    (quantize.subset_sum_bound) and slf_lanes16_weights_check_s8 require max(P_i, N_i) <= 32767
 *    for every i.
 *  - Events: an event of count n adds its column n times. The kernel hands the columns over in
 *    chunks of at most SLF_LANES16_CHUNK column additions, so |S_i| <= 240 * 128 = 30720 for any
 *    int8 weights; each chunk's lanes are widened into the slot before the next chunk starts.
 * Then the slot receives the exact int32 sums of slf_accumulate_spikes_s8 / _events_s8
 * (docs/fixed-point.md, "16-bit lane accumulation").
 */
#ifndef SLF_LANES16_H
#define SLF_LANES16_H

#include "slf_checks.h"

/* sext16(x mod 2^16), without an implementation-defined conversion */
SLF_INLINE int32_t slf_sext16(uint32_t x)
{
    return (int32_t)((x & 0xFFFFu) ^ 0x8000u) - 0x8000;
}

/* The lane kernels' scratch: SLF_ERR_NULL, SLF_ERR_CAPACITY or SLF_OK. */
SLF_INLINE slf_status slf_check_lanes16_scratch(const slf_lanes16_scratch *scratch, uint32_t n_out)
{
    if (scratch == NULL || scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    return scratch->n_words < SLF_LANES16_SCRATCH_WORDS(n_out) ? SLF_ERR_CAPACITY : SLF_OK;
}

/* The input indices slf_accumulate_events_s8_lanes16 expands per slf_internal_lanes16_add call (an
 * event of count n is its index n times; on the DSP path four passes of five columns and one of
 * four), and the column additions between two widenings: 240 * 128 <= 32767. */
#define SLF_LANES16_BATCH 24u
#define SLF_LANES16_CHUNK (10u * SLF_LANES16_BATCH)

/* lanes (+)= the n >= 1 columns data + index[k] * n_out, each half modulo 2^16; first: the lanes'
 * contents are ignored (written, not read), and n >= 2. lanes: SLF_LANES16_SCRATCH_WORDS(n_out) words. */
void slf_internal_lanes16_add(uint32_t *lanes, const int8_t *data, uint32_t n_out, const uint16_t *index, uint32_t n,
                              int first);

/* acc[0..n_out) += the lanes, sign-extended from 16 bits, in output order. */
void slf_internal_lanes16_widen(int32_t *acc, const uint32_t *lanes, uint32_t n_out);

/* acc[0..n_out) += sext16(sum of the n columns data + index[k] * n_out, modulo 2^16): fewer than 3
 * columns straight into the slot, more through the lanes (add, then widen). src/slf_internal_lanes16_sum.c */
void slf_internal_lanes16_sum(int32_t *acc, uint32_t *lanes, const int8_t *data, uint32_t n_out, const uint16_t *index,
                              uint32_t n);

#endif /* SLF_LANES16_H */

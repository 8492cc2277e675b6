/* slf_accumulate_spikes_s8_lanes16, portable reference: hidden-layer spikes x int8 weights,
 * summed in packed 16-bit lanes, -> ring slot `head`. Contract: include/slf_synapses.h; why the
 * lanes are exact: internal/slf_lanes16.h.
 *
 * Lane word k holds outputs 2k (low half) and 2k + 1 (high half); up to four inputs per pass
 * over the lanes, then one widening pass into the int32 slot. The Cortex-M DSP version (dsp/)
 * computes the same sums with SXTAB16, six inputs per pass, in another lane order.
 */
#include "../internal/slf_columns.h"
#include "../internal/slf_lanes16.h"
#include "../internal/slf_ring.h"
#include "slf_portable.h"

/* Sum of weight i over n_cols (1, 2 or 4; a constant after inlining) columns: |sum| <= 512. */
SLF_INLINE uint32_t slf_lanes_sum_c(const int8_t *wa, const int8_t *wb, const int8_t *wc, const int8_t *wd,
                                    uint32_t n_cols, uint32_t i)
{
    int32_t sum = wa[i];
    if (n_cols >= 2u) {
        sum += wb[i];
    }
    if (n_cols == 4u) {
        sum += wc[i] + wd[i];
    }
    return (uint32_t)sum;
}

/* lanes = (first ? 0 : lanes) + n_cols columns, each half modulo 2^16. */
SLF_INLINE void slf_lanes_pass_c(uint32_t *lanes, const int8_t *wa, const int8_t *wb, const int8_t *wc,
                                 const int8_t *wd, uint32_t n_cols, int first, uint32_t n)
{
    uint32_t i;
    for (i = 0; i + 2u <= n; i += 2u) {
        uint32_t old = first ? 0u : *lanes;
        uint32_t lo = slf_lanes_sum_c(wa, wb, wc, wd, n_cols, i);
        uint32_t hi = slf_lanes_sum_c(wa, wb, wc, wd, n_cols, i + 1u);
        /* the low half's carry must not reach the high half: add the halves apart */
        *lanes++ = ((old + lo) & 0xFFFFu) | ((old & 0xFFFF0000u) + (hi << 16));
    }
    if (i < n) {
        uint32_t old = first ? 0u : *lanes;
        *lanes = (old + slf_lanes_sum_c(wa, wb, wc, wd, n_cols, i)) & 0xFFFFu;
    }
}

SLF_INLINE void slf_lanes_widen_c(int32_t *acc, const uint32_t *lanes, uint32_t n)
{
    uint32_t i;
    for (i = 0; i + 2u <= n; i += 2u) {
        uint32_t pair = *lanes++;
        acc[i] = slf_wrap_add(acc[i], slf_sext16(pair));
        acc[i + 1u] = slf_wrap_add(acc[i + 1u], slf_sext16(pair >> 16));
    }
    if (i < n) {
        acc[i] = slf_wrap_add(acc[i], slf_sext16(*lanes));
    }
}

slf_status slf_accumulate_spikes_s8_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                            const slf_lanes16_scratch *scratch, slf_delay_ring_s32 *ring)
{
    const int8_t *data;
    const uint16_t *index;
    uint32_t *lanes;
    int32_t *acc;
    uint32_t n_out, count, k;
    int first = 1;
    slf_status status;

    status = slf_check_lanes16(weights, spikes, scratch, ring);
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    index = spikes->index;
    count = spikes->count;
    acc = slf_ring_head(ring);
    lanes = scratch->word;
    /* Up to two spikes: no lanes (one pass straight into the slot is cheaper); the sums are
     * in [-256, 254], so sext16 changes nothing. */
    if (count < 3u) {
        if (count == 2u) {
            slf_col_add2_s8(acc, data + (size_t)index[0] * n_out, data + (size_t)index[1] * n_out, n_out);
        } else if (count == 1u) {
            slf_col_add_s8(acc, data + (size_t)index[0] * n_out, n_out);
        }
        return SLF_OK;
    }
#define SLF_COLUMN(m) (data + (size_t)index[m] * n_out)
    for (k = 0; k + 4u <= count; k += 4u) {
        slf_lanes_pass_c(lanes, SLF_COLUMN(k), SLF_COLUMN(k + 1u), SLF_COLUMN(k + 2u), SLF_COLUMN(k + 3u), 4u,
                         first, n_out);
        first = 0;
    }
    if (k + 2u <= count) {
        slf_lanes_pass_c(lanes, SLF_COLUMN(k), SLF_COLUMN(k + 1u), NULL, NULL, 2u, first, n_out);
        k += 2u;
        first = 0;
    }
    if (k < count) {
        slf_lanes_pass_c(lanes, SLF_COLUMN(k), NULL, NULL, NULL, 1u, first, n_out);
    }
    slf_lanes_widen_c(acc, lanes, n_out);
#undef SLF_COLUMN
    return SLF_OK;
}

/* slf_internal_lanes16_add and _widen, portable reference: the lane passes of the 16-bit lane kernels
 * (slf_accumulate_spikes_s8_lanes16, slf_accumulate_events_s8_lanes16; contracts:
 * include/slf_synapses.h; why the lanes are exact: internal/slf_lanes16.h).
 *
 * Lane word k holds outputs 2k (low half) and 2k + 1 (high half); up to four columns per pass
 * over the lanes, then one widening pass into the int32 slot. The Cortex-M DSP version (dsp/)
 * computes the same sums with SXTAB16, five inputs per pass, in another lane order.
 */
#include "../internal/slf_columns.h"
#include "../internal/slf_lanes16.h"
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

void slf_internal_lanes16_add(uint32_t *lanes, const int8_t *data, uint32_t n_out, const uint16_t *index, uint32_t n,
                              int first)
{
    uint32_t k = 0;
#define SLF_COLUMN(m) (data + (size_t)index[m] * n_out)
    for (; k + 4u <= n; k += 4u) {
        slf_lanes_pass_c(lanes, SLF_COLUMN(k), SLF_COLUMN(k + 1u), SLF_COLUMN(k + 2u), SLF_COLUMN(k + 3u), 4u, first,
                         n_out);
        first = 0;
    }
    if (k + 2u <= n) {
        slf_lanes_pass_c(lanes, SLF_COLUMN(k), SLF_COLUMN(k + 1u), NULL, NULL, 2u, first, n_out);
        k += 2u;
        first = 0;
    }
    if (k < n) {
        slf_lanes_pass_c(lanes, SLF_COLUMN(k), NULL, NULL, NULL, 1u, first, n_out);
    }
#undef SLF_COLUMN
}

void slf_internal_lanes16_widen(int32_t *acc, const uint32_t *lanes, uint32_t n_out)
{
    slf_lanes_widen_c(acc, lanes, n_out);
}

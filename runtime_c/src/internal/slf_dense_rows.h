/* silifc runtime, internal: shared parts of the dense kernels (both paths; not part of the API).
 * Contract and weight layout: include/slf_dense.h.
 *
 * slf_dense_events_s8 first scatters the event counts c_j into the first stride / 2 scratch
 * words as 16-bit halves, in the order the DSP loop wants them: word 2g holds (c_4g, c_4g+2) and
 * word 2g+1 holds (c_4g+1, c_4g+3) (low half first). Both paths then compute
 * acc_i = sum_j h_j u_ij modulo 2^32, h_j the half read as int16, and add acc_i - 128 C,
 * C = sum of the event counts: with u = q + 128 that is sum_j c_j q_ij.
 */
#ifndef SLF_DENSE_ROWS_H
#define SLF_DENSE_ROWS_H

#include "slf_arith.h"
#include "slf_checks.h"

/* Arguments shared by both dense kernels (their input vector is checked by the caller):
 * pointers set, the ring as wide as the layer. */
SLF_INLINE slf_status slf_check_dense(const slf_dense_weights_s8 *weights, const slf_dense_scratch *scratch,
                                      const slf_delay_ring_s32 *ring)
{
    if (weights == NULL || scratch == NULL || ring == NULL || weights->data == NULL || weights->row_sum == NULL
        || scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    return slf_check_ring(ring, weights->n_out);
}

/* Half of the count vector that input j goes to: (j & ~3) | (j & 1) << 1 | (j >> 1) & 1. */
SLF_INLINE uint32_t slf_dense_half(uint32_t j)
{
    return (j & ~3u) | ((j & 1u) << 1) | ((j >> 1) & 1u);
}

/* x[0..words) = the count vector of the events; returns 128 x (sum of the counts). */
SLF_INLINE uint32_t slf_dense_counts(uint32_t *x, uint32_t words, const slf_event *events, uint32_t n_events)
{
    uint32_t k, total = 0;
    for (k = 0; k < words; k++) {
        x[k] = 0;
    }
    for (k = 0; k < n_events; k++) {
        uint32_t half = slf_dense_half(events[k].index);
        x[half >> 1] += (uint32_t)events[k].count << (16u * (half & 1u));
        total += events[k].count;
    }
    return total * 128u;
}

/* Portable dense products over the blocked layout, one row at a time: acc[i] += sum_j x_j q_ij
 * for 0/1 spikes x_j = spiked[j] & 1 ... */
SLF_INLINE void slf_dense_spikes_rows(int32_t *acc, const uint8_t *data, const uint8_t *spiked, uint32_t n_in,
                                      uint32_t n_out, uint32_t stride)
{
    uint32_t i, j;
    for (i = 0; i < n_out; i++) {
        const uint8_t *row = data + (size_t)(i >> 2) * 4u * stride + (i & 3u) * 4u;
        uint32_t sum = 0;
        for (j = 0; j < n_in; j++) {
            uint32_t x = spiked[j] & 1u;
            sum += x * (uint32_t)((int32_t)row[(j >> 2) * 16u + (j & 3u)] - 128);
        }
        acc[i] = slf_wrap_add(acc[i], (int32_t)sum);
    }
}

/* ... and for the count vector x of slf_dense_counts: acc[i] += sum_j h_j u_ij - total128. */
SLF_INLINE void slf_dense_events_rows(int32_t *acc, const uint8_t *data, const uint32_t *x, uint32_t n_in,
                                      uint32_t n_out, uint32_t stride, uint32_t total128)
{
    uint32_t i, j;
    for (i = 0; i < n_out; i++) {
        const uint8_t *row = data + (size_t)(i >> 2) * 4u * stride + (i & 3u) * 4u;
        uint32_t sum = 0;
        for (j = 0; j < n_in; j++) {
            uint32_t half = slf_dense_half(j);
            int32_t h = (int16_t)(uint16_t)(x[half >> 1] >> (16u * (half & 1u)));
            sum += (uint32_t)h * row[(j >> 2) * 16u + (j & 3u)];
        }
        acc[i] = slf_wrap_add(acc[i], (int32_t)(sum - total128));
    }
}

#endif /* SLF_DENSE_ROWS_H */

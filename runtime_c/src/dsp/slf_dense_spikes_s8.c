/* slf_dense_spikes_s8, Cortex-M DSP version: dense 0/1 spike vector x offset-binary int8 weights
 * -> ring slot `head`. Contract: include/slf_dense.h; portable reference: portable/.
 *
 * With x_j in {0, 1} and u_ij = q_ij + 128, let m_j = 255 x_j (a byte mask).
 * USADA8 sums |u_ij - m_j| over four bytes: u_ij where x_j = 0 and 255 - u_ij where x_j = 1.
 * Over a padded row (padding inputs are 0) that is
 *     acc_i = row_sum_i + 255 P - 2 U_i,   P = sum_j x_j,   U_i = sum_j x_j u_ij,
 * so sum_j x_j q_ij = U_i - 128 P = (row_sum_i - P - acc_i) / 2, exactly (the numerator is
 * even). One USADA8 does 4 MACs without unpacking or masking the weights; an LDM brings 4
 * weights of 4 rows and each mask word serves 4 rows: 13 instructions per 32 MACs.
 * A weight table that is not word aligned goes through the portable rows (same integers).
 */
#include "../internal/slf_dense_rows.h"
#include "../internal/slf_ring.h"
#include "slf_dsp.h"

slf_status slf_dense_spikes_s8(const slf_dense_weights_s8 *weights, const uint8_t *spiked,
                               const slf_dense_scratch *scratch, slf_delay_ring_s32 *ring)
{
    const uint8_t *data;
    int32_t *acc;
    uint32_t n_in, n_out, stride, i, j;
    slf_status status;

    if (weights == NULL || spiked == NULL || scratch == NULL || ring == NULL || weights->data == NULL
        || weights->row_sum == NULL || scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_ring(ring, weights->n_out);
    if (status != SLF_OK) {
        return status;
    }
    n_in = weights->n_in;
    n_out = weights->n_out;
    stride = SLF_DENSE_STRIDE(n_in);
    if (scratch->n_words < SLF_DENSE_SPIKES_SCRATCH_WORDS(n_in)) {
        return SLF_ERR_CAPACITY;
    }
    data = weights->data;
    acc = slf_ring_head(ring);
    if (((uintptr_t)data & 3u) == 0u && n_in != 0u) {
        uint32_t *mask = scratch->word;
        const int32_t *row_sum = weights->row_sum;
        uint32_t pop = 0, groups = stride / 4u, g;
        int32_t block[4];
        /* Byte masks 0x00/0xFF and the spike count P; padding inputs are 0. */
        for (g = 0; g < groups; g++) {
            uint32_t bits = 0;
            j = g * 4u;
            if (j + 4u <= n_in) {
                __builtin_memcpy(&bits, spiked + j, sizeof bits);
            } else {
                for (; j < n_in; j++) {
                    bits |= (uint32_t)spiked[j] << (8u * (j & 3u));
                }
            }
            bits &= 0x01010101u;
            pop = __usada8(bits, 0u, pop);
            mask[g] = (bits << 8) - bits;
        }
        for (i = 0; i < n_out; i += 4u) {
            uint32_t r, rows = n_out - i < 4u ? n_out - i : 4u;
            slf_internal_dense_block_usad(block, data + (size_t)i * stride, mask, stride / 8u);
            for (r = 0; r < rows; r++) {
                int32_t twice = (int32_t)((uint32_t)row_sum[i + r] - pop - (uint32_t)block[r]);
                acc[i + r] = slf_wrap_add(acc[i + r], twice >> 1);
            }
        }
        return SLF_OK;
    }
    slf_dense_spikes_rows(acc, data, spiked, n_in, n_out, stride);
    return SLF_OK;
}

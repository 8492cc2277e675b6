/* slf_dense_events_s8, Cortex-M DSP version: input events scattered into a dense count vector x
 * offset-binary int8 weights -> ring slot `head`. Contract: include/slf_dense.h; the count
 * vector: internal/slf_dense_rows.h; portable reference: portable/.
 *
 * Two ways to the same integers, chosen per call:
 *  - every c_j <= 3 (most steps of spoken-word input): the counts are split into bit planes
 *    c_j = x0_j + 2 x1_j (one plane when every c_j <= 1), and each 0/1 plane goes through
 *    the USADA8 loop of slf_dense_spikes_s8 (13 instructions per 32 MACs per plane):
 *        sum_j c_j q_ij = sum_b 2^b (row_sum_i - P_b - acc_bi) / 2;
 *  - otherwise UXTB16 splits a weight word into the halfword pairs (u0, u2) and (u1, u3),
 *    which SMLAD multiplies with the two count words: 4 MACs in 4 instructions per row; one
 *    LDM brings 4 weights of 4 rows and each count pair serves 4 rows: 38 instructions per
 *    32 MACs, whatever the counts.
 * A weight table that is not word aligned goes through the portable rows (same integers).
 */
#include "../internal/slf_dense_rows.h"
#include "../internal/slf_ring.h"
#include "slf_dsp.h"

/* acc[r] = sum over 8 * pairs inputs of h_j u_rj for the 4 rows of one block (modulo 2^32).
 * w: the block's bytes (word aligned), x: count words, two per 4 inputs. r0 (acc) is saved
 * on the stack so that all 14 other registers hold accumulators, weights and counts. */
__attribute__((naked, noinline)) static void slf_dense_block_smlad(int32_t *acc __attribute__((unused)),
                                                                   const uint8_t *w __attribute__((unused)),
                                                                   const uint32_t *x __attribute__((unused)),
                                                                   uint32_t pairs __attribute__((unused)))
{
#define SLF_DENSE_SMLAD_GROUP                   \
    "ldrd   r10, r11, [r2], #8\n\t"             \
    "ldm    r1!, {r8, r9, r12, lr}\n\t"         \
    "uxtb16 r0, r8\n\t"                         \
    "uxtb16 r8, r8, ror #8\n\t"                 \
    "smlad  r4, r0, r10, r4\n\t"                \
    "smlad  r4, r8, r11, r4\n\t"                \
    "uxtb16 r0, r9\n\t"                         \
    "uxtb16 r9, r9, ror #8\n\t"                 \
    "smlad  r5, r0, r10, r5\n\t"                \
    "smlad  r5, r9, r11, r5\n\t"                \
    "uxtb16 r0, r12\n\t"                        \
    "uxtb16 r12, r12, ror #8\n\t"               \
    "smlad  r6, r0, r10, r6\n\t"                \
    "smlad  r6, r12, r11, r6\n\t"               \
    "uxtb16 r0, lr\n\t"                         \
    "uxtb16 lr, lr, ror #8\n\t"                 \
    "smlad  r7, r0, r10, r7\n\t"                \
    "smlad  r7, lr, r11, r7\n\t"
    __asm__ volatile(
        "push   {r0, r4-r11, lr}\n\t"
        "movs   r4, #0\n\t"
        "movs   r5, #0\n\t"
        "movs   r6, #0\n\t"
        "movs   r7, #0\n\t"
        "1:\n\t"
        SLF_DENSE_SMLAD_GROUP
        SLF_DENSE_SMLAD_GROUP
        "subs   r3, r3, #1\n\t"
        "bne    1b\n\t"
        "pop    {r0}\n\t"
        "stm    r0, {r4-r7}\n\t"
        "pop    {r4-r11, pc}\n\t");
#undef SLF_DENSE_SMLAD_GROUP
}
slf_status slf_dense_events_s8(const slf_dense_weights_s8 *weights, const slf_event *events, uint16_t n_events,
                               const slf_dense_scratch *scratch, slf_delay_ring_s32 *ring)
{
    const uint8_t *data;
    uint32_t *x;
    int32_t *acc;
    uint32_t n_in, n_out, stride, words, total128 = 0, i, k;
    slf_status status;

    if (weights == NULL || scratch == NULL || ring == NULL || weights->data == NULL || weights->row_sum == NULL
        || scratch->word == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_ring(ring, weights->n_out);
    if (status == SLF_OK) {
        status = slf_check_events(events, n_events, weights->n_in);
    }
    if (status != SLF_OK) {
        return status;
    }
    n_in = weights->n_in;
    n_out = weights->n_out;
    stride = SLF_DENSE_STRIDE(n_in);
    if (scratch->n_words < SLF_DENSE_EVENTS_SCRATCH_WORDS(n_in)) {
        return SLF_ERR_CAPACITY;
    }
    words = stride / 2u; /* the count vector; the bit-plane masks follow it */
    data = weights->data;
    acc = slf_ring_head(ring);

    /* the count vector (slf_dense_counts, written out: GCC allocates this kernel's registers
     * better so) */
    x = scratch->word;
    for (k = 0; k < words; k++) {
        x[k] = 0;
    }
    for (k = 0; k < n_events; k++) {
        uint32_t half = slf_dense_half(events[k].index);
        x[half >> 1] += (uint32_t)events[k].count << (16u * (half & 1u));
        total128 += events[k].count;
    }
    total128 *= 128u;

    if (((uintptr_t)data & 3u) == 0u && n_in != 0u) {
        int32_t block[4];
        uint32_t any = 0;
        for (k = 0; k < words; k++) {
            any |= x[k];
        }
        any = (any | (any >> 16)) & 0xFFFFu; /* has the bits of the largest count */
        if (any <= 3u) {
            /* One or two bit planes: byte masks 0x00/0xFF of bit b of (c_4g .. c_4g+3), and
             * their spike counts. A zero vector still makes its one dense pass. */
            const int32_t *row_sum = weights->row_sum;
            uint32_t *mask = x + words, groups = stride / 4u, planes = any > 1u ? 2u : 1u, g, b;
            uint32_t pop[2] = {0u, 0u};
            for (b = 0; b < planes; b++) {
                for (g = 0; g < groups; g++) {
                    uint32_t bits = ((x[2u * g] >> b) & 0x00010001u) | (((x[2u * g + 1u] >> b) & 0x00010001u) << 8);
                    pop[b] = __usada8(bits, 0u, pop[b]);
                    mask[b * groups + g] = (bits << 8) - bits;
                }
            }
            for (i = 0; i < n_out; i += 4u) {
                uint32_t r, rows = n_out - i < 4u ? n_out - i : 4u;
                slf_internal_dense_block_usad(block, data + (size_t)i * stride, mask, stride / 8u);
                for (r = 0; r < rows; r++) {
                    /* 2 * sum_j x0_j q_ij, exact */
                    uint32_t twice = (uint32_t)row_sum[i + r] - pop[0] - (uint32_t)block[r];
                    acc[i + r] = slf_wrap_add(acc[i + r], (int32_t)twice >> 1);
                }
                if (planes == 2u) {
                    slf_internal_dense_block_usad(block, data + (size_t)i * stride, mask + groups, stride / 8u);
                    for (r = 0; r < rows; r++) {
                        /* 2 * sum_j x1_j q_ij is the plane's weight 2 times its half-sum */
                        uint32_t twice = (uint32_t)row_sum[i + r] - pop[1] - (uint32_t)block[r];
                        acc[i + r] = slf_wrap_add(acc[i + r], (int32_t)twice);
                    }
                }
            }
            return SLF_OK;
        }
        for (i = 0; i < n_out; i += 4u) {
            uint32_t r, rows = n_out - i < 4u ? n_out - i : 4u;
            slf_dense_block_smlad(block, data + (size_t)i * stride, x, stride / 8u);
            for (r = 0; r < rows; r++) {
                acc[i + r] = slf_wrap_add(acc[i + r], (int32_t)((uint32_t)block[r] - total128));
            }
        }
        return SLF_OK;
    }
    slf_dense_events_rows(acc, data, x, n_in, n_out, stride, total128);
    return SLF_OK;
}

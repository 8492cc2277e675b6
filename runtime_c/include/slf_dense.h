/* silifc runtime: dense synaptic accumulation, the baseline of `silifc compile --synapses dense`.
 *
 * Every step multiplies the layer's whole weight matrix with a dense input vector, whatever
 * the activity: work is n_in x n_out multiply-accumulates (MACs) per step, against
 * (active inputs x fan-out) for the event-driven kernels of slf_synapses.h. The sums are
 * the same exact integers, so a model gives the same spikes and outputs either way.
 *
 * Weights: slf_dense_weights_s8, int8 q_ij in [-128, 127] stored offset-binary,
 * u_ij = q_ij + 128 (the byte q_ij ^ 0x80), in blocks of 4 postsynaptic rows:
 *     data[((i / 4) * (stride / 4) + j / 4) * 16 + (i % 4) * 4 + j % 4] = u_ij
 * stride = n_in rounded up to a multiple of 8 (SLF_DENSE_STRIDE), rows = n_out rounded up to
 * a multiple of 4 (SLF_DENSE_ROWS): SLF_DENSE_BYTES(n_in, n_out) bytes. One load brings the
 * next 4 weights of 4 rows. Padding bytes may hold anything (128, i.e. weight 0, by
 * convention): they meet zero inputs, and row_sum covers them.
 * row_sum[i] = sum of u_ij over j < stride, padding included (slf_dense_weights_check_s8
 * verifies it once). The DSP paths read data with word and multiple loads (LDM), so data
 * must be 4-byte aligned for them (declare it SLF_DENSE_ALIGNED); an unaligned table gives
 * the same integers through the portable path. They read spike vectors with word loads that
 * may be unaligned: CCR.UNALIGN_TRP = 0, as for slf_synapses.h.
 *
 * Accumulator range: as slf_synapses.h, the ring slot receives exact sums sum_j x_j * q_ij;
 * inside the quantizer's bound (max_i sum_j |q_ij| * max_count < 2^31) they cannot
 * overflow, outside it they wrap modulo 2^32 (no undefined behaviour).
 *
 * Delays: none. Every product lands in ring slot `head` (delay 0); compile models with
 * synaptic delays with the event-driven kernels.
 *
 * Scratch: a caller-owned buffer of 32-bit words (slf_dense_scratch) for the kernel's dense
 * input vector, rewritten by every call; one buffer can serve every layer of a model.
 *
 * Common errors, checked before anything is written:
 *  SLF_ERR_NULL      a struct or array pointer is NULL (events may be NULL when n_events == 0);
 *  SLF_ERR_SHAPE     ring->width != weights->n_out, ring->head >= ring->depth, ring->depth == 0;
 *  SLF_ERR_CAPACITY  scratch->n_words is smaller than the kernel needs;
 *  SLF_ERR_INDEX     an event index >= weights->n_in.
 *
 * DSP path (SLF_USE_DSP): spikes as byte masks summed with USADA8 (0.41 instructions per
 * MAC in the inner loop); event counts the same way, one pass per bit plane, when every
 * count is <= 3 (0.41 or 0.81), else as halfword pairs with UXTB16 + SMLAD (1.19).
 */
#ifndef SLF_DENSE_H
#define SLF_DENSE_H

#include "slf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row length in bytes of the blocked layout, and rows including padding. */
#define SLF_DENSE_STRIDE(n_in) ((((uint32_t)(n_in)) + 7u) & ~7u)
#define SLF_DENSE_ROWS(n_out) ((((uint32_t)(n_out)) + 3u) & ~3u)
#define SLF_DENSE_BYTES(n_in, n_out) (SLF_DENSE_STRIDE(n_in) * SLF_DENSE_ROWS(n_out))
/* 32-bit scratch words each kernel needs for a layer with n_in inputs. */
#define SLF_DENSE_SPIKES_SCRATCH_WORDS(n_in) (SLF_DENSE_STRIDE(n_in) / 4u)
#define SLF_DENSE_EVENTS_SCRATCH_WORDS(n_in) SLF_DENSE_STRIDE(n_in)

/* Word alignment of a weight table (GCC/Clang attribute; other compilers get the portable
 * path when the table happens to be unaligned). */
#if defined(__GNUC__)
#define SLF_DENSE_ALIGNED __attribute__((aligned(4)))
#else
#define SLF_DENSE_ALIGNED
#endif

typedef struct {
    const uint8_t *data;    /* [SLF_DENSE_BYTES(n_in, n_out)] offset-binary, blocked (see top) */
    const int32_t *row_sum; /* [n_out] sum of the row's bytes over the stride */
    uint16_t n_in;
    uint16_t n_out;
} slf_dense_weights_s8;

typedef struct {
    uint32_t *word;   /* [n_words], contents on entry are ignored */
    uint16_t n_words;
} slf_dense_scratch;

/* Hidden-layer input: slot[head][i] += sum_{j < n_in} x_j * q_ij with x_j = spiked[j] & 1,
 * for every i < n_out. spiked: [n_in] bytes, 0 or 1 as the neuron kernels write them (only
 * bit 0 is read), i.e. the previous layer's state->spiked of this step.
 * scratch: at least SLF_DENSE_SPIKES_SCRATCH_WORDS(n_in) words. */
slf_status slf_dense_spikes_s8(const slf_dense_weights_s8 *weights, const uint8_t *spiked,
                               const slf_dense_scratch *scratch, slf_delay_ring_s32 *ring);

/* Network input: slot[head][i] += sum_j c_j * q_ij for every i < n_out, with c_j the sum of
 * the counts of the events on input j (n_events of them, in any order, an index may
 * repeat). The events are first scattered into a dense vector in scratch (at least
 * SLF_DENSE_EVENTS_SCRATCH_WORDS(n_in) words), which holds each c_j as 16 bits: exact for
 * c_j <= 32767 (the quantizer assumes c_j <= 255); beyond, c_j wraps to int16 on both paths. */
slf_status slf_dense_events_s8(const slf_dense_weights_s8 *weights, const slf_event *events, uint16_t n_events,
                               const slf_dense_scratch *scratch, slf_delay_ring_s32 *ring);

/* SLF_OK when row_sum[i] equals the sum of row i's bytes over the stride for every i < n_out;
 * SLF_ERR_PARAM otherwise; SLF_ERR_NULL for NULL pointers. Run once at start-up:
 * O(stride * n_out). */
slf_status slf_dense_weights_check_s8(const slf_dense_weights_s8 *weights);

#ifdef __cplusplus
}
#endif

#endif /* SLF_DENSE_H */

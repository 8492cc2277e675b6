/* slf_accumulate_spikes_s8_lanes16: hidden-layer spikes x int8 weights through packed
 * 16-bit lanes -> ring slot `head`. Contract: include/slf_synapses.h. */
#include "slf_internal.h"

#if SLF_USE_DSP && defined(__GNUC__)
/* Lane order inside each block of 8 outputs: SXTAB16 adds bytes 0 and 2 of a weight word
 * (ROR #8: bytes 1 and 3) to the two halves of a lane word, so lane word 4b+0 holds outputs
 * (8b, 8b+2), 4b+1 (8b+1, 8b+3), 4b+2 (8b+4, 8b+6), 4b+3 (8b+5, 8b+7), low half first.
 * The weights stay in their usual order; slf_lanes_flush undoes the interleave. */
#define SLF_LANES_INPUT(w)                         \
    "ldr     %[t], [%[" w "]], #4\n\t"             \
    "sxtab16 r4, r4, %[t]\n\t"                     \
    "sxtab16 r5, r5, %[t], ror #8\n\t"             \
    "ldr     %[t], [%[" w "]], #4\n\t"             \
    "sxtab16 r6, r6, %[t]\n\t"                     \
    "sxtab16 r8, r8, %[t], ror #8\n\t"

/* lanes[0..4*blocks) += columns wa..wf (8 weights per block each): one pass over the lanes
 * for six inputs, 40 instructions per 48 synaptic operations. blocks >= 1. */
static void slf_lanes_add6(uint32_t *lanes, const int8_t *const *w, uint32_t blocks)
{
    /* Nine operands plus the four lane registers: every register but r7 (the Thumb frame
     * pointer), assigned by hand because GCC's allocator gives up. */
    register uint32_t *rl __asm__("r11") = lanes;
    register const int8_t *ra __asm__("r0") = w[0];
    register const int8_t *rb __asm__("r1") = w[1];
    register const int8_t *rc __asm__("r2") = w[2];
    register const int8_t *rd __asm__("r3") = w[3];
    register const int8_t *re __asm__("r9") = w[4];
    register const int8_t *rf __asm__("r10") = w[5];
    register uint32_t rn __asm__("r12") = blocks;
    register uint32_t t __asm__("lr");
    __asm__ volatile("1:\n\t"
                     "ldm     %[l], {r4, r5, r6, r8}\n\t"
                     SLF_LANES_INPUT("a") SLF_LANES_INPUT("b") SLF_LANES_INPUT("c") SLF_LANES_INPUT("d")
                     SLF_LANES_INPUT("e") SLF_LANES_INPUT("f")
                     "stmia   %[l]!, {r4, r5, r6, r8}\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [l] "+r"(rl), [a] "+r"(ra), [b] "+r"(rb), [c] "+r"(rc), [d] "+r"(rd), [e] "+r"(re),
                       [f] "+r"(rf), [n] "+r"(rn), [t] "=&r"(t)
                     :
                     : "r4", "r5", "r6", "r8", "cc", "memory");
}

/* The same for four inputs: 28 instructions per 32 synaptic operations. */
static void slf_lanes_add4(uint32_t *lanes, const int8_t *wa, const int8_t *wb, const int8_t *wc,
                           const int8_t *wd, uint32_t blocks)
{
    register uint32_t *rl __asm__("r11") = lanes; /* by hand, as in slf_lanes_add6 */
    register const int8_t *ra __asm__("r0") = wa;
    register const int8_t *rb __asm__("r1") = wb;
    register const int8_t *rc __asm__("r2") = wc;
    register const int8_t *rd __asm__("r3") = wd;
    register uint32_t rn __asm__("r12") = blocks;
    register uint32_t t __asm__("lr");
    __asm__ volatile("1:\n\t"
                     "ldm     %[l], {r4, r5, r6, r8}\n\t"
                     SLF_LANES_INPUT("a") SLF_LANES_INPUT("b") SLF_LANES_INPUT("c") SLF_LANES_INPUT("d")
                     "stmia   %[l]!, {r4, r5, r6, r8}\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [l] "+r"(rl), [a] "+r"(ra), [b] "+r"(rb), [c] "+r"(rc), [d] "+r"(rd), [n] "+r"(rn),
                       [t] "=&r"(t)
                     :
                     : "r4", "r5", "r6", "r8", "cc", "memory");
}

/* The same for two inputs (16 instructions per 16 SOPs) and one (10 per 8). */
static void slf_lanes_add2(uint32_t *lanes, const int8_t *wa, const int8_t *wb, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile("1:\n\t"
                     "ldm     %[l], {r4, r5, r6, r8}\n\t"
                     SLF_LANES_INPUT("a") SLF_LANES_INPUT("b")
                     "stmia   %[l]!, {r4, r5, r6, r8}\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [l] "+r"(lanes), [a] "+r"(wa), [b] "+r"(wb), [n] "+r"(blocks), [t] "=&r"(t)
                     :
                     : "r4", "r5", "r6", "r8", "cc", "memory");
}

static void slf_lanes_add1(uint32_t *lanes, const int8_t *wa, uint32_t blocks)
{
    uint32_t t;
    __asm__ volatile("1:\n\t"
                     "ldm     %[l], {r4, r5, r6, r8}\n\t"
                     SLF_LANES_INPUT("a")
                     "stmia   %[l]!, {r4, r5, r6, r8}\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [l] "+r"(lanes), [a] "+r"(wa), [n] "+r"(blocks), [t] "=&r"(t)
                     :
                     : "r4", "r5", "r6", "r8", "cc", "memory");
}

/* acc[0..8*blocks) += the sign-extended lanes in output order; the lanes are left zero.
 * 18 instructions per 8 outputs. */
static void slf_lanes_flush(int32_t *acc, uint32_t *lanes, uint32_t blocks)
{
    uint32_t zero = 0;
    __asm__ volatile("1:\n\t"
                     "ldm     %[l], {r4, r5}\n\t"
                     "ldm     %[a], {r6, r8, r9, r10}\n\t"
                     "sxtah   r6, r6, r4\n\t"
                     "sxtah   r8, r8, r5\n\t"
                     "sxtah   r9, r9, r4, ror #16\n\t"
                     "sxtah   r10, r10, r5, ror #16\n\t"
                     "stmia   %[a]!, {r6, r8, r9, r10}\n\t"
                     "strd    %[z], %[z], [%[l]], #8\n\t"
                     "ldm     %[l], {r4, r5}\n\t"
                     "ldm     %[a], {r6, r8, r9, r10}\n\t"
                     "sxtah   r6, r6, r4\n\t"
                     "sxtah   r8, r8, r5\n\t"
                     "sxtah   r9, r9, r4, ror #16\n\t"
                     "sxtah   r10, r10, r5, ror #16\n\t"
                     "stmia   %[a]!, {r6, r8, r9, r10}\n\t"
                     "strd    %[z], %[z], [%[l]], #8\n\t"
                     "subs    %[n], %[n], #1\n\t"
                     "bne     1b\n\t"
                     : [a] "+r"(acc), [l] "+r"(lanes), [n] "+r"(blocks)
                     : [z] "r"(zero)
                     : "r4", "r5", "r6", "r8", "r9", "r10", "cc", "memory");
}

/* acc[i] += sum over the spikes of their weight for output i, i < n (the < 8 outputs past the
 * last block): two outputs per pass over the spike list, the sums in registers
 * (|sum| <= 65535 * 128 < 2^31). */
static void slf_tail_add_s8(int32_t *acc, const int8_t *base, uint32_t stride, const uint16_t *index,
                            uint32_t count, uint32_t n)
{
    uint32_t i, k;
    for (i = 0; i + 2u <= n; i += 2u) {
        int32_t s0 = 0, s1 = 0;
        for (k = 0; k < count; k++) {
            const int8_t *w = base + (size_t)index[k] * stride + i;
            s0 += w[0];
            s1 += w[1];
        }
        acc[i] = slf_wrap_add(acc[i], s0);
        acc[i + 1u] = slf_wrap_add(acc[i + 1u], s1);
    }
    if (i < n) {
        int32_t s0 = 0;
        for (k = 0; k < count; k++) {
            s0 += base[(size_t)index[k] * stride + i];
        }
        acc[i] = slf_wrap_add(acc[i], s0);
    }
}
#endif

slf_status slf_accumulate_spikes_s8_lanes16(const slf_weights_s8 *weights, const slf_spike_list *spikes,
                                            uint32_t *lanes, slf_delay_ring_s32 *ring)
{
    const int8_t *data;
    const uint16_t *index;
    int32_t *acc;
    uint32_t n_out, count;
    slf_status status;

    if (weights == NULL || spikes == NULL || ring == NULL || weights->data == NULL || lanes == NULL) {
        return SLF_ERR_NULL;
    }
    status = slf_check_spike_input(ring, weights->n_out, spikes, weights->n_in);
    if (status != SLF_OK) {
        return status;
    }

    data = weights->data;
    n_out = weights->n_out;
    index = spikes->index;
    count = spikes->count;
    acc = slf_ring_head(ring);
#if SLF_USE_DSP && defined(__GNUC__)
    /* The flush costs ~2.25 instructions per output, the lanes save ~0.6 per SOP: from 4
     * spikes on they pay (3 and fewer go straight to the int32 slot, the same sums). */
    if (count >= 4u && n_out >= 8u) {
        uint32_t blocks = n_out >> 3, full = blocks << 3, k;
        for (k = 0; k + 6u <= count; k += 6u) {
            const int8_t *w[6];
            uint32_t m;
            for (m = 0; m < 6u; m++) {
                w[m] = data + (size_t)index[k + m] * n_out;
            }
            slf_lanes_add6(lanes, w, blocks);
        }
        if (k + 4u <= count) {
            slf_lanes_add4(lanes, data + (size_t)index[k] * n_out, data + (size_t)index[k + 1u] * n_out,
                           data + (size_t)index[k + 2u] * n_out, data + (size_t)index[k + 3u] * n_out, blocks);
            k += 4u;
        }
        if (k + 2u <= count) {
            slf_lanes_add2(lanes, data + (size_t)index[k] * n_out, data + (size_t)index[k + 1u] * n_out, blocks);
            k += 2u;
        }
        if (k < count) {
            slf_lanes_add1(lanes, data + (size_t)index[k] * n_out, blocks);
        }
        slf_lanes_flush(acc, lanes, blocks);
        if (full < n_out) {
            slf_tail_add_s8(acc + full, data + full, n_out, index, count, n_out - full);
        }
        return SLF_OK;
    }
#endif
    /* Portable path, and few spikes: int32 accumulators directly (the lanes stay untouched). */
    slf_spikes_add_s8(acc, data, n_out, index, count);
    return SLF_OK;
}

/* libFuzzer target: the runtime's input checks and accumulation kernels on the host, under
 * AddressSanitizer and UndefinedBehaviorSanitizer (tests/test_fuzz_runtime.py builds and runs it).
 *
 * Each input is decoded into a layer (sizes, weights, delays, ring depth and head) and one
 * step's input (events or spikes), then handed to one kernel. The descriptors are allowed to be
 * inconsistent (a ring narrower than the weights, a head past the depth, a NULL array, an index
 * past the inputs, a spike count past the capacity): the kernel must return an error and leave
 * every slot as it was. When it returns SLF_OK, every slot must equal the sum this file computes
 * the simplest way (64-bit, then wrapped to 32 bits as the contract says). Any sanitizer report,
 * crash or difference aborts: libFuzzer saves the input that caused it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slf_synapses.h"

#define MAX_N 40
#define MAX_EVENTS 96
#define MAX_DEPTH 17

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t at;
} reader;

static uint8_t take(reader *r)
{
    return r->at < r->size ? r->data[r->at++] : 0;
}

static uint16_t take16(reader *r)
{
    uint16_t low = take(r);
    return (uint16_t)(low | (uint16_t)take(r) << 8);
}

static int32_t wrap32(int64_t x)
{
    return (int32_t)(uint32_t)(uint64_t)x;
}

enum { K_EVENTS_S8, K_EVENTS_S16, K_SPIKES_S8, K_SPIKES_S16, K_LANES16, K_EVENTS_S8_AXONAL, K_SPIKES_S8_AXONAL,
       K_EVENTS_S8_DELAYED, K_SPIKES_S16_DELAYED, K_EVENTS_S8_LANES16, K_KERNELS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    int kernel = take(&r) % K_KERNELS;
    uint8_t flags = take(&r);
    uint16_t n_in = (uint16_t)(take(&r) % (MAX_N + 1));
    uint16_t n_out = (uint16_t)(take(&r) % (MAX_N + 1));
    uint16_t depth = (uint16_t)(take(&r) % MAX_DEPTH);          /* 0 is invalid: must be refused */
    uint16_t head = (uint16_t)(take(&r) % (MAX_DEPTH + 1));     /* may be >= depth: refused */
    uint16_t ring_width = (flags & 1) ? (uint16_t)(take(&r) % (MAX_N + 1)) : n_out;

    static int8_t w8[MAX_N * MAX_N];
    static int16_t w16[MAX_N * MAX_N];
    static uint8_t axonal[MAX_N];
    static uint8_t nibbles[MAX_N * ((MAX_N + 1) / 2)];
    static int32_t slots[MAX_DEPTH * MAX_N + 1], before[MAX_DEPTH * MAX_N + 1], expect[MAX_DEPTH * MAX_N + 1];
    static slf_event events[MAX_EVENTS];
    static uint16_t spike_index[MAX_EVENTS];
    static uint32_t lane_words[SLF_LANES16_SCRATCH_WORDS(MAX_N) + 1];

    for (uint32_t k = 0; k < (uint32_t)n_in * n_out; k++) {
        w8[k] = (int8_t)take(&r);
        w16[k] = (int16_t)take16(&r);
    }
    uint16_t delay_depth = depth ? depth : 1;
    for (uint32_t j = 0; j < n_in; j++) {
        /* bit 2 of flags lets axonal delays reach past the ring (must be refused per active input) */
        axonal[j] = (uint8_t)(take(&r) % ((flags & 4) ? 32 : delay_depth));
    }
    uint32_t stride = (n_out + 1u) / 2u;
    for (uint32_t j = 0; j < n_in; j++) {
        for (uint32_t i = 0; i < n_out; i++) {
            uint8_t d = (uint8_t)(take(&r) % delay_depth);
            uint8_t *byte = &nibbles[j * stride + i / 2];
            *byte = (uint8_t)((i & 1) ? ((*byte & 0x0Fu) | (uint8_t)(d << 4)) : ((*byte & 0xF0u) | d));
        }
    }
    uint16_t n_events = (uint16_t)(take(&r) % (MAX_EVENTS + 1));
    uint16_t capacity = (flags & 8) ? (uint16_t)(take(&r) % (MAX_EVENTS + 1)) : n_events;
    for (uint32_t k = 0; k < n_events; k++) {
        /* indices mostly in range; bit 4 lets them run past n_in (must be refused) */
        uint16_t raw = take16(&r);
        uint16_t index = (flags & 16) ? (uint16_t)(raw % (n_in + 3u)) : (uint16_t)(n_in ? raw % n_in : raw);
        events[k].index = index;
        events[k].count = take(&r);
        spike_index[k] = index;
    }
    uint32_t total_slots = (uint32_t)(depth ? depth : 1) * (ring_width ? ring_width : 1);
    for (uint32_t k = 0; k < total_slots; k++) {
        slots[k] = (int32_t)((uint32_t)take16(&r) << 16 | take16(&r));
    }
    memcpy(before, slots, sizeof slots);

    slf_weights_s8 weights8 = {(flags & 32) ? NULL : w8, n_in, n_out};
    slf_weights_s16 weights16 = {(flags & 32) ? NULL : w16, n_in, n_out};
    slf_delay_ring_s32 ring = {(flags & 64) ? NULL : slots, depth, ring_width, head};
    slf_axonal_delays axon = {axonal, n_in};
    slf_synaptic_delays synaptic = {nibbles, n_in, n_out};
    slf_spike_list spikes = {spike_index, n_events, capacity};
    slf_lanes16_scratch scratch = {lane_words, (uint16_t)((flags & 2) ? 1 : SLF_LANES16_SCRATCH_WORDS(MAX_N))};
    const slf_event *event_ptr = (flags & 128) && n_events ? NULL : events;

    slf_status status;
    switch (kernel) {
    case K_EVENTS_S8: status = slf_accumulate_events_s8(&weights8, event_ptr, n_events, &ring); break;
    case K_EVENTS_S16: status = slf_accumulate_events_s16(&weights16, event_ptr, n_events, &ring); break;
    case K_SPIKES_S8: status = slf_accumulate_spikes_s8(&weights8, &spikes, &ring); break;
    case K_SPIKES_S16: status = slf_accumulate_spikes_s16(&weights16, &spikes, &ring); break;
    case K_LANES16: status = slf_accumulate_spikes_s8_lanes16(&weights8, &spikes, &scratch, &ring); break;
    case K_EVENTS_S8_AXONAL:
        status = slf_accumulate_events_s8_axonal(&weights8, &axon, event_ptr, n_events, &ring);
        break;
    case K_SPIKES_S8_AXONAL: status = slf_accumulate_spikes_s8_axonal(&weights8, &axon, &spikes, &ring); break;
    case K_EVENTS_S8_DELAYED:
        status = slf_accumulate_events_s8_delayed(&weights8, &synaptic, event_ptr, n_events, &ring);
        break;
    case K_EVENTS_S8_LANES16:
        status = slf_accumulate_events_s8_lanes16(&weights8, event_ptr, n_events, &scratch, &ring);
        break;
    default: status = slf_accumulate_spikes_s16_delayed(&weights16, &synaptic, &spikes, &ring); break;
    }

    if (status != SLF_OK) {
        if (memcmp(before, slots, sizeof slots) != 0) {
            abort();                                   /* an error must leave every slot as it was */
        }
        return 0;
    }
    /* SLF_OK: the descriptors were consistent. Recompute every slot. */
    if (depth == 0 || head >= depth || ring_width != n_out) {
        abort();                                       /* accepted an invalid descriptor */
    }
    if (flags & 96) {
        /* A NULL weight or slot array passed (allowed only where nothing is read or written,
         * e.g. no inputs): ASan would have caught a dereference; no slot may have changed. */
        if (memcmp(before, slots, sizeof slots) != 0) {
            abort();
        }
        return 0;
    }
    int is_events = kernel == K_EVENTS_S8 || kernel == K_EVENTS_S16 || kernel == K_EVENTS_S8_AXONAL
                    || kernel == K_EVENTS_S8_DELAYED || kernel == K_EVENTS_S8_LANES16;
    int wide = kernel == K_EVENTS_S16 || kernel == K_SPIKES_S16 || kernel == K_SPIKES_S16_DELAYED;
    if (!is_events && n_events > capacity) {
        abort();                                       /* accepted a list longer than its capacity */
    }
    int64_t sums[MAX_DEPTH][MAX_N];
    memset(sums, 0, sizeof sums);
    for (uint32_t k = 0; k < n_events; k++) {
        uint16_t j = is_events ? events[k].index : spike_index[k];
        int64_t count = is_events ? events[k].count : 1;
        if (j >= n_in) {
            abort();                                   /* accepted an input index past the weights */
        }
        for (uint32_t i = 0; i < n_out; i++) {
            uint32_t delay = 0;
            if (kernel == K_EVENTS_S8_AXONAL || kernel == K_SPIKES_S8_AXONAL) {
                delay = axonal[j];
                if (delay >= depth) {
                    abort();                           /* accepted an axonal delay past the ring */
                }
            } else if (kernel == K_EVENTS_S8_DELAYED || kernel == K_SPIKES_S16_DELAYED) {
                uint8_t byte = nibbles[j * stride + i / 2];
                delay = (i & 1) ? byte >> 4 : byte & 0x0Fu;
            }
            int64_t q = wide ? w16[j * n_out + i] : w8[j * n_out + i];
            sums[(head + delay) % depth][i] += count * q;
        }
    }
    memcpy(expect, before, sizeof expect);
    for (uint32_t slot = 0; slot < depth; slot++) {
        for (uint32_t i = 0; i < n_out; i++) {
            int64_t add = sums[slot][i];
            if (kernel == K_LANES16) {
                add = (int16_t)(uint16_t)(uint64_t)add;       /* the lanes sum modulo 2^16 (the event lanes: exact) */
            }
            expect[slot * ring_width + i] = wrap32((int64_t)before[slot * ring_width + i] + add);
        }
    }
    if (memcmp(expect, slots, sizeof slots) != 0) {
        abort();                                       /* a kernel's sum differs from the contract */
    }
    return 0;
}

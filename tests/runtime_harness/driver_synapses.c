/* Test driver, synaptic kernels (include/slf_synapses.h): accumulation with and without delays,
 * the 16-bit lane kernel, delay rings and their checks. Cases: synapses.py. */
#include "driver.h"

static slf_event events[MAX_EVENTS];
static int32_t taken[MAX_NEURONS];
/* the lane kernels' scratch: SLF_LANES16_SCRATCH_WORDS(MAX_NEURONS) + a guard word */
#define LANE_WORDS (SLF_LANES16_SCRATCH_WORDS(MAX_NEURONS) + 1u)
static uint32_t lane_words[LANE_WORDS];

static slf_status accumulate_step(uint32_t kind, const void *weights_data, const void *delay_data, uint32_t n_in,
                                  uint32_t n_out, const slf_spike_list *list, uint32_t n_events,
                                  slf_delay_ring_s32 *ring)
{
    slf_lanes16_scratch lanes;
    slf_weights_s8 w8;
    slf_weights_s16 w16;
    slf_axonal_delays axonal;
    slf_synaptic_delays synaptic;
    slf_synaptic_delays_u8 bytes;

    w8.data = (const int8_t *)weights_data;
    w8.n_in = (uint16_t)n_in;
    w8.n_out = (uint16_t)n_out;
    w16.data = (const int16_t *)weights_data;
    w16.n_in = (uint16_t)n_in;
    w16.n_out = (uint16_t)n_out;
    axonal.delay = (const uint8_t *)delay_data;
    axonal.n_in = (uint16_t)n_in;
    synaptic.nibble = (const uint8_t *)delay_data;
    synaptic.n_in = (uint16_t)n_in;
    synaptic.n_out = (uint16_t)n_out;
    bytes.delay = (const uint8_t *)delay_data;
    bytes.n_in = (uint16_t)n_in;
    bytes.n_out = (uint16_t)n_out;
    lanes.word = lane_words;
    lanes.n_words = (uint16_t)SLF_LANES16_SCRATCH_WORDS(n_out);

    /* kind: bit 0 events, bits 1-2 delay mode (none, axonal, 4-bit, byte), bit 3 int16 weights;
     * 0x10, 0x11 the 16-bit lane kernels (spikes, events) */
    switch (kind) {
    case 0x0: return slf_accumulate_spikes_s8(&w8, list, ring);
    case 0x1: return slf_accumulate_events_s8(&w8, events, (uint16_t)n_events, ring);
    case 0x2: return slf_accumulate_spikes_s8_axonal(&w8, &axonal, list, ring);
    case 0x3: return slf_accumulate_events_s8_axonal(&w8, &axonal, events, (uint16_t)n_events, ring);
    case 0x4: return slf_accumulate_spikes_s8_delayed(&w8, &synaptic, list, ring);
    case 0x5: return slf_accumulate_events_s8_delayed(&w8, &synaptic, events, (uint16_t)n_events, ring);
    case 0x6: return slf_accumulate_spikes_s8_delayed_u8(&w8, &bytes, list, ring);
    case 0x7: return slf_accumulate_events_s8_delayed_u8(&w8, &bytes, events, (uint16_t)n_events, ring);
    case 0x8: return slf_accumulate_spikes_s16(&w16, list, ring);
    case 0x9: return slf_accumulate_events_s16(&w16, events, (uint16_t)n_events, ring);
    case 0xA: return slf_accumulate_spikes_s16_axonal(&w16, &axonal, list, ring);
    case 0xB: return slf_accumulate_events_s16_axonal(&w16, &axonal, events, (uint16_t)n_events, ring);
    case 0xC: return slf_accumulate_spikes_s16_delayed(&w16, &synaptic, list, ring);
    case 0xD: return slf_accumulate_events_s16_delayed(&w16, &synaptic, events, (uint16_t)n_events, ring);
    case 0xE: return slf_accumulate_spikes_s16_delayed_u8(&w16, &bytes, list, ring);
    case 0xF: return slf_accumulate_events_s16_delayed_u8(&w16, &bytes, events, (uint16_t)n_events, ring);
    case 0x10: return slf_accumulate_spikes_s8_lanes16(&w8, list, &lanes, ring);
    case 0x11: return slf_accumulate_events_s8_lanes16(&w8, events, (uint16_t)n_events, &lanes, ring);
    default: return (slf_status)99;
    }
}

/* kind n_in n_out depth head steps | weights | delays | slots | per step: n_items items
 * -> per step: status(accumulate) [lanes kind: guard intact] status(take) taken[n_out];
 * then head slots[depth*n_out] */
static void run_accumulate(cursor *c)
{
    uint32_t kind = take(c), n_in = take(c), n_out = take(c), depth = take(c), head = take(c), steps = take(c);
    uint32_t delay_mode = (kind >> 1) & 3u, is_s16 = (kind >> 3) & 1u, t, k, lanes_used;
    const void *weights = take_bytes(c, n_in * n_out * (is_s16 ? 2u : 1u));
    const void *delays = NULL;
    slf_delay_ring_s32 ring;

    if (delay_mode == 1u) {
        delays = take_bytes(c, n_in);
    } else if (delay_mode == 2u) {
        delays = take_bytes(c, n_in * ((n_out + 1u) / 2u));
    } else if (delay_mode == 3u) {
        delays = take_bytes(c, n_in * n_out);
    }
    ring.slots = (int32_t *)take_bytes(c, depth * n_out * 4u);
    ring.depth = (uint16_t)depth;
    ring.width = (uint16_t)n_out;
    ring.head = (uint16_t)head;
    if (c->bad || n_out > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    for (t = 0; t < steps; t++) {
        uint32_t n_items = take(c);
        slf_spike_list list;
        slf_status status;
        if (n_items > MAX_EVENTS) {
            c->bad = 1;
            break;
        }
        list.index = NULL;
        list.count = 0;
        list.capacity = 0;
        if (kind & 1u) {
            for (k = 0; k < n_items; k++) {
                uint32_t word = take(c);
                events[k].index = (uint16_t)word;
                events[k].count = (uint8_t)(word >> 16);
            }
        } else {
            list.index = (uint16_t *)take_bytes(c, n_items * 2u);
            list.count = (uint16_t)n_items;
            list.capacity = (uint16_t)n_items;
        }
        if (c->bad) {
            break;
        }
        /* the lane kernel must ignore what its scratch holds and stay inside its words */
        lanes_used = SLF_LANES16_SCRATCH_WORDS(n_out);
        for (k = 0; k <= lanes_used; k++) {
            lane_words[k] = 0xA5A5A5A5u ^ (t << 24) ^ (k * 0x9E3779B9u);
        }
        status = accumulate_step(kind, weights, delays, n_in, n_out, &list, n_items, &ring);
        put((uint32_t)status);
        if (kind == 0x10u || kind == 0x11u) {
            put(lane_words[lanes_used] == (0xA5A5A5A5u ^ (t << 24) ^ (lanes_used * 0x9E3779B9u)));
        }
        put((uint32_t)slf_delay_ring_take_s32(&ring, taken));
        put_i32s(taken, n_out);
    }
    put(ring.head);
    put_i32s(ring.slots, depth * n_out);
    /* re-initialise: every slot zero, head 0 */
    {
        uint32_t zero = slf_delay_ring_init_s32(&ring, ring.slots, (uint16_t)depth, (uint16_t)n_out) == SLF_OK &&
                        ring.head == 0u;
        for (k = 0; k < depth * n_out; k++) {
            zero &= ring.slots[k] == 0;
        }
        put(zero);
    }
}

/* ---------------------------------------------------------------- one-time checks */

/* n_in n_out | int8 weights -> status */
static void run_lanes16_check(cursor *c)
{
    slf_weights_s8 weights;
    weights.n_in = (uint16_t)take(c);
    weights.n_out = (uint16_t)take(c);
    weights.data = (const int8_t *)take_bytes(c, (uint32_t)weights.n_in * weights.n_out);
    put((uint32_t)slf_lanes16_weights_check_s8(&weights));
}

/* n_in n_out depth | nibbles -> status */
static void run_delay_check(cursor *c)
{
    slf_synaptic_delays delays;
    uint32_t depth;
    delays.n_in = (uint16_t)take(c);
    delays.n_out = (uint16_t)take(c);
    depth = take(c);
    delays.nibble = (const uint8_t *)take_bytes(c, delays.n_in * ((delays.n_out + 1u) / 2u));
    put((uint32_t)slf_synaptic_delays_check(&delays, (uint16_t)depth));
}

/* n_in n_out depth | bytes -> status */
static void run_delay_u8_check(cursor *c)
{
    slf_synaptic_delays_u8 delays;
    uint32_t depth;
    delays.n_in = (uint16_t)take(c);
    delays.n_out = (uint16_t)take(c);
    depth = take(c);
    delays.delay = (const uint8_t *)take_bytes(c, (uint32_t)delays.n_in * delays.n_out);
    put((uint32_t)slf_synaptic_delays_u8_check(&delays, (uint16_t)depth));
}

/* ---------------------------------------------------------------- invalid arguments */

/* A fixed battery of invalid calls; every status is reported and nothing may be written
 * (guard values around and inside the buffers are checked). synapses.ERROR_BATTERY. */
static void run_errors(void)
{
    static int8_t w8[4 * 8];
    static int32_t slots[2 * 8 + 2];
    static uint16_t idx[4];
    static uint8_t axonal_delay[4] = {0, 1, 2, 0};
    static uint8_t nibbles[4 * 4];
    static uint8_t delay_bytes[4 * 8];
    slf_weights_s8 weights = {w8, 4, 8};
    slf_delay_ring_s32 ring = {slots + 1, 2, 8, 0};
    slf_spike_list list = {idx, 1, 4};
    slf_axonal_delays axonal = {axonal_delay, 4};
    slf_synaptic_delays synaptic = {nibbles, 4, 8};
    slf_synaptic_delays_u8 bytes = {delay_bytes, 4, 8};
    slf_event ev[2] = {{0, 1}, {4, 1}};
    int32_t out[8];
    uint32_t i;
    static uint32_t lanes_buf[4];
    slf_lanes16_scratch lanes = {lanes_buf, 4};
    int32_t guard_ok = 1;

    for (i = 0; i < sizeof w8; i++) {
        w8[i] = (int8_t)(i + 1u);
    }
    for (i = 0; i < 2u * 8u + 2u; i++) {
        slots[i] = 0x5A5A5A5A;
    }
    idx[0] = 4; /* out of range */
    put((uint32_t)slf_accumulate_spikes_s8(&weights, &list, &ring));           /* INDEX */
    put((uint32_t)slf_accumulate_events_s8(&weights, ev, 2, &ring));           /* INDEX */
    put((uint32_t)slf_accumulate_spikes_s8_axonal(&weights, &axonal, &list, &ring)); /* INDEX */
    put((uint32_t)slf_accumulate_spikes_s8_delayed(&weights, &synaptic, &list, &ring)); /* INDEX */
    idx[0] = 2;                                                                /* delay 2 >= depth 2 */
    put((uint32_t)slf_accumulate_spikes_s8_axonal(&weights, &axonal, &list, &ring)); /* INDEX */
    ring.head = 2;
    put((uint32_t)slf_accumulate_spikes_s8(&weights, &list, &ring));           /* SHAPE: head >= depth */
    ring.head = 0;
    ring.width = 7;
    put((uint32_t)slf_accumulate_spikes_s8(&weights, &list, &ring));           /* SHAPE: width */
    ring.width = 8;
    list.count = 5;
    put((uint32_t)slf_accumulate_spikes_s8(&weights, &list, &ring));           /* SHAPE: count > capacity */
    list.count = 1;
    put((uint32_t)slf_accumulate_spikes_s8(NULL, &list, &ring));               /* NULL */
    put((uint32_t)slf_accumulate_events_s8(&weights, NULL, 1, &ring));         /* NULL */
    synaptic.n_out = 7;
    put((uint32_t)slf_accumulate_spikes_s8_delayed(&weights, &synaptic, &list, &ring)); /* SHAPE */
    synaptic.n_out = 8;
    axonal.n_in = 3;
    put((uint32_t)slf_accumulate_spikes_s8_axonal(&weights, &axonal, &list, &ring)); /* SHAPE */
    axonal.n_in = 4;
    for (i = 0; i < 4u; i++) {
        lanes_buf[i] = 0x5A5A5A5Au;
    }
    idx[0] = 4;
    put((uint32_t)slf_accumulate_spikes_s8_lanes16(&weights, &list, &lanes, &ring)); /* INDEX */
    idx[0] = 2;
    put((uint32_t)slf_accumulate_spikes_s8_lanes16(&weights, &list, NULL, &ring)); /* NULL */
    lanes.word = NULL;
    put((uint32_t)slf_accumulate_spikes_s8_lanes16(&weights, &list, &lanes, &ring)); /* NULL */
    lanes.word = lanes_buf;
    lanes.n_words = 3;
    put((uint32_t)slf_accumulate_spikes_s8_lanes16(&weights, &list, &lanes, &ring)); /* CAPACITY */
    lanes.n_words = 4;
    ring.width = 7;
    put((uint32_t)slf_accumulate_spikes_s8_lanes16(&weights, &list, &lanes, &ring)); /* SHAPE */
    ring.width = 8;
    ev[1].index = 4; /* out of range */
    put((uint32_t)slf_accumulate_events_s8_lanes16(&weights, ev, 2, &lanes, &ring)); /* INDEX */
    ev[1].index = 3;
    put((uint32_t)slf_accumulate_events_s8_lanes16(&weights, ev, 2, NULL, &ring)); /* NULL */
    put((uint32_t)slf_accumulate_events_s8_lanes16(&weights, NULL, 2, &lanes, &ring)); /* NULL */
    lanes.n_words = 3;
    put((uint32_t)slf_accumulate_events_s8_lanes16(&weights, ev, 2, &lanes, &ring)); /* CAPACITY */
    lanes.n_words = 4;
    ring.width = 7;
    put((uint32_t)slf_accumulate_events_s8_lanes16(&weights, ev, 2, &lanes, &ring)); /* SHAPE */
    ring.width = 8;
    ev[1].index = 4;
    put((uint32_t)slf_lanes16_weights_check_s8(NULL));                          /* NULL */
    put((uint32_t)slf_lanes16_weights_check_s8(&weights));                      /* OK */
    idx[0] = 4;
    put((uint32_t)slf_accumulate_spikes_s8_delayed_u8(&weights, &bytes, &list, &ring)); /* INDEX */
    idx[0] = 2;
    bytes.delay = NULL;
    put((uint32_t)slf_accumulate_spikes_s8_delayed_u8(&weights, &bytes, &list, &ring)); /* NULL */
    bytes.delay = delay_bytes;
    bytes.n_out = 7;
    put((uint32_t)slf_accumulate_events_s8_delayed_u8(&weights, &bytes, ev, 1, &ring)); /* SHAPE */
    bytes.n_out = 8;
    put((uint32_t)slf_synaptic_delays_u8_check(NULL, 2));                       /* NULL */
    put((uint32_t)slf_synaptic_delays_u8_check(&bytes, 0));                     /* SHAPE: depth 0 */
    put((uint32_t)slf_synaptic_delays_u8_check(&bytes, 1));                     /* OK: all zero */
    for (i = 0; i < 4u; i++) {
        guard_ok &= lanes_buf[i] == 0x5A5A5A5Au;
    }
    for (i = 0; i < 2u * 8u + 2u; i++) {
        guard_ok &= slots[i] == 0x5A5A5A5A;
    }
    put((uint32_t)guard_ok);

    ring.depth = 0;
    put((uint32_t)slf_delay_ring_take_s32(&ring, out));                        /* SHAPE */
    put((uint32_t)slf_delay_ring_init_s32(&ring, slots, 0, 8));                /* SHAPE */
}

int run_synapses_record(uint32_t op, cursor *c)
{
    switch (op) {
    case OP_ACCUMULATE: run_accumulate(c); return 1;
    case OP_DELAY_CHECK: run_delay_check(c); return 1;
    case OP_DELAY_U8_CHECK: run_delay_u8_check(c); return 1;
    case OP_LANES16_CHECK: run_lanes16_check(c); return 1;
    case OP_SYNAPSE_ERRORS: run_errors(); return 1;
    default: return 0;
    }
}

/* Test driver for runtime_c: replays a binary case file through the kernels and writes
 * every result back, so that Python can compare it with compiler/int_ref.py.
 *
 * The same source runs on the host (driver_io_host.c: stdio) and in QEMU
 * (driver_io_semihost.c: ARM semihosting). Format (little-endian 32-bit words), written
 * by tests/runtime_harness/cases.py:
 *   file   = "SLFC" version n_records record*
 *   record = op n_words word[n_words]
 *   result = op word* marker               (one per record, same order; the words of each
 *                                           op are parsed by cases.py, marker 0xE0D, or
 *                                           0xDEAD when the record was too short)
 * Each case's arrays are used in place inside the record buffer (weights, rings, states).
 */
#include <stddef.h>
#include <stdint.h>

#include "driver_io.h"
#include "silifc.h"

#define MAGIC 0x43464C53u /* "SLFC" */
#define VERSION 1u

enum {
    OP_ACCUMULATE = 1,
    OP_SILIF = 2,
    OP_CSILIF = 3,
    OP_READOUT = 4,
    OP_DECISION = 5,
    OP_LONGRUN = 6,
    OP_LAYER_CHECK = 7,
    OP_ERRORS = 8,
    OP_DELAY_CHECK = 9,
    OP_LANES16_CHECK = 10,
    OP_LIF = 11
};

/* Buffer sizes: the defaults fit a 256 KB board; small boards build with smaller ones
 * (cases.py keeps every record and layer within the limits it is told). */
#ifndef RECORD_WORDS
#define RECORD_WORDS (24u * 1024u) /* 96 KB: the largest case record */
#endif
#ifndef MAX_NEURONS
#define MAX_NEURONS 256u
#endif
#ifndef MAX_EVENTS
#define MAX_EVENTS 512u /* events or spikes per step (16-bit lane cases spike > 256 inputs) */
#endif
#ifndef OUT_WORDS
#define OUT_WORDS 1024u
#endif

static uint32_t record[RECORD_WORDS];
static uint32_t out_buf[OUT_WORDS];
static uint32_t out_len;
static slf_event events[MAX_EVENTS];
static uint16_t spike_index[MAX_NEURONS];
static slf_silif_neuron silif_neurons[MAX_NEURONS];
static slf_csilif_neuron csilif_neurons[MAX_NEURONS];
static slf_lif_neuron lif_neurons[MAX_NEURONS];
static slf_lif_cell lif_cells[MAX_NEURONS];
static int32_t lif_totals[MAX_NEURONS];
#define READOUT_CAP (SLF_MAX_CLASSES + 1u < MAX_NEURONS ? SLF_MAX_CLASSES + 1u : MAX_NEURONS)
static slf_readout_neuron readout_neurons[READOUT_CAP];
static slf_silif_cell silif_cells[MAX_NEURONS];
static slf_csilif_cell csilif_cells[MAX_NEURONS];
static uint8_t spiked[MAX_NEURONS];
static int32_t scratch[MAX_NEURONS];
static int32_t scratch2[MAX_NEURONS];
/* slf_accumulate_spikes_s8_lanes16's scratch: SLF_LANES16_SCRATCH_WORDS(MAX_NEURONS) + a guard word */
#define LANE_WORDS (SLF_LANES16_SCRATCH_WORDS(MAX_NEURONS) + 1u)
static uint32_t lane_words[LANE_WORDS];

/* ---------------------------------------------------------------- output */

static void flush_out(void)
{
    if (out_len != 0u) {
        io_write(out_buf, out_len * 4u);
        out_len = 0;
    }
}

static void put(uint32_t word)
{
    if (out_len == sizeof out_buf / sizeof out_buf[0]) {
        flush_out();
    }
    out_buf[out_len++] = word;
}

static void put_words(const void *p, uint32_t n)
{
    const uint32_t *w = (const uint32_t *)p;
    uint32_t i;
    for (i = 0; i < n; i++) {
        put(w[i]);
    }
}

static void put_i32s(const int32_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        put((uint32_t)p[i]);
    }
}

/* ---------------------------------------------------------------- input cursor */

typedef struct {
    uint32_t *at;
    uint32_t *end;
    int bad;
} cursor;

static uint32_t take(cursor *c)
{
    if (c->at >= c->end) {
        c->bad = 1;
        return 0;
    }
    return *c->at++;
}

/* n bytes, padded to whole words; returns their address inside the record */
static void *take_bytes(cursor *c, uint32_t n)
{
    uint32_t words = (n + 3u) / 4u;
    void *p = c->at;
    if ((uint32_t)(c->end - c->at) < words) {
        c->bad = 1;
        return record;
    }
    c->at += words;
    return p;
}

/* ---------------------------------------------------------------- synaptic accumulation */

static slf_status accumulate_step(uint32_t kind, const void *weights_data, const void *delay_data, uint32_t n_in,
                                  uint32_t n_out, const slf_spike_list *list, uint32_t n_events,
                                  slf_delay_ring_s32 *ring)
{
    slf_lanes16_scratch lanes;
    slf_weights_s8 w8;
    slf_weights_s16 w16;
    slf_axonal_delays axonal;
    slf_synaptic_delays synaptic;

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
    lanes.word = lane_words;
    lanes.n_words = (uint16_t)SLF_LANES16_SCRATCH_WORDS(n_out);

    /* kind: bit 0 events, bits 1-2 delay mode, bit 3 int16 weights; 0x10 the 16-bit lane kernel */
    switch (kind) {
    case 0x0: return slf_accumulate_spikes_s8(&w8, list, ring);
    case 0x1: return slf_accumulate_events_s8(&w8, events, (uint16_t)n_events, ring);
    case 0x2: return slf_accumulate_spikes_s8_axonal(&w8, &axonal, list, ring);
    case 0x3: return slf_accumulate_events_s8_axonal(&w8, &axonal, events, (uint16_t)n_events, ring);
    case 0x4: return slf_accumulate_spikes_s8_delayed(&w8, &synaptic, list, ring);
    case 0x5: return slf_accumulate_events_s8_delayed(&w8, &synaptic, events, (uint16_t)n_events, ring);
    case 0x8: return slf_accumulate_spikes_s16(&w16, list, ring);
    case 0x9: return slf_accumulate_events_s16(&w16, events, (uint16_t)n_events, ring);
    case 0xA: return slf_accumulate_spikes_s16_axonal(&w16, &axonal, list, ring);
    case 0xB: return slf_accumulate_events_s16_axonal(&w16, &axonal, events, (uint16_t)n_events, ring);
    case 0xC: return slf_accumulate_spikes_s16_delayed(&w16, &synaptic, list, ring);
    case 0xD: return slf_accumulate_events_s16_delayed(&w16, &synaptic, events, (uint16_t)n_events, ring);
    case 0x10: return slf_accumulate_spikes_s8_lanes16(&w8, list, &lanes, ring);
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
        if (kind == 0x10u) {
            put(lane_words[lanes_used] == (0xA5A5A5A5u ^ (t << 24) ^ (lanes_used * 0x9E3779B9u)));
        }
        put((uint32_t)slf_delay_ring_take_s32(&ring, scratch));
        put_i32s(scratch, n_out);
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

/* ---------------------------------------------------------------- neuron layers */

static void put_spikes(const slf_spike_list *list)
{
    uint32_t k;
    put(list->count);
    for (k = 0; k < list->count; k++) {
        put(list->index[k]);
    }
}

/* The ring and spike list of the neuron-update cases: one slot of n accumulators (the case's
 * record supplies each step's slot), a list with room for n spikes. */
static void one_slot_io(slf_delay_ring_s32 *ring, slf_spike_list *list, uint32_t n)
{
    list->index = spike_index;
    list->count = 0;
    list->capacity = (uint16_t)n;
    ring->depth = 1;
    ring->width = (uint16_t)n;
    ring->head = 0;
}

/* 1 when the kernel consumed (zeroed) its input slot */
static void put_slot_cleared(const slf_delay_ring_s32 *ring, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n && ring->slots[i] == 0; i++) {
    }
    put(i == n);
}

/* n threshold steps | n x (mult bias k_beta k_a jump k_alpha) | u w s | acc per step
 * -> per step: status u[n] w[n] s[n] count index[count] */
static void run_silif(cursor *c)
{
    uint32_t n = take(c), t, i;
    int32_t threshold = (int32_t)take(c);
    uint32_t steps = take(c);
    slf_silif_layer layer;
    slf_silif_state state;
    slf_delay_ring_s32 ring;
    slf_spike_list list;

    if (n > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    for (i = 0; i < n; i++) {
        slf_silif_neuron *p = &silif_neurons[i];
        p->mult = (int32_t)take(c);
        p->bias = (int32_t)take(c);
        p->k_beta = (int32_t)take(c);
        p->k_a = (int32_t)take(c);
        p->jump = (int32_t)take(c);
        p->k_alpha = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        silif_cells[i].u = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        silif_cells[i].w = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        spiked[i] = (uint8_t)take(c);
    }
    layer.neuron = silif_neurons;
    layer.n = (uint16_t)n;
    layer.threshold = threshold;
    state.cell = silif_cells;
    state.spiked = spiked;
    one_slot_io(&ring, &list, n);
    for (t = 0; t < steps && !c->bad; t++) {
        ring.slots = (int32_t *)take_bytes(c, n * 4u);
        if (c->bad) {
            break;
        }
        put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &list));
        for (i = 0; i < n; i++) {
            put((uint32_t)silif_cells[i].u);
        }
        for (i = 0; i < n; i++) {
            put((uint32_t)silif_cells[i].w);
        }
        for (i = 0; i < n; i++) {
            put(spiked[i]);
        }
        put_spikes(&list);
        put_slot_cleared(&ring, n);
    }
}

static void load_lif(cursor *c, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        slf_lif_neuron *p = &lif_neurons[i];
        p->mult = (int32_t)take(c);
        p->bias = (int32_t)take(c);
        p->k_beta = (int32_t)take(c);
        p->k_alpha = (int32_t)take(c);
        p->leak = (int32_t)take(c);
        p->threshold = (int32_t)take(c);
        p->reset_to = (int32_t)take(c);
        p->reset_sub = (int32_t)take(c);
    }
}

/* n flags out_shift steps with_totals | n x (mult bias k_beta k_alpha leak threshold reset_to reset_sub)
 * | v j s [totals] | acc per step
 * -> per step: status v[n] j[n] s[n] [count index[count]] [totals[n]] slot_cleared */
static void run_lif(cursor *c)
{
    uint32_t n = take(c), flags = take(c), t, i;
    int32_t out_shift = (int32_t)take(c);
    uint32_t steps = take(c), with_totals = take(c);
    slf_lif_layer layer;
    slf_lif_state state;
    slf_delay_ring_s32 ring;
    slf_spike_list list;

    if (n > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    load_lif(c, n);
    for (i = 0; i < n; i++) {
        lif_cells[i].v = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        lif_cells[i].j = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        spiked[i] = (uint8_t)take(c);
    }
    for (i = 0; i < n && with_totals; i++) {
        lif_totals[i] = (int32_t)take(c);
    }
    layer.neuron = lif_neurons;
    layer.n = (uint16_t)n;
    layer.flags = (uint16_t)flags;
    layer.out_shift = (int16_t)out_shift;
    state.cell = lif_cells;
    state.spiked = spiked;
    one_slot_io(&ring, &list, n);
    for (t = 0; t < steps && !c->bad; t++) {
        ring.slots = (int32_t *)take_bytes(c, n * 4u);
        if (c->bad) {
            break;
        }
        put((uint32_t)slf_lif_update_q31(&layer, &state, &ring, (flags & SLF_LIF_SPIKING) ? &list : NULL,
                                         with_totals ? lif_totals : NULL));
        for (i = 0; i < n; i++) {
            put((uint32_t)lif_cells[i].v);
        }
        for (i = 0; i < n; i++) {
            put((uint32_t)lif_cells[i].j);
        }
        for (i = 0; i < n; i++) {
            put(spiked[i]);
        }
        if (flags & SLF_LIF_SPIKING) {
            put_spikes(&list);
        }
        if (with_totals) {
            put_i32s(lif_totals, n);
        }
        put_slot_cleared(&ring, n);
    }
}

/* n threshold steps | n x (mult bias k_re k_im) | zr zi s | acc per step */
static void run_csilif(cursor *c)
{
    uint32_t n = take(c), t, i;
    int32_t threshold = (int32_t)take(c);
    uint32_t steps = take(c);
    slf_csilif_layer layer;
    slf_csilif_state state;
    slf_delay_ring_s32 ring;
    slf_spike_list list;

    if (n > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    for (i = 0; i < n; i++) {
        slf_csilif_neuron *p = &csilif_neurons[i];
        p->mult = (int32_t)take(c);
        p->bias = (int32_t)take(c);
        p->k_re = (int32_t)take(c);
        p->k_im = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        csilif_cells[i].zr = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        csilif_cells[i].zi = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        spiked[i] = (uint8_t)take(c);
    }
    layer.neuron = csilif_neurons;
    layer.n = (uint16_t)n;
    layer.threshold = threshold;
    state.cell = csilif_cells;
    state.spiked = spiked;
    one_slot_io(&ring, &list, n);
    for (t = 0; t < steps && !c->bad; t++) {
        ring.slots = (int32_t *)take_bytes(c, n * 4u);
        if (c->bad) {
            break;
        }
        put((uint32_t)slf_csilif_update_q31(&layer, &state, &ring, &list));
        for (i = 0; i < n; i++) {
            put((uint32_t)csilif_cells[i].zr);
        }
        for (i = 0; i < n; i++) {
            put((uint32_t)csilif_cells[i].zi);
        }
        for (i = 0; i < n; i++) {
            put(spiked[i]);
        }
        put_spikes(&list);
        put_slot_cleared(&ring, n);
    }
}

static void load_readout(cursor *c, slf_readout_layer *layer, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        slf_readout_neuron *p = &readout_neurons[i];
        p->mult = (int32_t)take(c);
        p->bias = (int32_t)take(c);
        p->k_alpha = (int32_t)take(c);
    }
    layer->neuron = readout_neurons;
    layer->n = (uint16_t)n;
}

/* n steps exp_mult exp_shift | n x (mult bias k_alpha) | u | acc per step -> per step: status u[n] */
static void run_readout(cursor *c)
{
    uint32_t n = take(c), steps = take(c), t, i;
    slf_readout_layer layer;
    slf_delay_ring_s32 ring;

    layer.exp_mult = (int32_t)take(c);
    layer.exp_shift = (int32_t)take(c);
    if (n > READOUT_CAP) {
        put(0xBADu);
        return;
    }
    load_readout(c, &layer, n);
    for (i = 0; i < n; i++) {
        scratch2[i] = (int32_t)take(c);
    }
    ring.depth = 1;
    ring.width = (uint16_t)n;
    ring.head = 0;
    for (t = 0; t < steps && !c->bad; t++) {
        ring.slots = (int32_t *)take_bytes(c, n * 4u);
        if (c->bad) {
            break;
        }
        put((uint32_t)slf_readout_update_q31(&layer, scratch2, &ring));
        put_i32s(scratch2, n);
    }
}

/* n exp_mult exp_shift steps | total[n] | u[n] per step
 * -> per step: status(softmax) p[n] status(accumulate) total[n]; then status(decide) decision */
static void run_decision(cursor *c)
{
    uint32_t n = take(c), t;
    slf_readout_layer layer;
    uint32_t steps;
    uint16_t decision = 0xFFFFu;
    int32_t *total;

    layer.exp_mult = (int32_t)take(c);
    layer.exp_shift = (int32_t)take(c);
    steps = take(c);
    layer.neuron = readout_neurons; /* not read by the decision kernels */
    layer.n = (uint16_t)n;
    total = (int32_t *)take_bytes(c, n * 4u);
    if (c->bad || n > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    for (t = 0; t < steps; t++) {
        const int32_t *u = (const int32_t *)take_bytes(c, n * 4u);
        if (c->bad) {
            break;
        }
        put((uint32_t)slf_softmax_q16(u, (uint16_t)n, layer.exp_mult, layer.exp_shift, scratch));
        put_i32s(scratch, n);
        put((uint32_t)slf_accumulate_decision_q16(&layer, u, total));
        put_i32s(total, n);
    }
    put((uint32_t)slf_decide_s32(total, (uint16_t)n, &decision));
    put(decision);
}

/* ---------------------------------------------------------------- long runs */

/* Counter-based hash (lowbias32): input of step t, neuron i is hash(seed ^ (t * n + i)).
 * Python computes the same values vectorised (cases.py: hash32). */
static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/* The driver's synthetic accumulator value: a hash, arithmetic-shifted right by acc_shift
 * (0 = the full int32 range, saturating every current). */
static int32_t synthetic_acc(uint32_t seed, uint32_t t, uint32_t n, uint32_t i, uint32_t acc_shift)
{
    return (int32_t)hash32(seed ^ (t * n + i)) >> acc_shift;
}

/* model n steps segment seed acc_shift threshold | records (as OP_SILIF / OP_CSILIF / OP_READOUT+exp)
 * -> every `segment` steps (and at t = 0): state snapshot; after each segment: spike count and
 * checksum sum(t * n + i + 1) mod 2^32 over its spikes. The loop runs here, not in Python. */
static void run_longrun(cursor *c)
{
    uint32_t model = take(c), n = take(c), steps = take(c), segment = take(c), seed = take(c);
    uint32_t acc_shift = take(c), t, i;
    int32_t threshold = (int32_t)take(c);
    slf_delay_ring_s32 ring;
    slf_spike_list list;
    slf_silif_layer silif;
    slf_csilif_layer csilif;
    slf_readout_layer readout;
    slf_silif_state silif_state;
    slf_csilif_state csilif_state;
    uint32_t spikes = 0, checksum = 0;
    slf_status status = SLF_OK;

    if (n > MAX_NEURONS || segment == 0u) {
        put(0xBADu);
        return;
    }
    if (model == 0u) {
        for (i = 0; i < n; i++) {
            slf_silif_neuron *p = &silif_neurons[i];
            p->mult = (int32_t)take(c);
            p->bias = (int32_t)take(c);
            p->k_beta = (int32_t)take(c);
            p->k_a = (int32_t)take(c);
            p->jump = (int32_t)take(c);
            p->k_alpha = (int32_t)take(c);
            silif_cells[i].u = 0;
            silif_cells[i].w = 0;
            spiked[i] = 0;
        }
        silif.neuron = silif_neurons;
        silif.n = (uint16_t)n;
        silif.threshold = threshold;
        silif_state.cell = silif_cells;
        silif_state.spiked = spiked;
    } else if (model == 1u) {
        for (i = 0; i < n; i++) {
            slf_csilif_neuron *p = &csilif_neurons[i];
            p->mult = (int32_t)take(c);
            p->bias = (int32_t)take(c);
            p->k_re = (int32_t)take(c);
            p->k_im = (int32_t)take(c);
            csilif_cells[i].zr = 0;
            csilif_cells[i].zi = 0;
            spiked[i] = 0;
        }
        csilif.neuron = csilif_neurons;
        csilif.n = (uint16_t)n;
        csilif.threshold = threshold;
        csilif_state.cell = csilif_cells;
        csilif_state.spiked = spiked;
    } else {
        readout.exp_mult = (int32_t)take(c);
        readout.exp_shift = (int32_t)take(c);
        if (n > SLF_MAX_CLASSES || n > READOUT_CAP) {
            put(0xBADu);
            return;
        }
        load_readout(c, &readout, n);
        for (i = 0; i < n; i++) {
            scratch2[i] = 0;   /* u */
            spike_index[i] = 0;
        }
    }
    if (c->bad) {
        put(0xBADu);
        return;
    }
    {
        static int32_t totals[SLF_MAX_CLASSES];
        for (i = 0; i < n && i < SLF_MAX_CLASSES; i++) {
            totals[i] = 0;
        }
        list.index = spike_index;
        list.count = 0;
        list.capacity = (uint16_t)n;
        ring.slots = scratch;
        ring.depth = 1;
        ring.width = (uint16_t)n;
        ring.head = 0;
        for (t = 0; t <= steps && status == SLF_OK; t++) {
            if (t % segment == 0u) {
                if (t != 0u) {
                    put(spikes);
                    put(checksum);
                    spikes = 0;
                    checksum = 0;
                }
                if (model == 0u) {
                    put_words(silif_cells, 2u * n);
                    for (i = 0; i < n; i++) {
                        put(spiked[i]);
                    }
                } else if (model == 1u) {
                    put_words(csilif_cells, 2u * n);
                    for (i = 0; i < n; i++) {
                        put(spiked[i]);
                    }
                } else {
                    put_i32s(scratch2, n);
                    put_i32s(totals, n);
                }
            }
            if (t == steps) {
                break;
            }
            for (i = 0; i < n; i++) {
                scratch[i] = synthetic_acc(seed, t, n, i, acc_shift);
            }
            if (model == 0u) {
                status = slf_silif_update_q31(&silif, &silif_state, &ring, &list);
            } else if (model == 1u) {
                status = slf_csilif_update_q31(&csilif, &csilif_state, &ring, &list);
            } else {
                status = slf_readout_update_q31(&readout, scratch2, &ring);
                if (status == SLF_OK) {
                    status = slf_accumulate_decision_q16(&readout, scratch2, totals);
                }
            }
            if (model <= 1u) {
                for (i = 0; i < list.count; i++) {
                    checksum += t * n + list.index[i] + 1u;
                }
                spikes += list.count;
            }
        }
    }
    put((uint32_t)status);
}

/* ---------------------------------------------------------------- validation functions */

/* kind n [exp_mult exp_shift] records -> status */
static void run_layer_check(cursor *c)
{
    uint32_t kind = take(c), n = take(c), i;
    if (n > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    if (kind == 0u) {
        slf_silif_layer layer;
        for (i = 0; i < n; i++) {
            slf_silif_neuron *p = &silif_neurons[i];
            p->mult = (int32_t)take(c);
            p->bias = (int32_t)take(c);
            p->k_beta = (int32_t)take(c);
            p->k_a = (int32_t)take(c);
            p->jump = (int32_t)take(c);
            p->k_alpha = (int32_t)take(c);
        }
        layer.neuron = silif_neurons;
        layer.n = (uint16_t)n;
        layer.threshold = 0;
        put((uint32_t)slf_silif_layer_check(&layer));
    } else if (kind == 1u) {
        slf_csilif_layer layer;
        for (i = 0; i < n; i++) {
            slf_csilif_neuron *p = &csilif_neurons[i];
            p->mult = (int32_t)take(c);
            p->bias = (int32_t)take(c);
            p->k_re = (int32_t)take(c);
            p->k_im = (int32_t)take(c);
        }
        layer.neuron = csilif_neurons;
        layer.n = (uint16_t)n;
        layer.threshold = 0;
        put((uint32_t)slf_csilif_layer_check(&layer));
    } else if (kind == 2u) {
        slf_readout_layer layer;
        layer.exp_mult = (int32_t)take(c);
        layer.exp_shift = (int32_t)take(c);
        if (n > READOUT_CAP) {
            put(0xBADu);
            return;
        }
        load_readout(c, &layer, n);
        put((uint32_t)slf_readout_layer_check(&layer));
    } else {
        slf_lif_layer layer;
        layer.flags = (uint16_t)take(c);
        layer.out_shift = (int16_t)(int32_t)take(c);
        load_lif(c, n);
        layer.neuron = lif_neurons;
        layer.n = (uint16_t)n;
        put((uint32_t)slf_lif_layer_check(&layer));
    }
}

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

/* A fixed battery of invalid calls; every status is reported and nothing may be written
 * (guard values around and inside the buffers are checked). cases.py: ERROR_BATTERY. */
static void run_errors(void)
{
    static int8_t w8[4 * 8];
    static int32_t slots[2 * 8 + 2];
    static uint16_t idx[4];
    static uint8_t axonal_delay[4] = {0, 1, 2, 0};
    static uint8_t nibbles[4 * 4];
    static slf_silif_neuron sn[8];
    static slf_readout_neuron rn[8];
    static slf_silif_cell cells[8];
    static uint8_t s[8];
    static uint16_t out_index[8];
    slf_weights_s8 weights = {w8, 4, 8};
    slf_delay_ring_s32 ring = {slots + 1, 2, 8, 0};
    slf_spike_list list = {idx, 1, 4};
    slf_axonal_delays axonal = {axonal_delay, 4};
    slf_synaptic_delays synaptic = {nibbles, 4, 8};
    slf_event ev[2] = {{0, 1}, {4, 1}};
    slf_silif_layer layer = {sn, 8, 100};
    slf_silif_state state = {cells, s};
    slf_spike_list out = {out_index, 0, 8};
    slf_readout_layer readout = {rn, 8, 1549082005, 40};
    int32_t u[8] = {0};
    int32_t total[8] = {0};
    uint16_t decision = 0;
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
    put((uint32_t)slf_lanes16_weights_check_s8(NULL));                          /* NULL */
    put((uint32_t)slf_lanes16_weights_check_s8(&weights));                      /* OK */
    for (i = 0; i < 4u; i++) {
        guard_ok &= lanes_buf[i] == 0x5A5A5A5Au;
    }
    for (i = 0; i < 2u * 8u + 2u; i++) {
        guard_ok &= slots[i] == 0x5A5A5A5A;
    }
    put((uint32_t)guard_ok);

    ring.slots = slots + 1;
    for (i = 0; i < 2u * 8u + 2u; i++) {
        slots[i] = 0;
    }
    out.capacity = 7;
    put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &out));          /* CAPACITY */
    out.capacity = 8;
    ring.width = 9;
    put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &out));          /* SHAPE */
    ring.width = 8;
    put((uint32_t)slf_silif_update_q31(&layer, &state, NULL, &out));           /* NULL */
    ring.depth = 0;
    put((uint32_t)slf_delay_ring_take_s32(&ring, u));                          /* SHAPE */
    put((uint32_t)slf_delay_ring_init_s32(&ring, slots, 0, 8));                /* SHAPE */
    ring.depth = 2;
    put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &out));          /* OK (zero constants) */
    put(ring.head);                                                           /* 1 */
    readout.n = 0;
    put((uint32_t)slf_accumulate_decision_q16(&readout, u, total));            /* SHAPE */
    readout.n = SLF_MAX_CLASSES + 1;
    put((uint32_t)slf_softmax_q16(u, readout.n, readout.exp_mult, readout.exp_shift, total)); /* SHAPE */
    put((uint32_t)slf_decide_s32(total, 0, &decision));                        /* SHAPE */
    put((uint32_t)slf_decide_s32(NULL, 3, &decision));                         /* NULL */
    put((uint32_t)slf_readout_layer_check(&readout));                          /* PARAM: n > 127 */

    {
        static slf_lif_neuron ln[8];
        static slf_lif_cell lc[8];
        slf_lif_layer lif = {ln, 8, SLF_LIF_SPIKING, 0};
        slf_lif_state lif_state = {lc, s};
        ring.head = 0;
        put((uint32_t)slf_lif_update_q31(NULL, &lif_state, &ring, &out, NULL));       /* NULL */
        put((uint32_t)slf_lif_update_q31(&lif, &lif_state, &ring, NULL, NULL));       /* NULL: spiking, no list */
        out.capacity = 7;
        put((uint32_t)slf_lif_update_q31(&lif, &lif_state, &ring, &out, NULL));       /* CAPACITY */
        out.capacity = 8;
        ring.width = 9;
        put((uint32_t)slf_lif_update_q31(&lif, &lif_state, &ring, &out, NULL));       /* SHAPE */
        lif.flags = 0;
        put((uint32_t)slf_lif_update_q31(&lif, &lif_state, &ring, NULL, NULL));       /* SHAPE: not spiking */
        ring.width = 8;
        put((uint32_t)slf_lif_update_q31(&lif, &lif_state, &ring, NULL, u));          /* OK: LI, no list */
        lif.flags = 0x10u;
        put((uint32_t)slf_lif_layer_check(&lif));                                      /* PARAM: flags */
        lif.flags = SLF_LIF_SPIKING;
        lif.out_shift = 32;
        put((uint32_t)slf_lif_layer_check(&lif));                                      /* PARAM: out_shift */
        lif.out_shift = 0;
        ln[3].leak = -1;
        ln[3].reset_sub = INT32_MAX;
        put((uint32_t)slf_lif_layer_check(&lif));                                      /* PARAM: |leak| + |reset_sub| */
        ln[3].leak = 0;
        put((uint32_t)slf_lif_layer_check(&lif));                                      /* OK */
        put((uint32_t)slf_lif_layer_check(NULL));                                      /* NULL */
    }
}

/* ---------------------------------------------------------------- main loop */

int driver_main(void)
{
    uint32_t header[3], r;

    if (io_read(header, sizeof header) != sizeof header || header[0] != MAGIC || header[1] != VERSION) {
        return 2;
    }
    for (r = 0; r < header[2]; r++) {
        uint32_t head[2];
        cursor c;
        if (io_read(head, sizeof head) != sizeof head || head[1] > RECORD_WORDS) {
            return 3;
        }
        if (io_read(record, head[1] * 4u) != head[1] * 4u) {
            return 4;
        }
        c.at = record;
        c.end = record + head[1];
        c.bad = 0;
        put(head[0]);
        switch (head[0]) {
        case OP_ACCUMULATE: run_accumulate(&c); break;
        case OP_SILIF: run_silif(&c); break;
        case OP_CSILIF: run_csilif(&c); break;
        case OP_READOUT: run_readout(&c); break;
        case OP_DECISION: run_decision(&c); break;
        case OP_LONGRUN: run_longrun(&c); break;
        case OP_LAYER_CHECK: run_layer_check(&c); break;
        case OP_ERRORS: run_errors(); break;
        case OP_DELAY_CHECK: run_delay_check(&c); break;
        case OP_LANES16_CHECK: run_lanes16_check(&c); break;
        case OP_LIF: run_lif(&c); break;
        default: put(0xBADu); break;
        }
        put(c.bad ? 0xDEADu : 0xE0Du); /* end-of-result marker */
        flush_out();
    }
    return 0;
}

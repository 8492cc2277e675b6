/* Test driver, neuron kernels (include/slf_neurons.h, include/slf_lif.h): SiLIF, C-SiLIF, LIF-family
 * and readout updates, layer checks and long runs. Cases: neurons.py. */
#include "driver.h"

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

static void put_spikes(const slf_spike_list *list)
{
    uint32_t k;
    put(list->count);
    for (k = 0; k < list->count; k++) {
        put(list->index[k]);
    }
}

/* The previous step's spike flags of n neurons, from the case. */
static void take_spiked(cursor *c, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        spiked[i] = (uint8_t)take(c);
    }
}

static void put_spiked(uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        put(spiked[i]);
    }
}

/* A one-slot ring (the case hands in each step's accumulators) and an empty spike list, n wide. */
static void one_slot_io(slf_delay_ring_s32 *ring, slf_spike_list *list, uint32_t n)
{
    list->index = spike_index;
    list->count = 0;
    list->capacity = (uint16_t)n;
    ring->depth = 1;
    ring->width = (uint16_t)n;
    ring->head = 0;
}

/* The kernel must have consumed (zeroed) its input slot. */
static void put_slot_cleared(const slf_delay_ring_s32 *ring, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n && ring->slots[i] == 0; i++) {
    }
    put(i == n);
}

/* n SiLIF records (k_beta bias k_a jump mult k_leak), one word each, into silif_neurons; the
 * 16-bit fields take the word's low half (the Python side sends them in range). */
static void take_silif_records(cursor *c, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        slf_silif_neuron *p = &silif_neurons[i];
        p->k_beta = (int32_t)take(c);
        p->bias = (int32_t)take(c);
        p->k_a = (int16_t)(take(c) & 0xFFFFu);
        p->jump = (int16_t)(take(c) & 0xFFFFu);
        p->mult = (uint16_t)take(c);
        p->k_leak = (int16_t)(take(c) & 0xFFFFu);
    }
}

/* n threshold steps | n x (k_beta bias k_a jump mult k_leak) | u w s | acc per step
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
    take_silif_records(c, n);
    for (i = 0; i < n; i++) {
        silif_cells[i].u = (int32_t)take(c);
    }
    for (i = 0; i < n; i++) {
        silif_cells[i].w = (int32_t)take(c);
    }
    take_spiked(c, n);
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
        put_spiked(n);
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
    take_spiked(c, n);
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
        put_spiked(n);
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
    take_spiked(c, n);
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
        put_spiked(n);
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
        take_silif_records(c, n);
        for (i = 0; i < n; i++) {
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

/* ---------------------------------------------------------------- layer checks */

/* kind n [threshold (SiLIF) | exp_mult exp_shift (readout)] records -> status */
static void run_layer_check(cursor *c)
{
    uint32_t kind = take(c), n = take(c), i;
    if (n > MAX_NEURONS) {
        put(0xBADu);
        return;
    }
    if (kind == 0u) {
        slf_silif_layer layer;
        layer.threshold = (int32_t)take(c);
        take_silif_records(c, n);
        layer.neuron = silif_neurons;
        layer.n = (uint16_t)n;
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

/* ---------------------------------------------------------------- invalid arguments */

/* A fixed battery of invalid calls; every status is reported. neurons.ERROR_BATTERY. */
static void run_errors(void)
{
    static int32_t slots[2 * 8 + 2];
    static slf_silif_neuron sn[8];
    static slf_readout_neuron rn[8];
    static slf_silif_cell cells[8];
    static uint8_t s[8];
    static uint16_t out_index[8];
    slf_delay_ring_s32 ring = {slots + 1, 2, 8, 0};
    slf_silif_layer layer = {sn, 8, 100};
    slf_silif_state state = {cells, s};
    slf_spike_list out = {out_index, 0, 8};
    slf_readout_layer readout = {rn, SLF_MAX_CLASSES + 1, 1549082005, 40};

    out.capacity = 7;
    put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &out));          /* CAPACITY */
    out.capacity = 8;
    ring.width = 9;
    put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &out));          /* SHAPE */
    ring.width = 8;
    put((uint32_t)slf_silif_update_q31(&layer, &state, NULL, &out));           /* NULL */
    put((uint32_t)slf_silif_update_q31(&layer, &state, &ring, &out));          /* OK (zero constants) */
    put(ring.head);                                                           /* 1 */
    put((uint32_t)slf_readout_layer_check(&readout));                          /* PARAM: n > 127 */

    {
        static slf_lif_neuron ln[8];
        static slf_lif_cell lc[8];
        static int32_t totals[8];
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
        put((uint32_t)slf_lif_update_q31(&lif, &lif_state, &ring, NULL, totals));     /* OK: LI, no list */
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

int run_neurons_record(uint32_t op, cursor *c)
{
    switch (op) {
    case OP_SILIF: run_silif(c); return 1;
    case OP_CSILIF: run_csilif(c); return 1;
    case OP_READOUT: run_readout(c); return 1;
    case OP_LONGRUN: run_longrun(c); return 1;
    case OP_LAYER_CHECK: run_layer_check(c); return 1;
    case OP_NEURON_ERRORS: run_errors(); return 1;
    case OP_LIF: run_lif(c); return 1;
    default: return 0;
    }
}

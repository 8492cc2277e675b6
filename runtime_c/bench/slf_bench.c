/* Kernel benchmark firmware (bench/kernels.py builds and runs it in QEMU).
 *
 * Each kernel call runs between its own marker and the idle marker; the emulator's
 * insncount plugin counts the instructions executed while each marker was the latest one
 * reached (run_firmware's `markers`), so a benchmark's bucket holds one kernel call, its
 * argument set-up and the ~4 instructions of the marker calls; set-up between benchmarks
 * falls into the idle bucket. The console gets one line per benchmark, "index name units", so that the
 * script can divide each bucket by its work units (synaptic operations or neurons).
 *
 * Workload: a 512-wide layer (the paper models' hidden width) fed by 64 inputs, with
 * seeded pseudo-random weights, delays and states, and realistic input scales (mult in
 * [2^30, 2^31), shifts 14..35 as the int8/int16 paper models have).
 */
#include <stdint.h>

#include "markers.h"
#include "semihost.h"
#include "silifc.h"

#define N_IN 64
#define N_OUT 512
#define N_CLASSES 35
#define DEPTH 16
#define LONG_DEPTH 256 /* byte delays up to 255 steps, on a layer of LONG_OUT outputs */
#define LONG_OUT 64

static int8_t w8[N_IN * N_OUT];
/* The int16 weights, and once the synapse benchmarks are done the LIF-family records and cells
 * (their benchmarks run last), which would not fit a 256 KB board's RAM beside them. */
static union {
    int16_t w16[N_IN * N_OUT];
    struct {
        slf_lif_neuron neuron[N_OUT];
        slf_lif_cell cell[N_OUT];
    } lif;
} shared;
static uint8_t nibbles[N_IN * N_OUT / 2];
static uint8_t delays8[N_IN * N_OUT];
static uint8_t axonal[N_IN];
static int32_t slots[LONG_DEPTH * LONG_OUT > DEPTH * N_OUT ? LONG_DEPTH * LONG_OUT : DEPTH * N_OUT];
static uint32_t lane_words[SLF_LANES16_SCRATCH_WORDS(N_OUT)];
static uint16_t spike_index[N_OUT];
static uint16_t out_index[N_OUT];
static slf_event events[N_IN];
static slf_silif_neuron silif[N_OUT];
static slf_csilif_neuron csilif[N_OUT];
static slf_readout_neuron readout[N_CLASSES];
static slf_silif_cell silif_cells[N_OUT];
static slf_csilif_cell csilif_cells[N_OUT];
static uint8_t spiked[N_OUT];
static int32_t readout_u[N_CLASSES];
static int32_t totals[N_CLASSES];

static uint32_t rng_state = 0x12345678u;

static uint32_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int32_t uniform(int32_t low, int32_t high) /* [low, high] */
{
    return low + (int32_t)(next() % (uint32_t)(high - low + 1));
}

/* One marker per benchmark (distinct addresses: noipa keeps them apart). */
#define MARKER(i) SLF_MARKER void slf_bench_mark_##i(void) {}
MARKER(00) MARKER(01) MARKER(02) MARKER(03) MARKER(04) MARKER(05) MARKER(06) MARKER(07)
MARKER(08) MARKER(09) MARKER(10) MARKER(11) MARKER(12) MARKER(13) MARKER(14) MARKER(15)
MARKER(16) MARKER(17) MARKER(18) MARKER(19) MARKER(20) MARKER(21) MARKER(22) MARKER(23)
MARKER(24) MARKER(25)
/* Reached after every kernel call: setup work between benchmarks lands in its bucket. */
SLF_MARKER void slf_bench_mark_idle(void) {}

static void (*const marks[])(void) = {
    slf_bench_mark_00, slf_bench_mark_01, slf_bench_mark_02, slf_bench_mark_03, slf_bench_mark_04,
    slf_bench_mark_05, slf_bench_mark_06, slf_bench_mark_07, slf_bench_mark_08, slf_bench_mark_09,
    slf_bench_mark_10, slf_bench_mark_11, slf_bench_mark_12, slf_bench_mark_13, slf_bench_mark_14,
    slf_bench_mark_15, slf_bench_mark_16, slf_bench_mark_17, slf_bench_mark_18, slf_bench_mark_19,
    slf_bench_mark_20, slf_bench_mark_21, slf_bench_mark_22, slf_bench_mark_23, slf_bench_mark_24,
    slf_bench_mark_25,
};

#define MAX_BENCHES (sizeof marks / sizeof marks[0])

static const char *bench_name[MAX_BENCHES];
static uint32_t bench_units[MAX_BENCHES];
static uint32_t bench_count;
static int failures;

/* Opens the bucket of the next benchmark: call right before the kernel. */
static void begin(const char *name, uint32_t units)
{
    bench_name[bench_count] = name;
    bench_units[bench_count] = units;
    marks[bench_count++]();
}

/* Closes it: the status check and everything until the next begin() count as idle. */
static void expect_ok(slf_status status)
{
    slf_bench_mark_idle();
    failures += status != SLF_OK;
}

static void report(void)
{
    uint32_t i;
    for (i = 0; i < bench_count; i++) {
        sh_put_i32((int32_t)i);
        sh_puts(" ");
        sh_puts(bench_name[i]);
        sh_puts(" ");
        sh_put_i32((int32_t)bench_units[i]);
        sh_puts("\n");
    }
}

static void setup(void)
{
    uint32_t i;
    for (i = 0; i < N_IN * N_OUT; i++) {
        w8[i] = (int8_t)uniform(-127, 127);
        shared.w16[i] = (int16_t)uniform(-32767, 32767);
    }
    for (i = 0; i < N_IN * N_OUT / 2; i++) {
        nibbles[i] = (uint8_t)(next() & 0xFFu);
    }
    for (i = 0; i < N_IN; i++) {
        axonal[i] = (uint8_t)uniform(0, DEPTH - 1);
    }
    for (i = 0; i < N_OUT; i++) {
        int32_t mult = uniform(1, 1 << 14);
        int32_t bias = uniform(-(1 << 22), 1 << 22);
        slf_silif_neuron s = {0, 0, 0, 0, 0, 0};
        slf_csilif_neuron c = {0, 0, 0, 0};
        s.mult = (uint16_t)mult;
        s.bias = bias;
        s.k_leak = (int16_t)uniform(-32768, 0);
        s.k_beta = uniform(1 << 30, SLF_Q31_LIMIT);
        s.k_a = (int16_t)uniform(0, 32767);
        s.jump = (int16_t)uniform(0, 32767);
        silif[i] = s;
        c.mult = mult;
        c.bias = bias;
        c.k_re = uniform(-SLF_Q31_LIMIT, SLF_Q31_LIMIT);
        c.k_im = uniform(-SLF_Q31_LIMIT, SLF_Q31_LIMIT);
        csilif[i] = c;
        silif_cells[i].u = uniform(-(1 << 22), 1 << 22);
        silif_cells[i].w = uniform(-(1 << 22), 1 << 22);
        csilif_cells[i].zr = uniform(-(1 << 20), 1 << 20);
        csilif_cells[i].zi = uniform(-(1 << 20), 1 << 20);
        spiked[i] = (uint8_t)((next() & 7u) == 0u);
    }
    for (i = 0; i < N_CLASSES; i++) {
        slf_readout_neuron r = {0, 0, 0};
        r.mult = uniform(1, 1 << 14);
        r.bias = uniform(-(1 << 20), 1 << 20);
        r.k_alpha = uniform(1758000000, 2063000000); /* e^-1/5 .. e^-1/25 in Q31 */
        readout[i] = r;
        readout_u[i] = uniform(-(1 << 24), 1 << 24);
    }
    for (i = 0; i < N_IN; i++) {
        spike_index[i] = (uint16_t)i; /* distinct inputs */
    }
    for (i = 0; i < N_IN * N_OUT; i++) {
        delays8[i] = (uint8_t)uniform(0, DEPTH - 1);
    }
}

/* The LIF-family records and cells, in the int16 weights' storage (after the synapse benchmarks). */
static void setup_lif(void)
{
    uint32_t i;
    for (i = 0; i < N_OUT; i++) {
        slf_lif_neuron *p = &shared.lif.neuron[i];
        p->mult = uniform(1, 1 << 14);
        p->bias = uniform(-(1 << 22), 1 << 22);
        p->k_beta = uniform(1 << 30, SLF_Q31_LIMIT);
        p->k_alpha = uniform(1 << 30, SLF_Q31_LIMIT);
        p->leak = uniform(-(1 << 10), 1 << 10);
        p->threshold = 1 << 21;
        p->reset_to = 0;
        p->reset_sub = 1 << 21;
        shared.lif.cell[i].v = uniform(-(1 << 22), 1 << 22);
        shared.lif.cell[i].j = uniform(-(1 << 22), 1 << 22);
    }
}

/* Fill the current slot with typical accumulator values (int8 sums of ~10% of 512 inputs). */
static void fill_slot(slf_delay_ring_s32 *ring)
{
    uint32_t i;
    int32_t *slot = ring->slots + (uint32_t)ring->head * ring->width;
    for (i = 0; i < ring->width; i++) {
        slot[i] = uniform(-3000, 3000);
    }
}

static void bench_accumulate(void)
{
    slf_weights_s8 weights8 = {w8, N_IN, N_OUT};
    slf_weights_s16 weights16 = {shared.w16, N_IN, N_OUT};
    slf_axonal_delays axonal_delays = {axonal, N_IN};
    slf_synaptic_delays synaptic_delays = {nibbles, N_IN, N_OUT};
    slf_synaptic_delays_u8 byte_delays = {delays8, N_IN, N_OUT};
    slf_spike_list spikes32 = {spike_index, 32, N_OUT};
    slf_spike_list spikes1 = {spike_index, 1, N_OUT};
    slf_spike_list spikes8 = {spike_index, 8, N_OUT};
    slf_spike_list spikes64 = {spike_index, N_IN, N_OUT};
    slf_lanes16_scratch lanes = {lane_words, SLF_LANES16_SCRATCH_WORDS(N_OUT)};
    slf_delay_ring_s32 ring;
    uint32_t i;

    expect_ok(slf_delay_ring_init_s32(&ring, slots, 1, N_OUT));
    begin("accumulate_spikes_s8 (32 spikes)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8(&weights8, &spikes32, &ring));
    begin("accumulate_spikes_s8 (1 spike)", N_OUT);
    expect_ok(slf_accumulate_spikes_s8(&weights8, &spikes1, &ring));
    begin("accumulate_spikes_s8_lanes16 (32 spikes)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8_lanes16(&weights8, &spikes32, &lanes, &ring));
    begin("accumulate_spikes_s8_lanes16 (64 spikes)", 64u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8_lanes16(&weights8, &spikes64, &lanes, &ring));
    begin("accumulate_spikes_s8_lanes16 (8 spikes)", 8u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8_lanes16(&weights8, &spikes8, &lanes, &ring));
    ring.width = N_CLASSES; /* the readout's shape: 35 outputs, 4 blocks of 8 + an overlapping one */
    weights8.n_out = N_CLASSES;
    begin("accumulate_spikes_s8_lanes16 (32 spikes, 35 outputs)", 32u * N_CLASSES);
    expect_ok(slf_accumulate_spikes_s8_lanes16(&weights8, &spikes32, &lanes, &ring));
    begin("accumulate_spikes_s8 (32 spikes, 35 outputs)", 32u * N_CLASSES);
    expect_ok(slf_accumulate_spikes_s8(&weights8, &spikes32, &ring));
    ring.width = N_OUT;
    weights8.n_out = N_OUT;
    begin("accumulate_spikes_s16 (32 spikes)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s16(&weights16, &spikes32, &ring));

    for (i = 0; i < 32u; i++) {
        events[i].index = (uint16_t)i;
        events[i].count = 1;
    }
    begin("accumulate_events_s8 (32 events, count 1)", 32u * N_OUT);
    expect_ok(slf_accumulate_events_s8(&weights8, events, 32, &ring));
    begin("accumulate_events_s8_lanes16 (32 events, count 1)", 32u * N_OUT);
    expect_ok(slf_accumulate_events_s8_lanes16(&weights8, events, 32, &lanes, &ring));
    for (i = 0; i < 32u; i++) {
        events[i].count = 3;
    }
    begin("accumulate_events_s8 (32 events, count 3)", 32u * N_OUT);
    expect_ok(slf_accumulate_events_s8(&weights8, events, 32, &ring));
    begin("accumulate_events_s8_lanes16 (32 events, count 3)", 32u * N_OUT);
    expect_ok(slf_accumulate_events_s8_lanes16(&weights8, events, 32, &lanes, &ring));
    begin("accumulate_events_s16 (32 events, count 3)", 32u * N_OUT);
    expect_ok(slf_accumulate_events_s16(&weights16, events, 32, &ring));

    expect_ok(slf_delay_ring_init_s32(&ring, slots, DEPTH, N_OUT));
    begin("accumulate_spikes_s8_axonal (32 spikes, D=16)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8_axonal(&weights8, &axonal_delays, &spikes32, &ring));
    begin("accumulate_spikes_s8_delayed (32 spikes, D=16)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8_delayed(&weights8, &synaptic_delays, &spikes32, &ring));
    begin("accumulate_spikes_s16_delayed (32 spikes, D=16)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s16_delayed(&weights16, &synaptic_delays, &spikes32, &ring));
    begin("accumulate_spikes_s8_delayed_u8 (32 spikes, D=16)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s8_delayed_u8(&weights8, &byte_delays, &spikes32, &ring));
    begin("accumulate_spikes_s16_delayed_u8 (32 spikes, D=16)", 32u * N_OUT);
    expect_ok(slf_accumulate_spikes_s16_delayed_u8(&weights16, &byte_delays, &spikes32, &ring));
    begin("accumulate_events_s8_delayed_u8 (32 events, count 3, D=16)", 32u * N_OUT);
    expect_ok(slf_accumulate_events_s8_delayed_u8(&weights8, &byte_delays, events, 32, &ring));

    /* delays up to 255 steps: 256 slots of a 64-wide layer */
    for (i = 0; i < N_IN * LONG_OUT; i++) {
        delays8[i] = (uint8_t)uniform(0, LONG_DEPTH - 1);
    }
    weights8.n_out = LONG_OUT;
    byte_delays.n_out = LONG_OUT;
    expect_ok(slf_delay_ring_init_s32(&ring, slots, LONG_DEPTH, LONG_OUT));
    ring.head = 200; /* the table wraps */
    begin("accumulate_spikes_s8_delayed_u8 (32 spikes, 64 outputs, D=256)", 32u * LONG_OUT);
    expect_ok(slf_accumulate_spikes_s8_delayed_u8(&weights8, &byte_delays, &spikes32, &ring));
}

static void bench_neurons(void)
{
    slf_silif_layer silif_layer = {silif, N_OUT, 1 << 21};
    slf_silif_state silif_state = {silif_cells, spiked};
    slf_csilif_layer csilif_layer = {csilif, N_OUT, 1 << 20};
    slf_csilif_state csilif_state = {csilif_cells, spiked};
    slf_lif_layer lif_layer = {shared.lif.neuron, N_OUT, SLF_LIF_SPIKING, 0};
    slf_lif_state lif_state = {shared.lif.cell, spiked};
    slf_readout_layer readout_layer = {readout, N_CLASSES, 1549082005, 40};
    slf_spike_list out = {out_index, 0, N_OUT};
    slf_delay_ring_s32 ring;

    expect_ok(slf_delay_ring_init_s32(&ring, slots, 1, N_OUT));
    fill_slot(&ring);
    begin("silif_update_q31 (512 neurons)", N_OUT);
    expect_ok(slf_silif_update_q31(&silif_layer, &silif_state, &ring, &out));
    fill_slot(&ring);
    begin("csilif_update_q31 (512 neurons)", N_OUT);
    expect_ok(slf_csilif_update_q31(&csilif_layer, &csilif_state, &ring, &out));

    expect_ok(slf_delay_ring_init_s32(&ring, slots, 1, N_CLASSES));
    fill_slot(&ring);
    begin("readout_update_q31 (35 classes)", N_CLASSES);
    expect_ok(slf_readout_update_q31(&readout_layer, readout_u, &ring));
    begin("accumulate_decision_q16 (35 classes)", N_CLASSES);
    expect_ok(slf_accumulate_decision_q16(&readout_layer, readout_u, totals));

    setup_lif();
    expect_ok(slf_delay_ring_init_s32(&ring, slots, 1, N_OUT));
    fill_slot(&ring);
    begin("lif_update_q31 (512 neurons, LIF, subtract)", N_OUT);
    expect_ok(slf_lif_update_q31(&lif_layer, &lif_state, &ring, &out, 0));
    fill_slot(&ring);
    lif_layer.flags = SLF_LIF_SPIKING | SLF_LIF_CURRENT | SLF_LIF_RESET_VALUE;
    begin("lif_update_q31 (512 neurons, CubaLIF, value)", N_OUT);
    expect_ok(slf_lif_update_q31(&lif_layer, &lif_state, &ring, &out, 0));
}

int main(void)
{
    setup();
    bench_accumulate();
    bench_neurons();
    report();
    return failures;
}

/* Test driver, decision kernels (include/slf_decision.h): softmax, decision accumulation, argmax.
 * Cases: decision.py. */
#include "driver.h"

static int32_t probabilities[SLF_MAX_CLASSES + 1u];

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
    layer.neuron = NULL; /* not read by the decision kernels */
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
        put((uint32_t)slf_softmax_q16(u, (uint16_t)n, layer.exp_mult, layer.exp_shift, probabilities));
        put_i32s(probabilities, n);
        put((uint32_t)slf_accumulate_decision_q16(&layer, u, total));
        put_i32s(total, n);
    }
    put((uint32_t)slf_decide_s32(total, (uint16_t)n, &decision));
    put(decision);
}

/* A fixed battery of invalid calls; every status is reported. decision.ERROR_BATTERY. */
static void run_errors(void)
{
    slf_readout_layer readout = {NULL, 0, 1549082005, 40};
    int32_t u[8] = {0};
    int32_t total[8] = {0};
    uint16_t decision = 0;

    put((uint32_t)slf_accumulate_decision_q16(&readout, u, total));            /* SHAPE: n == 0 */
    readout.n = SLF_MAX_CLASSES + 1;
    put((uint32_t)slf_softmax_q16(u, readout.n, readout.exp_mult, readout.exp_shift, total)); /* SHAPE */
    put((uint32_t)slf_decide_s32(total, 0, &decision));                        /* SHAPE */
    put((uint32_t)slf_decide_s32(NULL, 3, &decision));                         /* NULL */
}

int run_decision_record(uint32_t op, cursor *c)
{
    switch (op) {
    case OP_DECISION: run_decision(c); return 1;
    case OP_DECISION_ERRORS: run_errors(); return 1;
    default: return 0;
    }
}

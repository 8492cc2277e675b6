/* Test driver for runtime_c, shared by its kernel families: the record protocol, the input cursor
 * and the result stream (driver.c), and one record runner per family (driver_<family>.c).
 *
 * Format (little-endian 32-bit words), written by tests/runtime_harness/common.py:
 *   file   = "SLFC" version n_records record*
 *   record = op n_words word[n_words]
 *   result = op word* marker               (one per record, same order; the words of each
 *                                           op are parsed by the family's cases module, marker
 *                                           0xE0D, or 0xDEAD when the record was too short)
 * Each case's arrays are used in place inside the record buffer (weights, rings, states).
 */
#ifndef DRIVER_H
#define DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "silifc.h"

/* Buffer sizes: the defaults fit a 256 KB board; small boards build with smaller ones
 * (common.Limits keeps every record and layer within the limits it is told). */
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

/* Record opcodes: common.py OP_* */
enum {
    OP_ACCUMULATE = 1,
    OP_SILIF = 2,
    OP_CSILIF = 3,
    OP_READOUT = 4,
    OP_DECISION = 5,
    OP_LONGRUN = 6,
    OP_LAYER_CHECK = 7,
    OP_SYNAPSE_ERRORS = 8,
    OP_DELAY_CHECK = 9,
    OP_LANES16_CHECK = 10,
    OP_NEURON_ERRORS = 11,
    OP_DECISION_ERRORS = 12,
    OP_DELAY_U8_CHECK = 13,
    OP_LIF = 14
};

typedef struct {
    uint32_t *at;
    uint32_t *end;
    int bad;
} cursor;

/* The next word of the record (0 and c->bad set past its end). */
uint32_t take(cursor *c);
/* n bytes, padded to whole words; returns their address inside the record. */
void *take_bytes(cursor *c, uint32_t n);

/* Appends to the result stream. */
void put(uint32_t word);
void put_words(const void *p, uint32_t n);
void put_i32s(const int32_t *p, uint32_t n);

/* Run one record of a family; return 0 if `op` is not one of the family's. */
int run_synapses_record(uint32_t op, cursor *c);
int run_neurons_record(uint32_t op, cursor *c);
int run_decision_record(uint32_t op, cursor *c);

#endif /* DRIVER_H */

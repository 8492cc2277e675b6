/* slf_accumulate_events_s8_axonal: input events x int8 weights, one delay per input.
 * Contract: include/slf_synapses.h. The code, one body for int8 and int16 weights:
 * internal/slf_accumulate_events_axonal_body.h. */
#define SLF_KERNEL slf_accumulate_events_s8_axonal
#define SLF_WEIGHT int8_t
#define SLF_TYPED(name) name##_s8
#include "internal/slf_accumulate_events_axonal_body.h"

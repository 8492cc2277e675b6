/* slf_accumulate_events_s16_delayed: input events x int16 weights with 4-bit per-synapse delays.
 * Contract: include/slf_synapses.h. The code, one body for int8 and int16 weights:
 * internal/slf_accumulate_events_delayed_body.h. */
#define SLF_KERNEL slf_accumulate_events_s16_delayed
#define SLF_WEIGHT int16_t
#define SLF_TYPED(name) name##_s16
#include "internal/slf_accumulate_events_delayed_body.h"

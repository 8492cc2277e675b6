/* slf_accumulate_spikes_s8_delayed_u8: spikes x int8 weights with byte per-synapse delays.
 * Contract: include/slf_synapses.h. The code, one body for int8 and int16 weights:
 * internal/slf_accumulate_spikes_delayed_u8_body.h. */
#define SLF_KERNEL slf_accumulate_spikes_s8_delayed_u8
#define SLF_WEIGHT int8_t
#define SLF_TYPED(name) name##_s8
#include "internal/slf_accumulate_spikes_delayed_u8_body.h"

/* slf_accumulate_spikes_s16_axonal: spikes x int16 weights, one delay per presynaptic input.
 * Contract: include/slf_synapses.h. The code, one body for int8 and int16 weights:
 * internal/slf_accumulate_spikes_axonal_body.h. */
#define SLF_KERNEL slf_accumulate_spikes_s16_axonal
#define SLF_WEIGHT int16_t
#define SLF_TYPED(name) name##_s16
#include "internal/slf_accumulate_spikes_axonal_body.h"

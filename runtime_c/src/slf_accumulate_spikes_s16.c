/* slf_accumulate_spikes_s16: hidden-layer spikes x int16 weights -> ring slot `head`.
 * Contract: include/slf_synapses.h. The code, one body for int8 and int16 weights:
 * internal/slf_accumulate_spikes_body.h. */
#define SLF_KERNEL slf_accumulate_spikes_s16
#define SLF_WEIGHT int16_t
#define SLF_TYPED(name) name##_s16
#include "internal/slf_accumulate_spikes_body.h"

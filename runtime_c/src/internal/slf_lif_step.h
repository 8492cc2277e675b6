/* silifc runtime, internal: the parts of slf_lif_update_q31 both paths share (not part of the API). */
#ifndef SLF_LIF_STEP_H
#define SLF_LIF_STEP_H

#include "slf_arith.h"
#include "slf_checks.h"
#include "slf_ring.h"

/* Arguments of slf_lif_update_q31: every pointer set, the ring n wide, and for a spiking layer
 * a spike list with room for n (the list is written branch-free). */
SLF_INLINE slf_status slf_check_lif_update(const slf_lif_layer *layer, const slf_lif_state *state,
                                           const slf_delay_ring_s32 *input, const slf_spike_list *spikes)
{
    if (layer == NULL || state == NULL) {
        return SLF_ERR_NULL;
    }
    if (layer->flags & SLF_LIF_SPIKING) {
        return slf_check_spiking_update(layer->neuron, state->cell, state->spiked, layer->n, input, spikes);
    }
    if (input == NULL || layer->neuron == NULL || state->cell == NULL || state->spiked == NULL) {
        return SLF_ERR_NULL;
    }
    return slf_check_ring(input, layer->n);
}

/* The end of a LIF-family step: the spike count of a spiking layer (out: the end of its list),
 * the output layer's totals (a spiking layer adds its spikes, a non-spiking one its membrane in
 * Q16: v >> out_shift, a negative out_shift shifts left, saturating; each saturating to int32),
 * and the ring's next slot. */
SLF_INLINE void slf_lif_finish(const slf_lif_layer *layer, const slf_lif_state *state, slf_delay_ring_s32 *input,
                               slf_spike_list *spikes, const uint16_t *out, int32_t *totals)
{
    uint32_t i;
    int32_t shift = layer->out_shift;
    if (layer->flags & SLF_LIF_SPIKING) {
        spikes->count = (uint16_t)(out - spikes->index);
    }
    for (i = 0; totals != NULL && i < layer->n; i++) {
        int64_t add;
        if (layer->flags & SLF_LIF_SPIKING) {
            add = state->spiked[i];
        } else if (shift >= 0) {
            add = state->cell[i].v >> shift; /* arithmetic shift of a negative value: GCC, Clang, Arm C */
        } else {
            add = (int64_t)state->cell[i].v * ((int64_t)1 << -shift);
        }
        totals[i] = slf_sat32((int64_t)totals[i] + slf_sat32(add));
    }
    slf_ring_advance(input);
}

#endif /* SLF_LIF_STEP_H */

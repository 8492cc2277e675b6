/* slf_silif_update_q31: one SiLIF step for a layer. Contract: include/slf_neurons.h. */
#include "slf_internal.h"

slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes)
{
    const slf_silif_neuron *restrict p;
    const slf_silif_neuron *end;
    slf_silif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out;
    int32_t threshold;
    uint32_t n, i;
    slf_status status;

    if (layer == NULL || state == NULL || input == NULL || spikes == NULL || layer->neuron == NULL ||
        state->cell == NULL || state->spiked == NULL || spikes->index == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    status = slf_check_ring(input, n);
    if (status != SLF_OK) {
        return status;
    }
    if (spikes->capacity < n) {
        return SLF_ERR_CAPACITY;
    }

    p = layer->neuron;
    end = p + n;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    out = spikes->index;
    threshold = layer->threshold;
    for (i = 0; p != end; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_input_current(*acc, p->mult, p->shift, p->offset, p->bias);
        uint32_t s = *spiked;
        int32_t u = cell->u;
        int32_t w = cell->w;
        /* Order of the authors' code: w sees the un-reset u; u is reset before the leak
         * and then uses the new w. Reordering changes spikes. */
        int32_t reset = slf_sub_sat(u, slf_select(s, threshold));
        int32_t w_new = slf_mac2_q31_sat(w, p->k_beta, u, p->k_a, slf_select(s, p->jump));
        int32_t u_new = slf_mac2_q31_sat(reset, p->k_alpha, w_new, p->neg_k_gain, current);
        uint32_t fire = slf_greater(u_new, threshold);
        *acc = 0;
        cell->u = u_new;
        cell->w = w_new;
        *spiked = (uint8_t)fire;
        *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
        out += fire;
    }
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

/* slf_silif_update_q31, portable reference: one SiLIF step for a layer. Contract:
 * include/slf_neurons.h; the Cortex-M DSP version (dsp/) runs the same operations in assembly. */
#include "../internal/slf_arith.h"
#include "../internal/slf_checks.h"
#include "../internal/slf_ring.h"
#include "slf_portable.h"

slf_status slf_silif_update_q31(const slf_silif_layer *layer, slf_silif_state *state, slf_delay_ring_s32 *input,
                                slf_spike_list *spikes)
{
    const slf_silif_neuron *restrict p;
    const slf_silif_neuron *end;
    slf_silif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out;
    int32_t threshold, threshold4;
    uint32_t n, i;
    slf_status status;

    if (layer == NULL || state == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    status = slf_check_spiking_update(layer->neuron, state->cell, state->spiked, n, input, spikes);
    if (status != SLF_OK) {
        return status;
    }

    p = layer->neuron;
    end = p + n;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    out = spikes->index;
    threshold = layer->threshold;
    threshold4 = (int32_t)((uint32_t)threshold << 2); /* 4*thr < 2^31 inside the contract */
    for (i = 0; p != end; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_mla_wrap(p->bias, *acc, p->mult);
        int32_t s = *spiked;
        int32_t u = cell->u;
        /* Order of the authors' code: w sees the un-reset u; u is reset before the leak
         * and then uses the new w. Reordering changes spikes. Ranges: include/slf_neurons.h. */
        /* |each term| < 2^30 inside the contract; modulo 2^32 (as SMLAWB) outside it */
        int32_t h = slf_wrap_add(slf_r32(cell->w, p->k_beta), slf_w16(u, p->k_a));
        int32_t jump = slf_w16(s * threshold4, p->jump);
        int32_t w_new = slf_dmac(jump, h);
        int32_t reset = slf_mls_wrap(u, s, threshold);
        int32_t x = slf_add_sat(reset, w_new);
        int32_t u_new = slf_dmac(slf_add_sat(reset, current), slf_w16(x, p->k_leak));
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

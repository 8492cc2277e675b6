/* slf_csilif_update_q31, portable reference: one C-SiLIF step for a layer. Contract:
 * include/slf_neurons.h; the Cortex-M DSP version (dsp/) runs the same operations in assembly. */
#include "../internal/slf_arith.h"
#include "../internal/slf_checks.h"
#include "../internal/slf_ring.h"
#include "slf_portable.h"

slf_status slf_csilif_update_q31(const slf_csilif_layer *layer, slf_csilif_state *state,
                                 slf_delay_ring_s32 *input, slf_spike_list *spikes)
{
    const slf_csilif_neuron *restrict p;
    const slf_csilif_neuron *end;
    slf_csilif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out;
    int32_t threshold;
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
    for (i = 0; p != end; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_mla_wrap(p->bias, *acc, p->mult);
        int32_t zi = cell->zi;
        /* Reset by the threshold on the real part before the rotation, so it leaks into Im z too. */
        int32_t reset = slf_mls_wrap(cell->zr, *spiked, threshold);
        int32_t zr_new = slf_dmac(current, slf_r32_sub(slf_r32(reset, p->k_re), zi, p->k_im));
        int32_t zi_new = slf_dmac(0, slf_r32_add(slf_r32(reset, p->k_im), zi, p->k_re));
        uint32_t fire = slf_greater(zr_new, threshold);
        *acc = 0;
        cell->zr = zr_new;
        cell->zi = zi_new;
        *spiked = (uint8_t)fire;
        *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
        out += fire;
    }
    spikes->count = (uint16_t)(out - spikes->index);
    slf_ring_advance(input);
    return SLF_OK;
}

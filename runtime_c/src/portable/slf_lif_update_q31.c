/* slf_lif_update_q31, portable reference: one step of a LIF-family layer. Contract:
 * include/slf_lif.h; the Cortex-M DSP version (dsp/) gives the same integers (the runtime
 * tests run both against reference/int_ref.lif_update). */
#include "../internal/slf_lif_step.h"
#include "slf_portable.h"

slf_status slf_lif_update_q31(const slf_lif_layer *layer, slf_lif_state *state, slf_delay_ring_s32 *input,
                              slf_spike_list *spikes, int32_t *totals)
{
    const slf_lif_neuron *p;
    slf_lif_cell *cell;
    uint8_t *spiked;
    int32_t *acc;
    uint16_t *out = NULL;
    uint32_t n, i, flags;
    slf_status status = slf_check_lif_update(layer, state, input, spikes);

    if (status != SLF_OK) {
        return status;
    }
    n = layer->n;
    flags = layer->flags;
    p = layer->neuron;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    if (flags & SLF_LIF_SPIKING) {
        out = spikes->index;
    }
    for (i = 0; i < n; i++, p++, cell++, spiked++, acc++) {
        int32_t current = slf_mla_wrap(p->bias, *acc, p->mult);
        int32_t s = *spiked;
        int32_t j = (flags & SLF_LIF_CURRENT) ? slf_dmac(current, slf_r32(cell->j, p->k_alpha)) : current;
        int32_t v = ((flags & SLF_LIF_RESET_VALUE) && s) ? p->reset_to : cell->v;
        /* leak - s*reset_sub is exact: the layer check keeps |leak| + |reset_sub| within int32 */
        int32_t c = slf_sat32((int64_t)j + slf_mls_wrap(p->leak, s, p->reset_sub));
        v = (flags & SLF_LIF_INTEGRATOR) ? slf_sat32((int64_t)c + v) : slf_dmac(c, slf_r32(v, p->k_beta));
        *acc = 0;
        cell->v = v;
        cell->j = j;
        if (flags & SLF_LIF_SPIKING) {
            uint32_t fire = slf_greater(v, p->threshold);
            *spiked = (uint8_t)fire;
            *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
            out += fire;
        }
    }
    slf_lif_finish(layer, state, input, spikes, out, totals);
    return SLF_OK;
}

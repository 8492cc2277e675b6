/* slf_lif_update_q31: one step of a LIF-family population. Contract: include/slf_lif.h. */
#include "slf_internal.h"

/* sat32(a + b) for int32 a, b */
SLF_INLINE int32_t slf_add_sat(int32_t a, int32_t b)
{
#if SLF_USE_DSP
    return __qadd(a, b);
#else
    return slf_sat32((int64_t)a + b);
#endif
}

/* v >> shift (arithmetic) for shift >= 0, v * 2^-shift saturated for shift < 0 */
SLF_INLINE int32_t slf_to_q16(int32_t v, int32_t shift)
{
    if (shift >= 0) {
        return (int32_t)(v >> shift); /* arithmetic shift of a negative value: GCC/Clang and Arm C */
    }
    return slf_sat32((int64_t)v * ((int64_t)1 << -shift));
}

slf_status slf_lif_update_q31(const slf_lif_layer *layer, slf_lif_state *state, slf_delay_ring_s32 *input,
                              slf_spike_list *spikes, int32_t *totals)
{
    const slf_lif_neuron *restrict p;
    slf_lif_cell *restrict cell;
    uint8_t *restrict spiked;
    int32_t *restrict acc;
    uint16_t *restrict out = NULL;
    uint32_t n, i, flags;
    int32_t out_shift;
    slf_status status;

    if (layer == NULL || state == NULL || input == NULL || layer->neuron == NULL || state->cell == NULL ||
        state->spiked == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    flags = layer->flags;
    status = slf_check_ring(input, n);
    if (status != SLF_OK) {
        return status;
    }
    if (flags & SLF_LIF_SPIKING) {
        if (spikes == NULL || spikes->index == NULL) {
            return SLF_ERR_NULL;
        }
        if (spikes->capacity < n) {
            return SLF_ERR_CAPACITY;
        }
        out = spikes->index;
    }

    p = layer->neuron;
    cell = state->cell;
    spiked = state->spiked;
    acc = slf_ring_head(input);
    out_shift = layer->out_shift;
    for (i = 0; i < n; i++, p++, cell++, spiked++) {
        int32_t current = slf_mla_wrap(p->bias, acc[i], p->mult);
        int32_t s = *spiked;
        int32_t j = (flags & SLF_LIF_CURRENT) ? slf_dmac(current, slf_r32(cell->j, p->k_alpha)) : current;
        int32_t v = ((flags & SLF_LIF_RESET_VALUE) && s) ? p->reset_to : cell->v;
        int32_t c = slf_sat32((int64_t)j + p->leak - (s ? p->reset_sub : 0));
        v = (flags & SLF_LIF_INTEGRATOR) ? slf_add_sat(c, v) : slf_dmac(c, slf_r32(v, p->k_beta));
        acc[i] = 0;
        cell->v = v;
        cell->j = j;
        if (flags & SLF_LIF_SPIKING) {
            uint32_t fire = slf_greater(v, p->threshold);
            *spiked = (uint8_t)fire;
            *out = (uint16_t)i; /* branch-free: overwritten unless this neuron fired */
            out += fire;
            if (totals != NULL) {
                totals[i] = slf_add_sat(totals[i], (int32_t)fire);
            }
        } else if (totals != NULL) {
            totals[i] = slf_add_sat(totals[i], slf_to_q16(v, out_shift));
        }
    }
    if (flags & SLF_LIF_SPIKING) {
        spikes->count = (uint16_t)(out - spikes->index);
    }
    slf_ring_advance(input);
    return SLF_OK;
}

slf_status slf_lif_layer_check(const slf_lif_layer *layer)
{
    uint32_t i;
    if (layer == NULL || (layer->neuron == NULL && layer->n != 0u)) {
        return SLF_ERR_NULL;
    }
    if ((layer->flags & ~(uint32_t)(SLF_LIF_CURRENT | SLF_LIF_INTEGRATOR | SLF_LIF_RESET_VALUE | SLF_LIF_SPIKING))
        || layer->out_shift > 31 || layer->out_shift < -31) {
        return SLF_ERR_PARAM;
    }
    for (i = 0; i < layer->n; i++) {
        const slf_lif_neuron *p = &layer->neuron[i];
        if (p->mult < 0 || p->k_beta < 0 || p->k_beta > SLF_Q31_LIMIT || p->k_alpha < 0 ||
            p->k_alpha > SLF_Q31_LIMIT) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

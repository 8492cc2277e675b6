/* One-time validation of the per-neuron constants (slf_*_layer_check). Contract: include/slf_neurons.h
 * and include/slf_lif.h.
 * The update kernels do not repeat these checks per step; they stay free of undefined
 * behaviour for any constants, but only constants that pass here give the reference's results. */
#include "internal/slf_base.h"

static int slf_q31_ok(int32_t k)
{
    return k >= -SLF_Q31_LIMIT && k <= SLF_Q31_LIMIT;
}

static int slf_decay_ok(int32_t k)
{
    return k >= 0 && k <= SLF_Q31_LIMIT;
}

slf_status slf_silif_layer_check(const slf_silif_layer *layer)
{
    uint32_t i;
    if (layer == NULL || (layer->neuron == NULL && layer->n != 0u)) {
        return SLF_ERR_NULL;
    }
    if (layer->threshold < 1 || layer->threshold > SLF_SILIF_THRESHOLD_MAX) {
        return SLF_ERR_PARAM;
    }
    for (i = 0; i < layer->n; i++) {
        const slf_silif_neuron *p = &layer->neuron[i];
        /* k_a, jump >= 0 and k_leak <= 0 in one sign test (int16 fields promote to int) */
        if (!slf_decay_ok(p->k_beta) || (p->k_a | p->jump | -p->k_leak) < 0) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

slf_status slf_csilif_layer_check(const slf_csilif_layer *layer)
{
    uint32_t i;
    if (layer == NULL || (layer->neuron == NULL && layer->n != 0u)) {
        return SLF_ERR_NULL;
    }
    for (i = 0; i < layer->n; i++) {
        const slf_csilif_neuron *p = &layer->neuron[i];
        if (p->mult < 0 || !slf_q31_ok(p->k_re) || !slf_q31_ok(p->k_im)) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

slf_status slf_readout_layer_check(const slf_readout_layer *layer)
{
    uint32_t i;
    if (layer == NULL || layer->neuron == NULL) {
        return SLF_ERR_NULL;
    }
    if (layer->n == 0u || layer->n > SLF_MAX_CLASSES || layer->exp_mult < 0 || layer->exp_shift < 1 ||
        layer->exp_shift > 62) {
        return SLF_ERR_PARAM;
    }
    for (i = 0; i < layer->n; i++) {
        const slf_readout_neuron *p = &layer->neuron[i];
        if (p->mult < 0 || !slf_q31_ok(p->k_alpha)) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

slf_status slf_lif_layer_check(const slf_lif_layer *layer)
{
    uint32_t i;
    if (layer == NULL || (layer->neuron == NULL && layer->n != 0u)) {
        return SLF_ERR_NULL;
    }
    if ((layer->flags & ~(uint32_t)(SLF_LIF_CURRENT | SLF_LIF_INTEGRATOR | SLF_LIF_RESET_VALUE | SLF_LIF_SPIKING)) ||
        layer->out_shift > 31 || layer->out_shift < -31) {
        return SLF_ERR_PARAM;
    }
    for (i = 0; i < layer->n; i++) {
        const slf_lif_neuron *p = &layer->neuron[i];
        int64_t reach = (int64_t)(p->leak < 0 ? -(int64_t)p->leak : p->leak) +
                        (p->reset_sub < 0 ? -(int64_t)p->reset_sub : p->reset_sub);
        if (p->mult < 0 || !slf_decay_ok(p->k_beta) || !slf_decay_ok(p->k_alpha) || reach > INT32_MAX) {
            return SLF_ERR_PARAM;
        }
    }
    return SLF_OK;
}

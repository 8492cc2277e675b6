/* slf_readout_update_q31: one step of the readout leaky integrators. Contract: include/slf_neurons.h. */
#include "internal/slf_arith.h"
#include "internal/slf_checks.h"
#include "internal/slf_ring.h"

slf_status slf_readout_update_q31(const slf_readout_layer *layer, int32_t *u, slf_delay_ring_s32 *input)
{
    const slf_readout_neuron *restrict p;
    int32_t *restrict acc;
    int32_t *restrict state;
    uint32_t n, i;
    slf_status status;

    if (layer == NULL || u == NULL || input == NULL || layer->neuron == NULL) {
        return SLF_ERR_NULL;
    }
    n = layer->n;
    status = slf_check_ring(input, n);
    if (status != SLF_OK) {
        return status;
    }

    p = layer->neuron;
    acc = slf_ring_head(input);
    state = u;
    for (i = 0; i < n; i++, p++) {
        int32_t current = slf_mla_wrap(p->bias, acc[i], p->mult);
        state[i] = slf_dmac(current, slf_r32(state[i], p->k_alpha));
        acc[i] = 0;
    }
    slf_ring_advance(input);
    return SLF_OK;
}

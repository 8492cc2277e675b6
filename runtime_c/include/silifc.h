/* silifc runtime: umbrella header. Generated model sources include only this file.
 *
 * A step of a generated network is a straight-line schedule of these kernels, e.g.
 *   slf_accumulate_events_s8(&l0_weights, events, n_events, &l0_ring);
 *   slf_silif_update_q31(&l0_layer, &l0_state, &l0_ring, &l0_spikes);
 *   slf_accumulate_spikes_s8(&l1_weights, &l0_spikes, &l1_ring);
 *   slf_silif_update_q31(&l1_layer, &l1_state, &l1_ring, &l1_spikes);
 *   slf_accumulate_spikes_s8(&ro_weights, &l1_spikes, &ro_ring);
 *   slf_readout_update_q31(&ro_layer, ro_u, &ro_ring);
 *   slf_accumulate_decision_q16(&ro_layer, ro_u, ro_total);
 * See docs/runtime.md for the data layouts the code generator emits.
 */
#ifndef SILIFC_H
#define SILIFC_H

#include "slf_config.h"
#include "slf_common.h"
#include "slf_synapses.h"
#include "slf_dense.h"
#include "slf_neurons.h"
#include "slf_lif.h"
#include "slf_decision.h"

#endif /* SILIFC_H */

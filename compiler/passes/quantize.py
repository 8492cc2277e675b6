"""Calibrated fixed-point quantization of a folded network (docs/fixed-point.md).

Algorithm:
 1. Run the float64 reference on calibration input and record, per layer, the largest
    |state| and |input current| (float units).
 2. Choose the layer's state format Q(31-F).F: the largest F with
    headroom * max|value| < 2^(31-F), capped at MAX_FRAC_BITS.
 3. Quantize weights per postsynaptic neuron (symmetric, int8 or int16) with a scale
    that is an integer number of state LSBs (mult), so that the input current is the exact
    integer acc * mult + bias (one MLA in the runtime).
 4. Decays and couplings become Q31 constants; thresholds, biases and the adaptation
    jump become state-format integers.
 5. Prove that no input current can leave int32 for any input (every accumulator is a
    sum of a subset of the weights, each times at most max_input_count); if it could,
    lower F one bit at a time (the first layer accepts a count limit down to 15 first).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..reference import fixedpoint as fx
from ..errors import QuantizationError
from ..reference.float_ref import run_float
from ..io.inputs import random_input
from ..ir import (WEIGHT_QMAX, FoldedCSiLIF, FoldedNetwork, FoldedReadout, FoldedSiLIF, QuantCSiLIF, QuantNetwork,
                  QuantReadout, QuantSiLIF, QuantSynapses)

MAX_FRAC_BITS = 28                # keeps >= 3 integer bits even for tiny states
MIN_FRAC_BITS = 8                 # below this the threshold itself is coarse: refuse
MAX_INPUT_COUNT = 255             # events per input per step arrive as uint8 counts
MIN_INPUT_COUNT_LIMIT = 15        # the first layer must accept at least this many events per input per step
DEFAULT_HEADROOM = 8.0            # 3 bits above the calibration maximum


def choose_frac_bits(max_abs: float, headroom: float, layer_name: str) -> int:
    limit = fx.INT32_MAX / max(headroom * max_abs, 1e-30)
    frac_bits = min(MAX_FRAC_BITS, int(math.floor(math.log2(limit))))
    if frac_bits < MIN_FRAC_BITS:
        raise QuantizationError(
            f"{layer_name}: states reach {max_abs:.3g} (x{headroom} headroom) and leave only {frac_bits} "
            f"fractional bits in int32 (need >= {MIN_FRAC_BITS}); lower --headroom or check the model")
    return frac_bits


def current_count_limit(q: np.ndarray, mult: np.ndarray, bias: np.ndarray) -> int:
    """Largest count K such that acc * mult + bias fits int32 for every accumulator that
    inputs delivering at most K events per step can produce (q: [out, in]).

    An accumulator sums each synapse at most once per step (a delay only moves it to
    another step), times a count <= K: it lies in [-K * sum(q-), K * sum(q+)] per neuron.
    """
    limits = [MAX_INPUT_COUNT]
    for reach, room in ((np.where(q > 0, q, 0).sum(axis=1) * mult, fx.INT32_MAX - bias),
                        (np.where(q < 0, -q, 0).sum(axis=1) * mult, bias - fx.INT32_MIN)):
        grows = reach > 0
        if grows.any():
            limits.append(int((room[grows] // reach[grows]).min()))
    return max(0, min(limits))


LANES16_LIMIT = 32767             # largest |sum| a 16-bit lane holds (kept symmetric: -32768 would fit too)


def subset_sum_bound(weights: np.ndarray) -> int:
    """Largest |sum| of any subset of one output's weights (weights: [in, out], as QuantSynapses):
    max over outputs i of max(sum_j max(q_ij, 0), sum_j max(-q_ij, 0)); 0 for no weights.

    With 0/1 inputs and no delays an output's accumulator for one step is such a subset sum,
    whatever spikes arrive. slf_accumulate_spikes_s8_lanes16 sums modulo 2^16, so it is exact
    when this is <= LANES16_LIMIT (intermediate wraps cancel; only the final sum must fit)."""
    q = np.asarray(weights, dtype=np.int64)
    if not q.size:
        return 0
    positive = np.where(q > 0, q, 0).sum(axis=0)
    negative = np.where(q < 0, -q, 0).sum(axis=0)
    return int(max(positive.max(), negative.max()))


def lanes16_exact(synapses: "QuantSynapses") -> bool:
    """True when the 16-bit lane kernel computes this layer's sums exactly: int8 weights fed by
    0/1 spikes (max_input_count == 1: a hidden layer's input) without delays, and the
    subset-sum bound within int16. Otherwise the int32 kernels stay."""
    return (synapses.weight_bits == 8 and synapses.max_input_count == 1 and synapses.max_delay == 0
            and subset_sum_bound(synapses.weights) <= LANES16_LIMIT)


def quantize_synapses(weight: np.ndarray, bias: np.ndarray, delays, frac_bits: int, weight_bits: int,
                      layer_name: str) -> QuantSynapses:
    """Per-neuron symmetric weights whose scale is mult_i state LSBs, mult_i = ceil(max|W_i| / qmax * 2^F)
    (rounding the scale up keeps |q| <= qmax; the scale error is below one part in mult_i)."""
    if weight_bits not in WEIGHT_QMAX:
        raise QuantizationError(f"weight bits must be 8 or 16, got {weight_bits}")
    qmax = WEIGHT_QMAX[weight_bits]
    row_max = np.abs(weight).max(axis=1)
    mult = np.ceil(row_max / qmax * 2.0 ** frac_bits)                # 0 for an all-zero row
    if mult.max(initial=0) > fx.INT32_MAX:
        raise QuantizationError(f"{layer_name}: one weight step is {mult.max():.3g} state LSBs, beyond int32")
    safe = np.where(mult > 0, mult, 1.0) / 2.0 ** frac_bits
    q = np.clip(np.round(weight / safe[:, None]), -qmax, qmax).astype(np.int64)
    mult = mult.astype(np.int64)
    bias_q = fx.sat32(np.round(bias * 2.0 ** frac_bits))
    return QuantSynapses(weight_bits=weight_bits, weights=q.T, mult=mult, bias=bias_q,
                         delays=None if delays is None else np.asarray(delays).T,
                         max_input_count=current_count_limit(q, mult, bias_q))


def fit_synapses(weight, bias, delays, frac_bits: int, weight_bits: int, min_count: int, layer_name: str):
    """(F, synapses) with the largest F <= frac_bits whose input currents provably fit int32
    for min_count events per input and step."""
    for bits in range(frac_bits, MIN_FRAC_BITS - 1, -1):
        synapses = quantize_synapses(weight, bias, delays, bits, weight_bits, layer_name)
        if synapses.max_input_count >= min_count:
            return bits, synapses
    raise QuantizationError(
        f"{layer_name}: input currents can leave int32 even with {MIN_FRAC_BITS} fractional bits "
        f"({min_count} event(s) per input per step); the weights are too large for the state range")


def _quantize_silif(layer: FoldedSiLIF, frac_bits, synapses) -> QuantSiLIF:
    return QuantSiLIF(synapses=synapses, frac_bits=frac_bits, k_alpha=fx.to_q31(layer.alpha),
                      k_beta=fx.to_q31(layer.beta), k_a=fx.to_q31(layer.a_hat),
                      jump=fx.sat32(np.round(layer.b_hat * 2.0 ** frac_bits)),
                      threshold=int(round(layer.threshold * 2 ** frac_bits)))


def _quantize_csilif(layer: FoldedCSiLIF, frac_bits, synapses) -> QuantCSiLIF:
    k_im = fx.to_q31(layer.decay_im)
    return QuantCSiLIF(synapses=synapses, frac_bits=frac_bits, k_re=fx.to_q31(layer.decay_re), k_im=k_im,
                       threshold=int(round(layer.threshold * 2 ** frac_bits)))


def _quantize_readout(layer: FoldedReadout, frac_bits, synapses) -> QuantReadout:
    if synapses.n_out > fx.MAX_CLASSES:
        raise QuantizationError(f"readout has {synapses.n_out} classes; the integer softmax supports at most "
                                f"{fx.MAX_CLASSES}")
    exp_mult, exp_shift = fx.to_mult_shift(math.log2(math.e) * 2.0 ** (fx.EXP_FRAC_BITS - frac_bits))
    return QuantReadout(synapses=synapses, frac_bits=frac_bits, k_alpha=fx.to_q31(layer.alpha),
                        exp_mult=exp_mult, exp_shift=exp_shift)


_QUANTIZERS = {"silif": _quantize_silif, "csilif": _quantize_csilif}


def default_calibration_input(network: FoldedNetwork) -> np.ndarray:
    """Seeded Bernoulli events at two densities: sparse (2 %) and busy (5 %) cochlea activity."""
    bin_ = network.config.spatial_bin
    steps = network.config.nb_steps
    return np.concatenate([random_input(network.n_inputs, 4, steps, rate, bin_, seed=index)
                           for index, rate in enumerate((0.02, 0.05))])


def quantize_network(network: FoldedNetwork, calibration: np.ndarray | None = None, weight_bits: int = 8,
                     headroom: float = DEFAULT_HEADROOM) -> QuantNetwork:
    if calibration is None:
        calibration = default_calibration_input(network)
    ranges = run_float(network, calibration).state_ranges
    hidden = []
    min_count = MIN_INPUT_COUNT_LIMIT                 # the network input: event counts
    for index, layer in enumerate(network.hidden):
        name = f"layer{index}"
        frac_bits = choose_frac_bits(max(ranges[name].values()), headroom, name)
        frac_bits, synapses = fit_synapses(layer.weight, layer.bias, layer.delays, frac_bits, weight_bits,
                                           min_count, name)
        if index:
            synapses = replace(synapses, max_input_count=1)   # hidden layers emit 0/1 spikes
        hidden.append(_QUANTIZERS[layer.kind](layer, frac_bits, synapses))
        min_count = 1
    readout = network.readout
    frac_bits = choose_frac_bits(max(ranges["readout"].values()), headroom, "readout")
    frac_bits, synapses = fit_synapses(readout.weight, readout.bias, readout.delays, frac_bits, weight_bits,
                                       min_count, "readout")
    if network.hidden:
        synapses = replace(synapses, max_input_count=1)
    return QuantNetwork(config=network.config, hidden=tuple(hidden),
                        readout=_quantize_readout(readout, frac_bits, synapses), weight_bits=weight_bits,
                        headroom=headroom, source=network.source, sha256=network.sha256, calibration=ranges)

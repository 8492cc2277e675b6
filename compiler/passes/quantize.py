"""Calibrated fixed-point quantization of a folded network (docs/fixed-point.md).

Algorithm:
 1. Run the float64 reference on calibration input and record, per layer, the largest
    |state| and |input current| (float units).
 2. Choose the layer's state format Q(31-F).F: the largest F with
    headroom * max|value| < 2^(31-F), capped at MAX_FRAC_BITS.
 3. Quantize weights per postsynaptic neuron (symmetric, int8 or int16) with a scale
    that is an integer number of state LSBs (mult), so that the input current is the exact
    integer acc * mult + bias (one MLA in the runtime).
 4. Decays and couplings become Q31 constants (SiLIF: beta in Q31, a_hat and -(1 - alpha) in
    Q15, the jump b_hat in units of threshold/2^14, mult at most 16 bits: the 16-byte record);
    thresholds and biases become state-format integers.
 5. Prove that no input current can leave int32 for any input (every accumulator is a
    sum of a subset of the weights, each times at most max_input_count); if it could,
    lower F one bit at a time (the first layer accepts a count limit down to 15 first).
The LIF family (NIR graphs) goes through the same steps; its differences: the format also
holds its constants (leak, threshold, v_reset), and a recurrent layer's own-spike weights
are quantized with its input weights on one scale, so both sum into one accumulator.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np

from ..reference import fixedpoint as fx
from ..errors import QuantizationError, QuantizationWarning
from ..reference.float_ref import run_float
from ..io.inputs import check_counts, check_host_memory, random_input
from ..ir import (LIF_KINDS, WEIGHT_QMAX, FoldedCSiLIF, FoldedLIF, FoldedNetwork, FoldedReadout, FoldedSiLIF,
                  QuantCSiLIF, QuantLIF, QuantNetwork, QuantReadout, QuantSiLIF, QuantSynapses, layer_names)

MAX_FRAC_BITS = 28                # keeps >= 3 integer bits even for tiny states
MIN_FRAC_BITS = 8                 # below this the threshold itself is coarse: refuse
MAX_INPUT_COUNT = 255             # events per input per step arrive as uint8 counts
MIN_INPUT_COUNT_LIMIT = 15        # the first layer must accept at least this many events per input per step
DEFAULT_HEADROOM = 8.0            # 3 bits above the calibration maximum


def choose_frac_bits(max_abs: float, headroom: float, layer_name: str) -> int:
    if not math.isfinite(max_abs):
        raise QuantizationError(
            f"{layer_name}: on the calibration input its states overflow to {max_abs} in the float reference "
            "(weights or biases far too large): the model cannot be represented in int32; check the checkpoint")
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


LANES16_EVENTS_MIN_OUTPUTS = 64   # narrower input layers: the lanes' per-call cost outweighs their gain


def lanes16_events(synapses: "QuantSynapses") -> bool:
    """True when the network input's events go through slf_accumulate_events_s8_lanes16: int8
    weights without delays, at least LANES16_EVENTS_MIN_OUTPUTS outputs. Exact for any weights and
    event counts (the kernel widens its lanes after at most 240 column additions: 240 x 128 <=
    LANES16_LIMIT), so no bound is checked. On a 16-wide input layer (the NIR test networks) the
    widening pass and the batching cost more per step than the lanes save; at 128 (the keyword
    model) and 512 (the paper models) the lanes are faster (bench/results.md, bench/kws.md)."""
    return synapses.weight_bits == 8 and synapses.max_delay == 0 and synapses.n_out >= LANES16_EVENTS_MIN_OUTPUTS


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


def fit_synapses(weight, bias, delays, frac_bits: int, weight_bits: int, min_count: int, layer_name: str,
                 max_mult: int = fx.INT32_MAX):
    """(F, synapses) with the largest F <= frac_bits whose input currents provably fit int32
    for min_count events per input and step and whose weight scales fit max_mult (a SiLIF
    record holds mult in 16 bits: SILIF_MULT_MAX). Lowering F for max_mult warns, naming the
    neuron and its scale; refuses when even MIN_FRAC_BITS does not fit."""
    too_large = None                                  # (bits, neuron, mult) of the first scale over max_mult
    for bits in range(frac_bits, MIN_FRAC_BITS - 1, -1):
        synapses = quantize_synapses(weight, bias, delays, bits, weight_bits, layer_name)
        if synapses.max_input_count < min_count:
            continue
        if synapses.mult.max(initial=0) > max_mult:
            if too_large is None:
                neuron = int(np.argmax(synapses.mult))
                too_large = (bits, neuron, int(synapses.mult[neuron]))
            continue
        if too_large is not None:
            first, neuron, mult = too_large
            warnings.warn(f"{layer_name}: neuron {neuron}'s weight scale is {mult:,} state LSBs per weight LSB at "
                          f"{first} fractional bits, above the SiLIF record's {max_mult:,} (16 bits); the layer "
                          f"uses {bits} fractional bits instead", QuantizationWarning, stacklevel=3)
        return bits, synapses
    if too_large is not None:
        _, neuron, mult = too_large
        raise QuantizationError(
            f"{layer_name}: neuron {neuron}'s weight scale is {mult:,} state LSBs per weight LSB and stays above "
            f"the SiLIF record's {max_mult:,} (16 bits) down to {MIN_FRAC_BITS} fractional bits: its weights are "
            f"too large for the state range; check the checkpoint or use --weight-bits 16")
    raise QuantizationError(
        f"{layer_name}: input currents can leave int32 even with {MIN_FRAC_BITS} fractional bits "
        f"({min_count} event(s) per input per step); the weights are too large for the state range")


SILIF_MULT_MAX = 65535            # slf_silif_neuron.mult is a uint16
SILIF_MAX_FRAC_BITS = 28          # the jump product needs threshold * 4 = 2^(F+2) < 2^31
SILIF_THRESHOLD_MAX = (1 << 29) - 1


def _q15_field(values, low: int, high: int, layer_name: str, what: str, slack: int = 0) -> np.ndarray:
    """round(values * 2^15) clamped to [low, high]; a value more than `slack` outside is refused
    (only folded values outside their documented range get there: passes.check refuses those first)."""
    q = fx.to_q15(values)
    bad = np.flatnonzero((q < low - slack) | (q > high + slack))
    if bad.size:
        neuron = int(bad[0])
        raise QuantizationError(f"{layer_name}: neuron {neuron}'s {what} is {float(np.asarray(values)[neuron])!r}, "
                                f"{int(q[neuron])} in Q15: outside the SiLIF record's [{low}, {high}]")
    return np.clip(q, low, high)


def _quantize_silif(layer: FoldedSiLIF, frac_bits, synapses, layer_name: str = "SiLIF layer") -> QuantSiLIF:
    """Constants of the 16-byte record (docs/fixed-point.md, "Formats per quantity"): a_hat = 1 and b_hat = 2
    are one LSB above their int16 fields and stored as 32767 (documented there)."""
    if frac_bits > SILIF_MAX_FRAC_BITS:
        raise QuantizationError(f"{layer_name}: state format with {frac_bits} fractional bits; SiLIF allows at most "
                                f"{SILIF_MAX_FRAC_BITS} (the adaptation jump multiplies 4 x threshold = 2^(F+2))")
    if synapses.mult.max(initial=0) > SILIF_MULT_MAX:
        neuron = int(np.argmax(synapses.mult))
        raise QuantizationError(f"{layer_name}: neuron {neuron}'s weight scale {int(synapses.mult[neuron]):,} is "
                                f"above the SiLIF record's {SILIF_MULT_MAX:,} (16 bits)")
    k_a = _q15_field(layer.a_hat, 0, fx.INT16_MAX, layer_name, "coupling a_hat", slack=1)
    k_leak = _q15_field(-(1.0 - np.asarray(layer.alpha, dtype=np.float64)), fx.INT16_MIN, 0, layer_name,
                        "leak -(1 - alpha)")
    threshold = int(round(layer.threshold * 2 ** frac_bits))
    if not 1 <= threshold <= SILIF_THRESHOLD_MAX:
        raise QuantizationError(f"{layer_name}: threshold {layer.threshold!r} is {threshold} in the state format; "
                                f"SiLIF needs 1..{SILIF_THRESHOLD_MAX} (4 x threshold must fit int32)")
    jump = _q15_field(np.asarray(layer.b_hat, dtype=np.float64) / (2.0 * layer.threshold), 0, fx.INT16_MAX,
                      layer_name, "adaptation jump b_hat / (2 threshold)", slack=1)
    return QuantSiLIF(synapses=synapses, frac_bits=frac_bits, k_beta=fx.to_q31(layer.beta), k_a=k_a,
                      k_leak=k_leak, jump=jump, threshold=threshold)


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


def _quantize_lif(layer: FoldedLIF, frac_bits, synapses) -> QuantLIF:
    """synapses: the input weights and then the recurrent ones ([in + out, out]), one mult."""
    n_in = layer.weight.shape[1]
    feed, recurrent = synapses, None
    if layer.recurrent is not None:
        feed = replace(synapses, weights=synapses.weights[:n_in],
                       delays=None if synapses.delays is None else synapses.delays[:n_in])
        recurrent = replace(synapses, weights=synapses.weights[n_in:], bias=np.zeros(synapses.n_out), delays=None,
                            max_input_count=1)
    state = lambda values: fx.sat32(np.round(np.asarray(values) * 2.0 ** frac_bits))  # noqa: E731
    zeros = np.zeros(synapses.n_out)
    threshold = state(layer.threshold) if layer.threshold is not None else zeros
    leak = state(layer.leak)
    if (np.abs(leak) + np.abs(threshold) > fx.INT32_MAX).any():
        raise QuantizationError(f"{layer.name}: leak and threshold together leave int32 at {frac_bits} fractional bits")
    return QuantLIF(kind=layer.kind, synapses=feed, recurrent=recurrent, frac_bits=frac_bits,
                    k_beta=fx.to_q31(layer.beta), k_alpha=zeros if layer.alpha is None else fx.to_q31(layer.alpha),
                    leak=leak, threshold=threshold, reset=layer.reset,
                    reset_to=state(layer.v_reset) if layer.reset == "value" else zeros,
                    reset_sub=threshold if layer.reset == "subtract" else zeros, name=layer.name)


_QUANTIZERS = {"silif": _quantize_silif, "csilif": _quantize_csilif, "readout": _quantize_readout,
               **{kind: _quantize_lif for kind in LIF_KINDS}}


def _synapse_matrix(layer):
    """(weight, delays) to quantize: a recurrent LIF-family layer's input and own-spike weights side
    by side ([out, in + out]; the recurrent synapses have no delay)."""
    recurrent = getattr(layer, "recurrent", None)
    if recurrent is None:
        return layer.weight, layer.delays
    delays = layer.delays
    if delays is not None:
        delays = np.concatenate([delays, np.zeros(recurrent.shape, np.int64)], axis=1)
    return np.concatenate([layer.weight, recurrent], axis=1), delays


def _constant_peak(layer) -> float:
    """The largest constant the state format must hold besides the calibrated states (LIF family:
    leak, threshold, v_reset; SiLIF's thresholds are below their reached states)."""
    if layer.kind not in LIF_KINDS:
        return 0.0
    return max(float(np.abs(values).max()) for values in (layer.leak, layer.threshold, layer.v_reset)
               if values is not None and values.size)


def default_calibration_input(network: FoldedNetwork) -> np.ndarray:
    """Seeded Bernoulli events at two densities: sparse (2 %) and busy (5 %) cochlea activity."""
    bin_ = network.config.spatial_bin
    steps = network.config.nb_steps
    return np.concatenate([random_input(network.n_inputs, 4, steps, rate, bin_, seed=index)
                           for index, rate in enumerate((0.02, 0.05))])


def check_headroom(headroom) -> float:
    if isinstance(headroom, bool) or not isinstance(headroom, (int, float)) or not math.isfinite(headroom) \
            or headroom < 1:
        raise QuantizationError(f"--headroom {headroom!r}: must be a finite number >= 1 (the state range as a "
                                f"multiple of the calibration maximum; default {DEFAULT_HEADROOM:g})")
    return float(headroom)


def quantize_network(network: FoldedNetwork, calibration: np.ndarray | None = None, weight_bits: int = 8,
                     headroom: float = DEFAULT_HEADROOM) -> QuantNetwork:
    check_headroom(headroom)
    if calibration is None:
        check_host_memory(8, network.config.nb_steps, (network.n_inputs * network.config.spatial_bin,
                                                       *network.widths[1:]), "default calibration input")
        calibration = default_calibration_input(network)
    calibration = check_counts(calibration, "calibration input", single_sample_ok=False)
    if calibration.shape[2] != network.n_inputs:
        raise QuantizationError(f"calibration input has {calibration.shape[2]} inputs per step; the model takes "
                                f"{network.n_inputs}")
    check_host_memory(calibration.shape[0], calibration.shape[1], network.widths, "calibration")
    ranges = run_float(network, calibration).state_ranges
    layers = []
    min_count = MIN_INPUT_COUNT_LIMIT                 # the network input: event counts
    for index, (name, layer) in enumerate(zip(layer_names(network), network.layers)):
        frac_bits = choose_frac_bits(max(*ranges[name].values(), _constant_peak(layer)), headroom, name)
        weight, delays = _synapse_matrix(layer)
        silif = layer.kind == "silif"
        if silif:
            frac_bits = min(frac_bits, SILIF_MAX_FRAC_BITS)
        frac_bits, synapses = fit_synapses(weight, layer.bias, delays, frac_bits, weight_bits, min_count, name,
                                           max_mult=SILIF_MULT_MAX if silif else fx.INT32_MAX)
        if index:
            synapses = replace(synapses, max_input_count=1)   # later layers take 0/1 spikes
        if silif:
            layers.append(_quantize_silif(layer, frac_bits, synapses, name))
        else:
            layers.append(_QUANTIZERS[layer.kind](layer, frac_bits, synapses))
        min_count = 1
    return QuantNetwork(config=network.config, hidden=tuple(layers[:-1]), readout=layers[-1],
                        weight_bits=weight_bits, headroom=headroom, source=network.source, sha256=network.sha256,
                        calibration=ranges)

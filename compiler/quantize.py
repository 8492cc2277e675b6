"""Calibrated fixed-point quantization of a folded network (docs/fixed-point.md).

Algorithm:
 1. Run the float64 reference on calibration input and record, per layer, the largest
    |state| and |input current| (float units).
 2. Choose the layer's state format Q(31-F).F: the largest F with
    headroom * max|value| < 2^(31-F), capped at MAX_FRAC_BITS.
 3. Quantize weights per postsynaptic neuron (symmetric, int8 or int16) and express
    each neuron's weight scale in state units as a 31-bit multiplier and a shift.
 4. Decays and couplings become Q31 constants; thresholds, biases and the adaptation
    jump become state-format integers.
 5. Prove that no synaptic accumulator can overflow int32 for any input.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import fixedpoint as fx
from .errors import QuantizationError
from .float_ref import run_float
from .inputs import random_input
from .ir import FoldedCSiLIF, FoldedNetwork, FoldedReadout, FoldedSiLIF, ModelConfig, frozen_array

MAX_FRAC_BITS = 28                # keeps >= 3 integer bits even for tiny states
MIN_FRAC_BITS = 8                 # below this the threshold itself is coarse: refuse
MAX_INPUT_COUNT = 255             # events per input per step arrive as uint8 counts
DEFAULT_HEADROOM = 8.0            # 3 bits above the calibration maximum
WEIGHT_QMAX = {8: 127, 16: 32767}


def _ints(values):
    return frozen_array(values, np.int64)


@dataclass(frozen=True, eq=False)
class QuantSynapses:
    """Weights stored per presynaptic neuron (column), as the event-driven kernel reads them."""

    weight_bits: int
    weights: np.ndarray           # [in, out] int8/int16 values (held as int64)
    mult: np.ndarray              # [out] weight scale in state units = mult * 2^-shift
    shift: np.ndarray             # [out]
    bias: np.ndarray              # [out] constant current, state format
    delays: np.ndarray | None     # [in, out] steps, or None
    max_input_count: int          # largest event count one input can deliver per step

    def __post_init__(self):
        for name in ("weights", "mult", "shift", "bias", "delays"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _ints(value))

    @property
    def n_in(self) -> int:
        return self.weights.shape[0]

    @property
    def n_out(self) -> int:
        return self.weights.shape[1]

    @property
    def max_delay(self) -> int:
        return 0 if self.delays is None or not self.delays.size else int(self.delays.max())


@dataclass(frozen=True, eq=False)
class QuantSiLIF:
    synapses: QuantSynapses
    frac_bits: int
    k_alpha: np.ndarray           # Q31 membrane decay
    k_beta: np.ndarray            # Q31 adaptation decay
    k_a: np.ndarray               # Q31 coupling u -> w
    neg_k_gain: np.ndarray        # Q31 -(1 - alpha): the w term of the u update
    jump: np.ndarray              # b_hat in state format: added to w after a spike
    threshold: int                # 1.0 in state format; also the soft-reset amount
    kind: str = field(default="silif", init=False)

    def __post_init__(self):
        for name in ("k_alpha", "k_beta", "k_a", "neg_k_gain", "jump"):
            object.__setattr__(self, name, _ints(getattr(self, name)))


@dataclass(frozen=True, eq=False)
class QuantCSiLIF:
    synapses: QuantSynapses
    frac_bits: int
    k_re: np.ndarray              # Q31 real part of the complex decay
    k_im: np.ndarray              # Q31 imaginary part
    neg_k_im: np.ndarray          # -k_im, so both rotations are multiply-accumulates
    threshold: int                # 0.5 in state format; also the soft-reset amount
    kind: str = field(default="csilif", init=False)

    def __post_init__(self):
        for name in ("k_re", "k_im", "neg_k_im"):
            object.__setattr__(self, name, _ints(getattr(self, name)))


@dataclass(frozen=True, eq=False)
class QuantReadout:
    synapses: QuantSynapses
    frac_bits: int
    k_alpha: np.ndarray           # Q31 decay
    exp_mult: int                 # log2(e) / 2^frac_bits in Q16 = exp_mult * 2^-exp_shift
    exp_shift: int
    kind: str = field(default="readout", init=False)

    def __post_init__(self):
        object.__setattr__(self, "k_alpha", _ints(self.k_alpha))


@dataclass(frozen=True, eq=False)
class QuantNetwork:
    config: ModelConfig
    hidden: tuple
    readout: QuantReadout
    weight_bits: int
    headroom: float
    source: str = ""
    sha256: str = ""
    # Calibration maxima per layer and state variable (float units), for reports.
    calibration: dict = field(default_factory=dict)

    @property
    def layers(self):
        return (*self.hidden, self.readout)

    @property
    def n_inputs(self) -> int:
        return self.layers[0].synapses.n_in

    @property
    def n_classes(self) -> int:
        return self.readout.synapses.n_out

    @property
    def output_scale(self) -> int:
        return 1 << fx.OUTPUT_FRAC_BITS


def choose_frac_bits(max_abs: float, headroom: float, layer_name: str) -> int:
    limit = fx.INT32_MAX / max(headroom * max_abs, 1e-30)
    frac_bits = min(MAX_FRAC_BITS, int(math.floor(math.log2(limit))))
    if frac_bits < MIN_FRAC_BITS:
        raise QuantizationError(
            f"{layer_name}: states reach {max_abs:.3g} (x{headroom} headroom) and leave only {frac_bits} "
            f"fractional bits in int32 (need >= {MIN_FRAC_BITS}); lower --headroom or check the model")
    return frac_bits


def quantize_synapses(weight: np.ndarray, bias: np.ndarray, delays, frac_bits: int, weight_bits: int,
                      max_input_count: int, layer_name: str) -> QuantSynapses:
    if weight_bits not in WEIGHT_QMAX:
        raise QuantizationError(f"weight bits must be 8 or 16, got {weight_bits}")
    qmax = WEIGHT_QMAX[weight_bits]
    row_max = np.abs(weight).max(axis=1)
    scale = np.where(row_max > 0, row_max / qmax, 0.0)           # per postsynaptic neuron
    safe = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.round(weight / safe[:, None]), -qmax, qmax).astype(np.int64)
    mult, shift = zip(*(fx.to_mult_shift(float(s) * 2.0 ** frac_bits) for s in scale))
    worst = (np.abs(q).sum(axis=1) * max_input_count).max(initial=0)
    if worst > fx.INT32_MAX:
        raise QuantizationError(
            f"{layer_name}: a synaptic accumulator could reach {worst} > 2^31-1 with {max_input_count} "
            f"events per input; use --weights int8 or fewer inputs per neuron")
    bias_q = fx.sat32(np.round(bias * 2.0 ** frac_bits))
    return QuantSynapses(weight_bits=weight_bits, weights=q.T, mult=np.array(mult), shift=np.array(shift),
                         bias=bias_q, delays=None if delays is None else np.asarray(delays).T,
                         max_input_count=max_input_count)


def _quantize_silif(layer: FoldedSiLIF, frac_bits, synapses) -> QuantSiLIF:
    return QuantSiLIF(synapses=synapses, frac_bits=frac_bits, k_alpha=fx.to_q31(layer.alpha),
                      k_beta=fx.to_q31(layer.beta), k_a=fx.to_q31(layer.a_hat),
                      neg_k_gain=-fx.to_q31(1.0 - layer.alpha),
                      jump=fx.sat32(np.round(layer.b_hat * 2.0 ** frac_bits)),
                      threshold=int(round(layer.threshold * 2 ** frac_bits)))


def _quantize_csilif(layer: FoldedCSiLIF, frac_bits, synapses) -> QuantCSiLIF:
    k_im = fx.to_q31(layer.decay_im)
    return QuantCSiLIF(synapses=synapses, frac_bits=frac_bits, k_re=fx.to_q31(layer.decay_re), k_im=k_im,
                       neg_k_im=-k_im, threshold=int(round(layer.threshold * 2 ** frac_bits)))


def _quantize_readout(layer: FoldedReadout, frac_bits, synapses) -> QuantReadout:
    if synapses.n_out > fx.MAX_CLASSES:
        raise QuantizationError(f"readout has {synapses.n_out} classes; the integer softmax supports at most "
                                f"{fx.MAX_CLASSES}")
    exp_mult, exp_shift = fx.to_mult_shift(math.log2(math.e) * 2.0 ** (fx.EXP_FRAC_BITS - frac_bits))
    return QuantReadout(synapses=synapses, frac_bits=frac_bits, k_alpha=fx.to_q31(layer.alpha),
                        exp_mult=exp_mult, exp_shift=exp_shift)


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
    max_count = MAX_INPUT_COUNT
    for index, layer in enumerate(network.hidden):
        name = f"layer{index}"
        frac_bits = choose_frac_bits(max(ranges[name].values()), headroom, name)
        synapses = quantize_synapses(layer.weight, layer.bias, layer.delays, frac_bits, weight_bits,
                                     max_count, name)
        quantizer = _quantize_silif if layer.kind == "silif" else _quantize_csilif
        hidden.append(quantizer(layer, frac_bits, synapses))
        max_count = 1                                 # hidden layers emit 0/1 spikes
    readout = network.readout
    frac_bits = choose_frac_bits(max(ranges["readout"].values()), headroom, "readout")
    synapses = quantize_synapses(readout.weight, readout.bias, readout.delays, frac_bits, weight_bits,
                                 max_count, "readout")
    return QuantNetwork(config=network.config, hidden=tuple(hidden),
                        readout=_quantize_readout(readout, frac_bits, synapses), weight_bits=weight_bits,
                        headroom=headroom, source=network.source, sha256=network.sha256, calibration=ranges)

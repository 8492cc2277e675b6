"""Graph IR: the network as loaded (raw parameters) and after batch-norm folding.

Every stage of the compiler takes and returns these frozen dataclasses. Arrays are
float64 (or small ints for delays) and are made read-only on construction, so a
stage cannot change what an earlier stage produced.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


def frozen_array(values, dtype=np.float64) -> np.ndarray:
    """A read-only copy of `values` as `dtype`."""
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


def _freeze_fields(obj, int_fields=()) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            dtype = np.int64 if f.name in int_fields else np.float64
            object.__setattr__(obj, f.name, frozen_array(value, dtype))


# ---------------------------------------------------------------- layer kinds and weight formats

@dataclass(frozen=True)
class LayerKind:
    """What every stage needs to know of a neuron kind, in one table (LAYER_KINDS). Behaviour
    (folding, the references, kernels) is looked up by `name` in each stage's own table."""

    name: str                               # as in IR objects' `kind`
    title: str                              # as printed
    params: tuple[tuple[str, str], ...]     # (state-dict key, raw-IR field) besides W.weight and norm.*
    state: str                              # the integer state of one neuron, as reports describe it
    spiking: bool = True                    # emits 0/1 spikes (else its state is its output)
    output: str = ""                        # as the last layer: what the network outputs (OUTPUT_RULES)
    source: str = "checkpoint"              # where layers of this kind come from: "checkpoint" or "nir"


# The network's output is formed from its last layer, by that layer's kind: "softmax" sums the
# readout's per-step softmax (Q16), "spikes" counts its spikes, "state" sums its membrane (Q16).
OUTPUT_RULES = ("softmax", "spikes", "state")

_LIF_STATE = "int32 state pairs (v, j)"
LAYER_KINDS = {kind.name: kind for kind in (
    LayerKind("silif", "SiLIF", (("dt", "log_dt"), ("alpha", "log_alpha_rate"), ("beta", "log_beta_rate"),
                                 ("a", "a"), ("b", "b")), "int32 state pairs (u, w)"),
    LayerKind("csilif", "C-SiLIF", (("log_dt", "log_dt"), ("log_log_alpha", "log_log_alpha"),
                                    ("alpha_img", "alpha_img"), ("b", "b")), "int32 state pairs (Re z, Im z)"),
    LayerKind("readout", "readout", (("alpha", "alpha"),), "int32 membrane u", spiking=False, output="softmax"),
    # The LIF family of NIR graphs (docs/nir.md): one kernel, the differences are flags.
    LayerKind("lif", "LIF", (), _LIF_STATE, output="spikes", source="nir"),
    LayerKind("cubalif", "CubaLIF", (), _LIF_STATE, output="spikes", source="nir"),
    LayerKind("if", "IF", (), _LIF_STATE, output="spikes", source="nir"),
    LayerKind("li", "LI", (), _LIF_STATE, spiking=False, output="state", source="nir"),
    LayerKind("cubali", "CubaLI", (), _LIF_STATE, spiking=False, output="state", source="nir"),
    LayerKind("i", "I", (), _LIF_STATE, spiking=False, output="state", source="nir"),
)}
# Hidden-layer kinds a checkpoint (and silifc's own training) holds.
HIDDEN_KINDS = tuple(name for name, kind in LAYER_KINDS.items() if kind.spiking and kind.source == "checkpoint")
LIF_KINDS = tuple(name for name, kind in LAYER_KINDS.items() if kind.source == "nir")
CURRENT_KINDS = ("cubalif", "cubali")           # a synaptic current j besides the membrane v
INTEGRATOR_KINDS = ("if", "i")                  # no membrane decay: v integrates exactly
RESETS = ("subtract", "value", "none")          # a spike subtracts the threshold / sets v_reset / non-spiking


def layer_names(network) -> list[str]:
    """The names state ranges and reports give the layers: layer0, layer1, ..., then readout (the last)."""
    return [f"layer{index}" for index in range(len(network.hidden))] + ["readout"]


def spiking_layers(network) -> tuple:
    """The layers that emit spikes, in order (the hidden layers, and the last one if it spikes):
    what a RunResult's `spikes` holds, one array per such layer."""
    return tuple(layer for layer in network.layers if LAYER_KINDS[layer.kind].spiking)


MAX_LAYER_WIDTH = 0xFFFF          # neurons or inputs of one layer: the runtime counts and indexes them in uint16
WEIGHT_FORMATS = {"int8": 8, "int16": 16}           # --weights choice -> bits
WEIGHT_QMAX = {8: 127, 16: 32767}                   # symmetric range of each weight width


@dataclass(frozen=True)
class ModelConfig:
    """Settings a state dict does not carry. Defaults are the paper's SSC 4 ms setup."""

    spatial_bin: int = 5          # raw channels summed per network input (700 -> 140)
    time_step_ms: float = 4.0     # duration of one step on the device (real-time budget)
    nb_steps: int = 300           # time bins when events are given as (time, unit) lists
    max_time_s: float = 1.2       # last bin edge for (time, unit) lists, as the authors bin
    # NIR graphs (docs/nir.md): the producer whose discretization the LIF-family layers follow, and
    # the step dt (seconds) their time constants are read with. Empty / 0 for checkpoints.
    nir_dialect: str = ""
    nir_dt: float = 0.0


NIR_CONFIG_FIELDS = ("nir_dialect", "nir_dt")     # the ModelConfig fields only NIR graphs use


# ---------------------------------------------------------------- raw (as stored)

@dataclass(frozen=True, eq=False)
class BatchNorm:
    gamma: np.ndarray
    beta: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray
    eps: float = 1e-5

    def __post_init__(self):
        _freeze_fields(self)


@dataclass(frozen=True, eq=False)
class SiLIFLayer:
    """Adaptive LIF with learned log time step and log decay rates (spec section 3)."""

    weight: np.ndarray            # [out, in]
    norm: BatchNorm
    log_dt: np.ndarray            # log of the learned step, seconds
    log_alpha_rate: np.ndarray    # log of the membrane decay rate, 1/s
    log_beta_rate: np.ndarray     # log of the adaptation decay rate, 1/s
    a: np.ndarray                 # sub-threshold coupling (clamped to [0, 1] when used)
    b: np.ndarray                 # spike-triggered adaptation (clamped to [0, 2] when used)
    delays: np.ndarray | None = None   # [out, in] integer steps, or None for no delays
    kind: str = field(default="silif", init=False)

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))


@dataclass(frozen=True, eq=False)
class CSiLIFLayer:
    """Complex (oscillatory) SiLIF, S4D-like (spec section 4)."""

    weight: np.ndarray
    norm: BatchNorm
    log_dt: np.ndarray
    log_log_alpha: np.ndarray     # log(-Re lambda)
    alpha_img: np.ndarray         # Im lambda
    b: np.ndarray                 # input gain, not clamped
    delays: np.ndarray | None = None
    kind: str = field(default="csilif", init=False)

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))


@dataclass(frozen=True, eq=False)
class ReadoutLayer:
    """Leaky integrator; `alpha` is the discrete decay, clamped to [e^-1/5, e^-1/25]."""

    weight: np.ndarray
    norm: BatchNorm
    alpha: np.ndarray
    delays: np.ndarray | None = None
    kind: str = field(default="readout", init=False)

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))



@dataclass(frozen=True, eq=False)
class LIFLayer:
    """A LIF-family population as a NIR graph stores it (docs/nir.md): the linear nodes before
    it composed into `weight`, `bias` and per-synapse `delays`, the map of its own previous
    spikes (`recurrent`), and its neuron node's continuous-time parameters as written, under
    NIR's names (tau or tau_mem/tau_syn in seconds, r, v_leak, v_threshold, v_reset, w_in),
    one value per neuron. What they mean per step is the dialect's (ModelConfig.nir_dialect,
    passes/fold.fold_lif)."""

    kind: str                          # one of LIF_KINDS
    weight: np.ndarray                 # [out, in]
    bias: np.ndarray                   # [out]
    params: Mapping[str, np.ndarray]   # NIR parameter name -> [out]
    delays: np.ndarray | None = None   # [out, in] whole steps, or None
    recurrent: np.ndarray | None = None  # [out, out] weights of the previous step's own spikes
    name: str = ""                     # the NIR node

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))
        object.__setattr__(self, "params", MappingProxyType({key: frozen_array(value)
                                                             for key, value in self.params.items()}))


HiddenLayer = SiLIFLayer | CSiLIFLayer | LIFLayer


class _LayerShapes:
    """Shape queries shared by the raw and the folded network."""

    @property
    def layers(self):
        return (*self.hidden, self.readout)

    @property
    def n_inputs(self) -> int:
        return self.layers[0].weight.shape[1]

    @property
    def n_classes(self) -> int:
        return self.readout.weight.shape[0]

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.n_inputs, *(layer.weight.shape[0] for layer in self.layers))


@dataclass(frozen=True, eq=False)
class Network(_LayerShapes):
    config: ModelConfig
    hidden: tuple[HiddenLayer, ...]
    readout: ReadoutLayer | LIFLayer     # the last layer (NIR graphs: their last population)
    source: str = ""              # file name the network came from
    sha256: str = ""              # of that file


# ---------------------------------------------------------------- folded

READOUT_ALPHA_MIN = float(np.exp(-1 / 5))
READOUT_ALPHA_MAX = float(np.exp(-1 / 25))


@dataclass(frozen=True, eq=False)
class FoldedSiLIF:
    """Spec section 7: the input gain (1 - alpha) and batch norm are folded into
    `weight` and `bias`, so  I = weight @ x + bias  and
        w <- beta w + a_hat u + b_hat s
        u <- alpha (u - s) + I - (1 - alpha) w      (uses the new w)
        s <- u > threshold
    """

    weight: np.ndarray            # [out, in]  (1 - alpha_i) * bn_scale_i * W_ij
    bias: np.ndarray              # [out]      (1 - alpha_i) * bn_shift_i
    alpha: np.ndarray
    beta: np.ndarray
    a_hat: np.ndarray
    b_hat: np.ndarray
    delays: np.ndarray | None = None
    threshold: float = 1.0
    kind: str = field(default="silif", init=False)

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))


@dataclass(frozen=True, eq=False)
class FoldedCSiLIF:
    """z <- decay * (z - 0.5 s) + I (complex decay, real input), s <- Re z > 0.5."""

    weight: np.ndarray            # b_i * bn_scale_i * W_ij
    bias: np.ndarray              # b_i * bn_shift_i
    decay_re: np.ndarray
    decay_im: np.ndarray
    delays: np.ndarray | None = None
    threshold: float = 0.5
    kind: str = field(default="csilif", init=False)

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))


@dataclass(frozen=True, eq=False)
class FoldedReadout:
    """u <- alpha u + I with I = weight @ s + bias (the (1 - alpha) gain folded in)."""

    weight: np.ndarray
    bias: np.ndarray
    alpha: np.ndarray
    delays: np.ndarray | None = None
    kind: str = field(default="readout", init=False)

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))



@dataclass(frozen=True, eq=False)
class FoldedLIF:
    """One step of a LIF-family population (every input gain folded into weight, bias and
    recurrent), with s the population's spikes of the previous step (0/1, s == v > threshold):
        drive = weight x(t - delays) + recurrent s + bias
        j     = alpha j + drive, drive = j            (CURRENT_KINDS only)
        v     = v_reset where s                       (reset "value")
        v     = beta v + drive + leak - threshold s   (the subtraction for reset "subtract")
        s     = v > threshold                         (spiking kinds; strict)
    The non-spiking kinds output v. docs/nir.md tables how each dialect gets here."""

    kind: str
    weight: np.ndarray                 # [out, in]
    bias: np.ndarray                   # [out]
    beta: np.ndarray                   # [out] membrane decay per step (1 for integrators)
    leak: np.ndarray                   # [out] added to v per step
    alpha: np.ndarray | None = None    # [out] current decay per step (CURRENT_KINDS)
    threshold: np.ndarray | None = None  # [out] (spiking kinds)
    reset: str = "none"                # one of RESETS
    v_reset: np.ndarray | None = None  # [out] (reset "value")
    delays: np.ndarray | None = None
    recurrent: np.ndarray | None = None  # [out, out]
    name: str = ""

    def __post_init__(self):
        _freeze_fields(self, int_fields=("delays",))


FoldedHidden = FoldedSiLIF | FoldedCSiLIF | FoldedLIF


@dataclass(frozen=True, eq=False)
class FoldedNetwork(_LayerShapes):
    config: ModelConfig
    hidden: tuple[FoldedHidden, ...]
    readout: FoldedReadout | FoldedLIF
    source: str = ""
    sha256: str = ""

    @property
    def max_delay(self) -> int:
        """Largest synaptic delay in steps (0 without delays)."""
        return max((int(layer.delays.max()) for layer in self.layers
                    if layer.delays is not None and layer.delays.size), default=0)


# ---------------------------------------------------------------- quantized (integers, docs/fixed-point.md)

OUTPUT_FRAC_BITS = 16             # readout decision accumulators: Q16 probability per step


def _ints(values):
    return frozen_array(values, np.int64)


@dataclass(frozen=True, eq=False)
class QuantSynapses:
    """Weights stored per presynaptic neuron (column), as the event-driven kernel reads them."""

    weight_bits: int
    weights: np.ndarray           # [in, out] int8/int16 values (held as int64)
    mult: np.ndarray              # [out] weight scale: state LSBs per weight LSB (integer >= 0)
    bias: np.ndarray              # [out] constant current, state format
    delays: np.ndarray | None     # [in, out] steps, or None
    max_input_count: int          # largest event count one input may deliver per step (proven)

    def __post_init__(self):
        for name in ("weights", "mult", "bias", "delays"):
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
    k_beta: np.ndarray            # Q31 adaptation decay beta, 0..Q31_LIMIT (int32)
    k_a: np.ndarray               # Q15 coupling a_hat (u -> w), 0..32767 (int16; a_hat = 1 is 32767)
    k_leak: np.ndarray            # Q15 -(1 - alpha), -32768..0 (int16)
    jump: np.ndarray              # b_hat in units of threshold/2^14, 0..32767 (int16; b_hat = 2 is 32767)
    threshold: int                # 1.0 in state format (2^F, F <= 28); also the soft-reset amount
    kind: str = field(default="silif", init=False)

    def __post_init__(self):
        for name in ("k_beta", "k_a", "k_leak", "jump"):
            object.__setattr__(self, name, _ints(getattr(self, name)))


@dataclass(frozen=True, eq=False)
class QuantCSiLIF:
    synapses: QuantSynapses
    frac_bits: int
    k_re: np.ndarray              # Q31 real part of the complex decay
    k_im: np.ndarray              # Q31 imaginary part
    threshold: int                # 0.5 in state format; also the soft-reset amount
    kind: str = field(default="csilif", init=False)

    def __post_init__(self):
        for name in ("k_re", "k_im"):
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
class QuantLIF:
    """A LIF-family population in integers (docs/fixed-point.md, "LIF-family neurons"); the
    step is reference/int_ref.lif_update. Feed-forward and recurrent weights share one `mult`
    (quantized together), so both sum into one accumulator."""

    kind: str
    synapses: QuantSynapses            # feed-forward [in, out], delays, mult, bias
    recurrent: QuantSynapses | None    # [out, out] own previous spikes: the same mult, bias 0
    frac_bits: int
    k_beta: np.ndarray                 # Q31 membrane decay (integrators do not use it)
    k_alpha: np.ndarray                # Q31 current decay (0 for the kinds without a current)
    leak: np.ndarray                   # state format, added per step
    threshold: np.ndarray              # state format (0 for the non-spiking kinds)
    reset: str                         # one of RESETS
    reset_to: np.ndarray               # v after a spike (reset "value"; else 0)
    reset_sub: np.ndarray              # subtracted in the step after a spike (reset "subtract"; else 0)
    name: str = ""

    def __post_init__(self):
        for name in ("k_beta", "k_alpha", "leak", "threshold", "reset_to", "reset_sub"):
            object.__setattr__(self, name, _ints(getattr(self, name)))


@dataclass(frozen=True, eq=False)
class QuantNetwork:
    config: ModelConfig
    hidden: tuple
    readout: QuantReadout | QuantLIF     # the last layer: its kind decides the output (LayerKind.output)
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
    def output_frac_bits(self) -> int:
        """Outputs are Q16 sums (softmax, membrane) or whole spike counts (0 fractional bits)."""
        return 0 if LAYER_KINDS[self.readout.kind].spiking else OUTPUT_FRAC_BITS

    @property
    def output_scale(self) -> int:
        return 1 << self.output_frac_bits

"""Fixed point for SpikingNetworks (NIR imports): quantization and the integer reference.

Design (docs/fixed-point.md, "LIF-family neurons"), per population:
  * one state format Q(31-F).F for v, j, thresholds, v_reset, leak and the drive, F
    calibrated as for SiLIF (compiler/quantize.choose_frac_bits: headroom x the largest
    |value| the float reference reaches on the calibration input, and the constants);
  * the feed-forward and recurrent weights are quantized together, per neuron, on one
    integer scale `mult` (compiler/quantize.fit_synapses on [W | R]), so the runtime adds
    the population's own previous spikes into the same accumulator as its input and the
    drive I = acc * mult + bias is exact and provably int32;
  * decays are Q31 constants (k_beta, k_alpha) used through fixedpoint.dmac, like SiLIF;
    integrators (IF, I: beta = 1) add v without a product, so they integrate exactly.

Integer step (the specification of slf_lif_update_q31), s = previous spike == (v > theta):
    I   = acc * mult + bias                                   (int32, proven)
    j   = dmac(I, (j, k_alpha))                               (current-based kinds; else j = I)
    v_r = v_reset if (reset == value and s) else v
    c   = sat32(j + leak - (threshold if reset == subtract and s else 0))
    v   = c + v_r  (saturating)  if integrator  else  dmac(c, (v_r, k_beta))
    s   = v > threshold
Outputs: a spiking last population counts its spikes (output_scale 1); a non-spiking one
sums v per step in Q16 (v shifted from Q.F to Q.16, saturating int32; output_scale 2^16).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import fixedpoint as fx
from .errors import QuantizationError
from .inputs import check_event_limit, random_input
from .ir import ModelConfig, frozen_array
from .quantize import (DEFAULT_HEADROOM, MIN_INPUT_COUNT_LIMIT, QuantSynapses, choose_frac_bits, fit_synapses)
from .results import RunResult
from .spiking_ir import CURRENT_KINDS, SPIKING_KINDS, SpikingNetwork
from .spiking_ref import run_spiking_float
from .synapses import synaptic_input

INTEGRATOR_KINDS = ("if", "i")


def _ints(values):
    return None if values is None else frozen_array(values, np.int64)


@dataclass(frozen=True, eq=False)
class QuantPopulation:
    kind: str
    synapses: QuantSynapses            # feed-forward weights [in, out], delays, mult, bias
    recurrent: QuantSynapses | None    # [out, out] own previous spikes, same mult; bias 0
    frac_bits: int
    k_beta: np.ndarray                 # Q31 membrane decay (unused by integrators)
    k_alpha: np.ndarray | None         # Q31 current decay (current-based kinds)
    leak: np.ndarray                   # state format, added to v per step
    threshold: np.ndarray | None       # state format (spiking kinds)
    reset: str
    v_reset: np.ndarray | None         # state format (reset == "value")
    name: str = ""

    def __post_init__(self):
        for name in ("k_beta", "k_alpha", "leak", "threshold", "v_reset"):
            object.__setattr__(self, name, _ints(getattr(self, name)))

    @property
    def spiking(self) -> bool:
        return self.kind in SPIKING_KINDS

    @property
    def integrator(self) -> bool:
        return self.kind in INTEGRATOR_KINDS

    @property
    def n_out(self) -> int:
        return self.synapses.n_out

    def reset_amount(self) -> np.ndarray:
        """What a previous spike subtracts from c (0 unless reset == subtract)."""
        return self.threshold if self.reset == "subtract" else np.zeros(self.n_out, np.int64)


@dataclass(frozen=True, eq=False)
class QuantSpikingNetwork:
    config: ModelConfig
    populations: tuple
    weight_bits: int
    headroom: float
    dialect: str = ""
    dt: float = 0.0
    source: str = ""
    sha256: str = ""
    calibration: dict = field(default_factory=dict)

    @property
    def layers(self):
        return self.populations

    @property
    def n_inputs(self) -> int:
        return self.populations[0].synapses.n_in

    @property
    def n_classes(self) -> int:
        return self.populations[-1].n_out

    @property
    def output_scale(self) -> int:
        return 1 if self.populations[-1].spiking else 1 << fx.OUTPUT_FRAC_BITS


# ---------------------------------------------------------------- quantization

def default_calibration_input(network: SpikingNetwork, steps: int = 200) -> np.ndarray:
    """Seeded 0/1 events at 5 % and 20 % per input and step (NIR models take spike inputs)."""
    return np.concatenate([random_input(network.n_inputs, 4, steps, rate, 1, seed=index)
                           for index, rate in enumerate((0.05, 0.2))])


def _fit_state(values: list, headroom: float, name: str) -> int:
    peak = max(float(np.max(np.abs(v))) if np.size(v) else 0.0 for v in values)
    return choose_frac_bits(peak, headroom, name)


def quantize_spiking(network: SpikingNetwork, calibration: np.ndarray | None = None, weight_bits: int = 8,
                     headroom: float = DEFAULT_HEADROOM) -> QuantSpikingNetwork:
    if calibration is None:
        calibration = default_calibration_input(network)
    ranges = run_spiking_float(network, calibration).state_ranges
    populations = []
    min_count = MIN_INPUT_COUNT_LIMIT
    for index, pop in enumerate(network.populations):
        name = f"layer{index} ({pop.name})"
        constants = [pop.leak] + [a for a in (pop.threshold, pop.v_reset) if a is not None]
        frac_bits = _fit_state([*ranges[f"layer{index}"].values(), *constants], headroom, name)
        n_in = pop.n_in
        weight = pop.weight if pop.recurrent is None else np.concatenate([pop.weight, pop.recurrent], axis=1)
        delays = pop.delays
        if delays is not None and pop.recurrent is not None:
            delays = np.concatenate([delays, np.zeros_like(pop.recurrent, dtype=np.int64)], axis=1)
        frac_bits, combined = fit_synapses(weight, pop.bias, delays, frac_bits, weight_bits, min_count, name)
        count = combined.max_input_count if index == 0 else 1
        feed = QuantSynapses(weight_bits=weight_bits, weights=combined.weights[:n_in], mult=combined.mult,
                             bias=combined.bias, delays=None if combined.delays is None else combined.delays[:n_in],
                             max_input_count=count)
        recurrent = None
        if pop.recurrent is not None:
            recurrent = QuantSynapses(weight_bits=weight_bits, weights=combined.weights[n_in:], mult=combined.mult,
                                      bias=np.zeros(pop.n_out), delays=None, max_input_count=1)
        scale = 2.0 ** frac_bits
        state = lambda values: None if values is None else fx.sat32(np.round(values * scale))  # noqa: E731
        leak, threshold = state(pop.leak), state(pop.threshold)
        if threshold is not None and (np.abs(leak) + np.abs(threshold) > fx.INT32_MAX).any():
            raise QuantizationError(f"{name}: leak and threshold together leave int32 at {frac_bits} fractional bits")
        populations.append(QuantPopulation(
            kind=pop.kind, synapses=feed, recurrent=recurrent, frac_bits=frac_bits, k_beta=fx.to_q31(pop.beta),
            k_alpha=None if pop.alpha is None else fx.to_q31(pop.alpha), leak=leak, threshold=threshold,
            reset=pop.reset, v_reset=state(pop.v_reset), name=pop.name))
        min_count = 1
    for pop, source in zip(populations, network.populations):
        if pop.kind not in INTEGRATOR_KINDS and ((source.beta < 0) | (source.beta > 1)).any():
            raise QuantizationError(f"{source.name}: membrane decay outside [0, 1]")
    return QuantSpikingNetwork(config=network.config, populations=tuple(populations), weight_bits=weight_bits,
                               headroom=headroom, dialect=network.dialect, dt=network.dt, source=network.source,
                               sha256=network.sha256, calibration=ranges)


# ---------------------------------------------------------------- integer reference

def population_update(v, j, s, current, pop: QuantPopulation):
    """One integer step of all neurons (see the module docstring). Returns (v, j, s)."""
    if pop.kind in CURRENT_KINDS:
        j = fx.dmac(current, (j, pop.k_alpha))
    else:
        j = current
    if pop.reset == "value":
        v = np.where(s > 0, pop.v_reset, v)
    c = fx.sat32(j + pop.leak - s * pop.reset_amount())
    v = fx.sat32(c + v) if pop.integrator else fx.dmac(c, (v, pop.k_beta))
    if pop.spiking:
        s = (v > pop.threshold).astype(np.int64)
    return v, j, s


def output_q16(v, frac_bits: int):
    """v in Q(31-F).F -> Q16: arithmetic right shift for F >= 16, else a left shift saturated to int32."""
    shift = frac_bits - fx.OUTPUT_FRAC_BITS
    v = np.asarray(v, np.int64)
    return (v >> shift) if shift >= 0 else fx.sat32(v << -shift)


def _record(ranges, name, values, frac_bits):
    if values.size:
        ranges[name] = max(ranges.get(name, 0.0), float(np.abs(values).max()) / 2 ** frac_bits)


def run_population_int(pop: QuantPopulation, x: np.ndarray, ranges: dict):
    """x [B, T, in] int -> (outputs [B, T, out]: spikes or v, Q16 totals or spike counts)."""
    syn = pop.synapses
    delays = None if syn.delays is None else syn.delays.T
    acc_feed = synaptic_input(np.asarray(x, np.int64), syn.weights.T, delays)
    batch, steps, width = acc_feed.shape
    v = np.zeros((batch, width), np.int64)
    j = np.zeros((batch, width), np.int64)
    s = np.zeros((batch, width), np.int64)
    out = np.zeros((batch, steps, width), np.uint8 if pop.spiking else np.int64)
    totals = np.zeros((batch, width), np.int64)
    for t in range(steps):
        acc = acc_feed[:, t] if pop.recurrent is None else acc_feed[:, t] + s @ pop.recurrent.weights
        current = acc * syn.mult + syn.bias
        if current.size and (current.max() > fx.INT32_MAX or current.min() < fx.INT32_MIN):
            raise OverflowError(f"{pop.name}: input current leaves int32: the quantizer's bound does not hold")
        v, j, s = population_update(v, j, s, current, pop)
        if pop.spiking:
            out[:, t] = s
            totals += s
        else:
            out[:, t] = v
            totals = fx.sat32(totals + output_q16(v, pop.frac_bits))
        _record(ranges, "v", v, pop.frac_bits)
        if pop.kind in CURRENT_KINDS:
            _record(ranges, "j", j, pop.frac_bits)
        _record(ranges, "current", current, pop.frac_bits)
    return out, totals


def run_spiking_int(network: QuantSpikingNetwork, counts) -> RunResult:
    x = np.asarray(counts, dtype=np.int64)
    check_event_limit(x, network.populations[0].synapses.max_input_count)
    spikes, ranges = [], {}
    totals = None
    for index, pop in enumerate(network.populations):
        out, totals = run_population_int(pop, x, ranges.setdefault(f"layer{index}", {}))
        if pop.spiking:
            spikes.append(out)
        x = out.astype(np.int64)
    return RunResult(engine="int", outputs=totals, decisions=totals.argmax(axis=1), spikes=tuple(spikes),
                     output_scale=float(network.output_scale), state_ranges=ranges, output_trace=x)


def describe_formats(network: QuantSpikingNetwork) -> list[str]:
    """One line per population: kind, width, state format, weights, event limit."""
    lines = []
    for index, pop in enumerate(network.populations):
        syn = pop.synapses
        extra = [f"recurrent {pop.n_out}x{pop.n_out}"] if pop.recurrent is not None else []
        if syn.max_delay:
            extra.append(f"delays <= {syn.max_delay}")
        lines.append(f"layer{index} {pop.name}: {pop.kind} {syn.n_in} -> {pop.n_out}, state Q{31 - pop.frac_bits}."
                     f"{pop.frac_bits}, int{syn.weight_bits} weights" + "".join(f", {e}" for e in extra))
    return lines


def flip_rates(float_spikes, int_spikes) -> list[float]:
    return [float((a != b).mean()) for a, b in zip(float_spikes, int_spikes)]


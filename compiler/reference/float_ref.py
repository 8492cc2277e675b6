"""Float64 reference of inference: zero initial state, the authors' update order (spec 3-5), and
for the LIF family of NIR graphs the step of ir.FoldedLIF (docs/nir.md).

Every layer runner maps its input current [B, T, N] to its per-step output: spikes (0/1, uint8)
for the spiking kinds, the state (readout u, LIF-family v) for the others. The network's
outputs come from the last layer's per-step output by its kind's output rule (OUTPUT_SUMS)."""
from __future__ import annotations

import numpy as np

from ..ir import (CURRENT_KINDS, LAYER_KINDS, LIF_KINDS, FoldedCSiLIF, FoldedLIF, FoldedNetwork, FoldedReadout,
                  FoldedSiLIF, layer_names)
from .results import RunResult
from .synapses import synaptic_input


def _record(ranges, name, values):
    ranges[name] = max(ranges.get(name, 0.0), float(np.max(np.abs(values))) if values.size else 0.0)


def run_silif(layer: FoldedSiLIF, current: np.ndarray, ranges: dict) -> np.ndarray:
    """current [B, T, N] (gain-folded) -> spikes [B, T, N] uint8."""
    batch, steps, width = current.shape
    u = np.zeros((batch, width))
    w = np.zeros((batch, width))
    s = np.zeros((batch, width))
    gain = 1.0 - layer.alpha
    spikes = np.zeros((batch, steps, width), dtype=np.uint8)
    for t in range(steps):
        w = layer.beta * w + layer.a_hat * u + layer.b_hat * s     # adaptation sees un-reset u
        u = layer.alpha * (u - s) + current[:, t] - gain * w       # reset before the leak; new w
        s = (u > layer.threshold).astype(np.float64)               # strict >
        spikes[:, t] = s
        _record(ranges, "u", u)
        _record(ranges, "w", w)
    _record(ranges, "current", current)
    return spikes


def run_csilif(layer: FoldedCSiLIF, current: np.ndarray, ranges: dict) -> np.ndarray:
    batch, steps, width = current.shape
    zr = np.zeros((batch, width))
    zi = np.zeros((batch, width))
    s = np.zeros((batch, width))
    spikes = np.zeros((batch, steps, width), dtype=np.uint8)
    for t in range(steps):
        p = zr - layer.threshold * s                               # reset on Re z, before the rotation
        zr, zi = layer.decay_re * p - layer.decay_im * zi + current[:, t], layer.decay_im * p + layer.decay_re * zi
        s = (zr > layer.threshold).astype(np.float64)
        spikes[:, t] = s
        _record(ranges, "zr", zr)
        _record(ranges, "zi", zi)
    _record(ranges, "current", current)
    return spikes


def run_readout(layer: FoldedReadout, current: np.ndarray, ranges: dict) -> np.ndarray:
    """The leaky-integrator state u per step [B, T, classes]."""
    batch, steps, width = current.shape
    u = np.zeros((batch, width))
    trace = np.zeros((batch, steps, width))
    for t in range(steps):
        u = layer.alpha * u + current[:, t]
        trace[:, t] = u
        _record(ranges, "u", u)
    _record(ranges, "current", current)
    return trace


def run_lif(layer: FoldedLIF, current: np.ndarray, ranges: dict) -> np.ndarray:
    """current [B, T, N] (feed-forward drive incl. bias) -> spikes [B, T, N] uint8, or v for the
    non-spiking kinds. The recurrent drive of the previous step's own spikes is added per step."""
    batch, steps, width = current.shape
    spiking = LAYER_KINDS[layer.kind].spiking
    v = np.zeros((batch, width))
    j = np.zeros((batch, width))
    s = np.zeros((batch, width))
    out = np.zeros((batch, steps, width), dtype=np.uint8 if spiking else np.float64)
    for t in range(steps):
        drive = current[:, t] if layer.recurrent is None else current[:, t] + s @ layer.recurrent.T
        if layer.kind in CURRENT_KINDS:
            j = layer.alpha * j + drive
            drive = j
        if layer.reset == "value":
            v = np.where(s > 0, layer.v_reset, v)
        v = layer.beta * v + drive + layer.leak
        if layer.reset == "subtract":
            v = v - layer.threshold * s
        if spiking:
            s = (v > layer.threshold).astype(np.float64)          # strict >
            out[:, t] = s
        else:
            out[:, t] = v
        _record(ranges, "v", v)
        if layer.kind in CURRENT_KINDS:
            _record(ranges, "j", j)
    _record(ranges, "current", current)
    return out


def softmax_sums(u: np.ndarray) -> np.ndarray:
    """Sum over time of the softmax of the readout state: [B, T, C] -> [B, C]."""
    total = np.zeros((u.shape[0], u.shape[2]))
    for t in range(u.shape[1]):
        e = np.exp(u[:, t] - u[:, t].max(axis=1, keepdims=True))
        total += e / e.sum(axis=1, keepdims=True)
    return total


RUNNERS = {"silif": run_silif, "csilif": run_csilif, "readout": run_readout, **{kind: run_lif for kind in LIF_KINDS}}
# The network output from the last layer's per-step output, by its kind's output rule (ir.OUTPUT_RULES).
OUTPUT_SUMS = {"softmax": softmax_sums, "spikes": lambda s: s.sum(axis=1).astype(np.float64),
               "state": lambda v: v.sum(axis=1)}


def run_float(network: FoldedNetwork, counts: np.ndarray) -> RunResult:
    """counts [B, T, n_inputs] event counts -> outputs, decisions, every spiking layer's spikes and
    the last layer's per-step output (output_trace)."""
    x = np.asarray(counts, dtype=np.float64)
    spikes = []
    ranges = {}
    for name, layer in zip(layer_names(network), network.layers):
        current = synaptic_input(x, layer.weight, layer.delays) + layer.bias
        x = RUNNERS[layer.kind](layer, current, ranges.setdefault(name, {}))
        if LAYER_KINDS[layer.kind].spiking:
            spikes.append(x)
    trace = x.astype(np.float64)
    outputs = OUTPUT_SUMS[LAYER_KINDS[network.readout.kind].output](trace)
    return RunResult(engine="float", outputs=outputs, decisions=outputs.argmax(axis=1),
                     spikes=tuple(spikes), state_ranges=ranges, output_trace=trace)


def run_float32(network, counts: np.ndarray) -> RunResult:
    """The authors' float32 operation order (torch, raw parameters): golden-exact spikes.

    Used to check the loader against the authors' forward pass. The compiler's own
    reference is `run_float` (float64 over the folded constants); the two differ only
    where a float32 state lies within float32 rounding of the threshold.
    """
    import torch

    from .nn import from_network

    model = from_network(network)
    with torch.no_grad():
        outputs, spikes = model(torch.tensor(np.asarray(counts), dtype=torch.float32))
    outputs = outputs.numpy().astype(np.float64)
    return RunResult(engine="float32", outputs=outputs, decisions=outputs.argmax(axis=1),
                     spikes=tuple(s.numpy().astype(np.uint8) for s in spikes))

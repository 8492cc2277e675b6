"""Float64 reference of inference: zero initial state, the authors' update order (spec 3-5)."""
from __future__ import annotations

import numpy as np

from ..ir import FoldedCSiLIF, FoldedNetwork, FoldedReadout, FoldedSiLIF
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
    """Sum over time of softmax of the leaky-integrator state -> [B, classes]."""
    batch, steps, width = current.shape
    u = np.zeros((batch, width))
    total = np.zeros((batch, width))
    for t in range(steps):
        u = layer.alpha * u + current[:, t]
        e = np.exp(u - u.max(axis=1, keepdims=True))
        total += e / e.sum(axis=1, keepdims=True)
        _record(ranges, "u", u)
    _record(ranges, "current", current)
    return total


HIDDEN_RUNNERS = {"silif": run_silif, "csilif": run_csilif}


def run_float(network: FoldedNetwork, counts: np.ndarray) -> RunResult:
    """counts [B, T, n_inputs] event counts -> outputs, decisions and every hidden spike."""
    x = np.asarray(counts, dtype=np.float64)
    spikes = []
    ranges = {}
    for index, layer in enumerate(network.hidden):
        layer_ranges = ranges.setdefault(f"layer{index}", {})
        current = synaptic_input(x, layer.weight, layer.delays) + layer.bias
        out = HIDDEN_RUNNERS[layer.kind](layer, current, layer_ranges)
        spikes.append(out)
        x = out.astype(np.float64)
    readout = network.readout
    current = synaptic_input(x, readout.weight, readout.delays) + readout.bias
    outputs = run_readout(readout, current, ranges.setdefault("readout", {}))
    return RunResult(engine="float", outputs=outputs, decisions=outputs.argmax(axis=1),
                     spikes=tuple(spikes), state_ranges=ranges)


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

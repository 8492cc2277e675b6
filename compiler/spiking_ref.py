"""Float reference of a SpikingNetwork (the step in compiler/spiking_ir.py), float64 by default.

Outputs: per sample, the sum over steps of the last population's output (spike counts, or
the voltage of a non-spiking readout); decisions are their argmax (lowest index on ties).
`spikes` holds every spiking population's spikes [B, T, N]; `output_trace` the last
population's output at every step.
"""
from __future__ import annotations

import numpy as np

from .results import RunResult
from .spiking_ir import CURRENT_KINDS, Population, SpikingNetwork
from .synapses import synaptic_input


def _record(ranges: dict, name: str, values: np.ndarray) -> None:
    if values.size:
        ranges[name] = max(ranges.get(name, 0.0), float(np.max(np.abs(values))))


def run_population(pop: Population, x: np.ndarray, ranges: dict, dtype=np.float64) -> np.ndarray:
    """x [B, T, n_in] -> outputs [B, T, n_out]: spikes (0/1) or the voltage v."""
    cast = lambda a: None if a is None else np.asarray(a, dtype=dtype)  # noqa: E731
    weight, bias, beta, leak = cast(pop.weight), cast(pop.bias), cast(pop.beta), cast(pop.leak)
    alpha, threshold, v_reset, recurrent = cast(pop.alpha), cast(pop.threshold), cast(pop.v_reset), cast(pop.recurrent)
    feed = synaptic_input(np.asarray(x, dtype=dtype), weight, pop.delays) + bias
    batch, steps, width = feed.shape
    v = np.zeros((batch, width), dtype)
    j = np.zeros((batch, width), dtype)
    s = np.zeros((batch, width), dtype)
    out = np.zeros((batch, steps, width), dtype=np.uint8 if pop.spiking else dtype)
    for t in range(steps):
        drive = feed[:, t] if recurrent is None else feed[:, t] + s @ recurrent.T
        if pop.kind in CURRENT_KINDS:
            j = alpha * j + drive
            drive = j
        if pop.reset == "value":
            v = np.where(s > 0, v_reset, v)
        v = beta * v + drive + leak
        if pop.reset == "subtract":
            v = v - threshold * s
        if pop.spiking:
            s = (v > threshold).astype(dtype)
            out[:, t] = s
        else:
            out[:, t] = v
        _record(ranges, "v", v)
        if pop.kind in CURRENT_KINDS:
            _record(ranges, "j", j)
    _record(ranges, "current", feed)
    return out


def run_spiking_float(network: SpikingNetwork, counts: np.ndarray, dtype=np.float64) -> RunResult:
    """counts [B, T, n_inputs] -> RunResult (engine "float")."""
    x = np.asarray(counts, dtype=dtype)
    spikes, ranges = [], {}
    for index, pop in enumerate(network.populations):
        out = run_population(pop, x, ranges.setdefault(f"layer{index}", {}), dtype)
        if pop.spiking:
            spikes.append(out)
        x = out.astype(dtype)
    outputs = x.sum(axis=1).astype(np.float64)
    return RunResult(engine="float", outputs=outputs, decisions=outputs.argmax(axis=1), spikes=tuple(spikes),
                     state_ranges=ranges, output_trace=x.astype(np.float64))

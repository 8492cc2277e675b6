"""One result layout for every engine (float, integer, firmware), so runs can be diffed."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io.files import check_result_path, save_npz_atomically


@dataclass(frozen=True, eq=False)
class RunResult:
    engine: str                   # "float", "int" or "firmware"
    outputs: np.ndarray           # [B, classes] the last layer's sums over time (ir.OUTPUT_RULES); ints for "int"
    decisions: np.ndarray         # [B] argmax of outputs (lowest index on ties)
    spikes: tuple[np.ndarray, ...]  # per spiking layer (ir.spiking_layers) [B, T, N] uint8
    output_scale: float = 1.0     # outputs / output_scale is the float-comparable value
    # Largest |value| seen per layer and state variable (float units), for headroom reports.
    state_ranges: dict = field(default_factory=dict)
    # The last layer's output at every step [B, T, classes]: its spikes, or its state (readout u,
    # LIF-family v; integers in the state format for "int"); None where the engine does not give it.
    output_trace: np.ndarray | None = None

    @property
    def outputs_float(self) -> np.ndarray:
        return np.asarray(self.outputs, dtype=np.float64) / self.output_scale

    def save(self, path: str | Path) -> None:
        arrays = {"engine": np.array(self.engine), "outputs": self.outputs, "decisions": self.decisions,
                  "output_scale": np.array(self.output_scale), "outputs_float": self.outputs_float}
        for index, spikes in enumerate(self.spikes):
            arrays[f"spikes_l{index}"] = spikes
        save_npz_atomically(check_result_path(path), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "RunResult":
        with np.load(path, allow_pickle=False) as data:
            layers = sorted((k for k in data if k.startswith("spikes_l")), key=lambda k: int(k[8:]))
            return cls(engine=str(data["engine"]), outputs=data["outputs"], decisions=data["decisions"],
                       spikes=tuple(data[k] for k in layers), output_scale=float(data["output_scale"]))


def concat_results(parts: list[RunResult]) -> RunResult:
    """Join results of consecutive sample batches (state ranges: the larger peak wins)."""
    ranges: dict = {}
    for part in parts:
        for layer, values in part.state_ranges.items():
            merged = ranges.setdefault(layer, {})
            for name, peak in values.items():
                merged[name] = max(merged.get(name, 0.0), peak)
    first = parts[0]
    return RunResult(engine=first.engine, outputs=np.concatenate([p.outputs for p in parts]),
                     decisions=np.concatenate([p.decisions for p in parts]),
                     spikes=tuple(np.concatenate(layer) for layer in zip(*(p.spikes for p in parts))),
                     output_scale=first.output_scale, state_ranges=ranges,
                     output_trace=None if any(p.output_trace is None for p in parts)
                     else np.concatenate([p.output_trace for p in parts]))

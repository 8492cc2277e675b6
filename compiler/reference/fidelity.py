"""Float vs integer fidelity: spike flips per layer, output error, decisions, headroom."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import int_ref
from ..ir import LAYER_KINDS, QuantNetwork, layer_names, spiking_layers
from .results import RunResult


@dataclass(frozen=True)
class LayerFidelity:
    name: str
    kind: str
    width: int
    frac_bits: int
    flip_rate: float              # spikes that differ, end to end (errors of earlier layers included)
    flip_rate_alone: float        # this layer fed with the float reference's input spikes
    firing_rate_float: float
    peak_float: float             # largest |state| or |current|, float reference (float units)
    peak_int: float               # same, integer reference (float units)
    headroom_used: float          # peak_int / largest value of the Q format

    def to_dict(self):
        return dict(self.__dict__)


@dataclass(frozen=True)
class FidelityReport:
    samples: int
    steps: int
    weight_bits: int
    layers: tuple[LayerFidelity, ...]
    readout: LayerFidelity
    output_relative_error: float  # max over samples of max|out_int - out_float| / max|out_float|
    decision_agreement: float
    float_accuracy: float | None
    int_accuracy: float | None

    def to_dict(self):
        return {"samples": self.samples, "steps": self.steps, "weights": f"int{self.weight_bits}",
                "layers": [layer.to_dict() for layer in self.layers], "readout": self.readout.to_dict(),
                "output_relative_error": self.output_relative_error,
                "decision_agreement": self.decision_agreement,
                "float_accuracy": self.float_accuracy, "int_accuracy": self.int_accuracy}

    def to_text(self) -> str:
        head = (f"{'layer':<8} {'type':<8} {'width':>5} {'format':>7} {'fire %':>7} {'flips %':>8} "
                f"{'alone %':>8} {'peak float':>10} {'peak int':>10} {'headroom used':>13}")
        lines = [f"float64 vs integer reference (int{self.weight_bits} weights), "
                 f"{self.samples} samples x {self.steps} steps", head, "-" * len(head)]
        for layer in (*self.layers, self.readout):
            spiking = LAYER_KINDS[layer.kind].spiking
            flips = f"{100 * layer.flip_rate:8.4f} {100 * layer.flip_rate_alone:8.4f}" if spiking else ""
            fire = f"{100 * layer.firing_rate_float:7.2f}" if spiking else ""
            lines.append(f"{layer.name:<8} {layer.kind:<8} {layer.width:>5} {f'Q{31 - layer.frac_bits}.{layer.frac_bits}':>7} "
                         f"{fire:>7} {flips:>17} {layer.peak_float:10.4g} {layer.peak_int:10.4g} "
                         f"{100 * layer.headroom_used:12.4f}%")
        lines.append(f"output relative error (max over samples): {self.output_relative_error:.3e}")
        lines.append(f"decision agreement: {100 * self.decision_agreement:.2f} %")
        if self.float_accuracy is not None:
            lines.append(f"accuracy: float {100 * self.float_accuracy:.2f} %, integer {100 * self.int_accuracy:.2f} %")
        return "\n".join(lines)


def isolated_flip_rates(quantized: QuantNetwork, counts, float_result: RunResult) -> list[float]:
    """Per spiking layer: run it alone on the float reference's input spikes (every layer before
    the last spikes, so float_result.spikes[k] is layer k's output)."""
    inputs = [np.asarray(counts, np.int64)] + [s.astype(np.int64) for s in float_result.spikes]
    return [float((int_ref.run_layer(layer, x, {}) != want).mean())
            for layer, x, want in zip(spiking_layers(quantized), inputs, float_result.spikes)]


def compare(quantized: QuantNetwork, counts, float_result: RunResult, int_result: RunResult,
            labels=None) -> FidelityReport:
    alone = isolated_flip_rates(quantized, counts, float_result)
    rows = []
    for index, (name, layer) in enumerate(zip(layer_names(quantized), quantized.layers)):
        peak_float = max(float_result.state_ranges[name].values())
        peak_int = max(int_result.state_ranges[name].values())
        spiking = LAYER_KINDS[layer.kind].spiking
        rows.append(LayerFidelity(
            name=name, kind=layer.kind, width=layer.synapses.n_out, frac_bits=layer.frac_bits,
            flip_rate=float((float_result.spikes[index] != int_result.spikes[index]).mean()) if spiking else 0.0,
            flip_rate_alone=alone[index] if spiking else 0.0,
            firing_rate_float=float(float_result.spikes[index].mean()) if spiking else 0.0,
            peak_float=peak_float, peak_int=peak_int,
            headroom_used=peak_int * 2 ** layer.frac_bits / 2 ** 31))
    out_f = float_result.outputs_float
    out_i = int_result.outputs_float
    scale = np.maximum(np.abs(out_f).max(axis=1), 1e-12)
    relative = float((np.abs(out_i - out_f).max(axis=1) / scale).max())
    agreement = float((float_result.decisions == int_result.decisions).mean())
    float_acc = int_acc = None
    if labels is not None:
        float_acc = float((float_result.decisions == labels).mean())
        int_acc = float((int_result.decisions == labels).mean())
    return FidelityReport(samples=int(out_f.shape[0]), steps=int(np.asarray(counts).shape[1]),
                          weight_bits=quantized.weight_bits, layers=tuple(rows[:-1]), readout=rows[-1],
                          output_relative_error=relative, decision_agreement=agreement,
                          float_accuracy=float_acc, int_accuracy=int_acc)

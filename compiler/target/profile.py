"""The per-layer, per-step profile of a firmware run (`silifc run --count`, bench/run.py):
instructions per step (mean, max) of every layer's synapse and neuron phase, synaptic
operations, instructions per synaptic operation and per neuron update, against a budget model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import QuantNetwork
from .firmware import FirmwareRunReport

# The budget model of the issue: what an event-driven step should cost once the kernels are
# tuned (instructions per synaptic operation, per hidden-neuron update); the readout's own
# update (integrator, softmax, decision) is added as measured.
BOUND_PER_SOP = 1.3
BOUND_PER_NEURON = 15


@dataclass(frozen=True)
class LayerProfile:
    name: str                    # C prefix of the layer, e.g. silifc_l0
    kind: str                    # silif, csilif or readout
    n_in: int
    n_out: int
    synapses: np.ndarray         # [steps] instructions of the synapse phase
    neurons: np.ndarray          # [steps] instructions of the neuron phase
    sops: np.ndarray             # [steps] non-zero presynaptic entries x fan-out
    weighted_sops: np.ndarray    # [steps] presynaptic event counts x fan-out

    @property
    def macs(self) -> int:
        """Multiply-accumulates of a dense step."""
        return self.n_in * self.n_out

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "n_in": self.n_in, "n_out": self.n_out,
                "synapses_mean": float(self.synapses.mean()), "synapses_max": int(self.synapses.max()),
                "neurons_mean": float(self.neurons.mean()), "neurons_max": int(self.neurons.max()),
                "sops_mean": float(self.sops.mean()), "weighted_sops_mean": float(self.weighted_sops.mean()),
                "macs": self.macs,
                "instructions_per_sop": _ratio(self.synapses.sum(), self.sops.sum()),
                "instructions_per_neuron_update": float(self.neurons.mean()) / self.n_out}


def _ratio(a, b) -> float | None:
    return float(a) / float(b) if b else None


@dataclass(frozen=True)
class StepProfile:
    """Per-step instruction counts of one firmware run, split as the issue asks: synaptic
    accumulation (every layer's synapse phase, readout included), hidden-neuron updates
    (every hidden neuron, every step) and the readout (its integrator, softmax and decision
    accumulation). Marker calls (~4 instructions per phase) are part of the phases."""
    layers: tuple[LayerProfile, ...]
    synapses: str                # "event" or "dense"

    @property
    def steps(self) -> int:
        return int(self.layers[0].synapses.size)

    @property
    def synaptic(self) -> np.ndarray:
        return sum(layer.synapses for layer in self.layers)

    @property
    def neuron(self) -> np.ndarray:
        return sum((layer.neurons for layer in self.layers[:-1]), np.zeros_like(self.readout))

    @property
    def readout(self) -> np.ndarray:
        return self.layers[-1].neurons

    @property
    def total(self) -> np.ndarray:
        return self.synaptic + self.neuron + self.readout

    @property
    def sops(self) -> np.ndarray:
        return sum(layer.sops for layer in self.layers)

    @property
    def weighted_sops(self) -> np.ndarray:
        return sum(layer.weighted_sops for layer in self.layers)

    @property
    def neuron_updates(self) -> int:
        """Hidden neurons updated per step (the readout's classes are counted in `readout`)."""
        return sum(layer.n_out for layer in self.layers[:-1])

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def bound(self) -> float:
        """Mean instructions per step of the budget model: 1.3 x SOPs + 15 x hidden-neuron
        updates + the measured readout."""
        return (BOUND_PER_SOP * float(self.sops.mean()) + BOUND_PER_NEURON * self.neuron_updates
                + float(self.readout.mean()))

    def to_dict(self) -> dict:
        def stats(values):
            return {"mean": float(values.mean()), "max": int(values.max())}
        total = self.total
        return {
            "synapses": self.synapses, "steps": self.steps,
            "instructions_per_step": stats(total), "synaptic": stats(self.synaptic),
            "neuron": stats(self.neuron), "readout": stats(self.readout),
            "sops_per_step": {"mean": float(self.sops.mean()), "max": int(self.sops.max())},
            "weighted_sops_per_step": float(self.weighted_sops.mean()),
            "macs_per_step": self.macs, "neuron_updates_per_step": self.neuron_updates,
            "instructions_per_sop": _ratio(self.synaptic.sum(), self.sops.sum()),
            "instructions_per_mac": float(self.synaptic.mean()) / self.macs,
            "instructions_per_neuron_update": float(self.neuron.mean()) / self.neuron_updates
            if self.neuron_updates else None,
            "bound": self.bound, "measured_over_bound": float(total.mean()) / self.bound,
            "layers": [layer.to_dict() for layer in self.layers],
        }

    def to_text(self) -> str:
        """The per-layer table `silifc run --count` prints."""
        head = (f"  {'layer':<18} {'phase':<9} {'instr/step':>11} {'max':>9} {'SOPs/step':>10} "
                f"{'instr/SOP':>9} {'instr/neuron':>12}")
        lines = [head, "  " + "-" * (len(head) - 2)]
        for layer in self.layers:
            per_sop = _ratio(layer.synapses.sum(), layer.sops.sum())
            lines.append(f"  {layer.name:<18} {'synapses':<9} {layer.synapses.mean():11,.0f} "
                         f"{layer.synapses.max():9,d} {layer.sops.mean():10,.0f} "
                         f"{'-' if per_sop is None else format(per_sop, '.2f'):>9} {'':>12}")
            what = "readout" if layer.kind == "readout" else "neurons"
            lines.append(f"  {'':<18} {what:<9} {layer.neurons.mean():11,.0f} {layer.neurons.max():9,d} "
                         f"{'':>10} {'':>9} {layer.neurons.mean() / layer.n_out:12.1f}")
        total, sops = self.total, self.sops
        per_sop = _ratio(self.synaptic.sum(), sops.sum())
        lines += ["  " + "-" * (len(head) - 2)]
        for label, values in (("synaptic", self.synaptic), ("neuron updates", self.neuron),
                              ("readout", self.readout), ("step", total)):
            lines.append(f"  {label:<28} {values.mean():11,.0f} {values.max():9,d}")
        lines.append(f"  SOPs per step {sops.mean():,.0f} (max {sops.max():,d}; event-count weighted "
                     f"{self.weighted_sops.mean():,.0f}), {self.synapses} synapses: "
                     f"{'-' if per_sop is None else format(per_sop, '.2f')} instructions per SOP"
                     + (f", {self.synaptic.mean() / self.macs:.2f} per MAC" if self.synapses == 'dense' else "")
                     + f"; {self.neuron_updates} hidden-neuron updates per step")
        lines.append(f"  budget model 1.3 x SOPs + 15 x neuron updates + readout = {self.bound:,.0f}: "
                     f"measured {total.mean() / self.bound:.2f} x")
        return "\n".join(lines)


def profile_run(report: FirmwareRunReport, quantized: QuantNetwork, counts: np.ndarray, spikes,
                synapses: str = "event", layer_names: list[str] | None = None) -> StepProfile:
    """The per-layer, per-step profile of a traced run. spikes: the hidden layers' spikes
    [samples, steps, n] of the run (the reference's, when the run is bit-exact)."""
    if report.step_phase_instructions is None:
        raise ValueError("profile_run needs run_model(..., trace=True)")
    counts = np.asarray(counts)
    inputs = [counts.reshape(-1, counts.shape[-1])] + [np.asarray(s).reshape(-1, s.shape[-1]) for s in spikes]
    per_step = report.step_phase_instructions
    names = layer_names or [f"layer{i}" for i in range(len(quantized.hidden))] + ["readout"]
    layers = []
    for index, (name, layer) in enumerate(zip(names, quantized.layers)):
        x = inputs[index].astype(np.int64)
        fan_out = layer.synapses.n_out
        layers.append(LayerProfile(name=name, kind=layer.kind, n_in=layer.synapses.n_in, n_out=fan_out,
                                   synapses=per_step[:, 2 * index], neurons=per_step[:, 2 * index + 1],
                                   sops=(x != 0).sum(axis=1) * fan_out, weighted_sops=x.sum(axis=1) * fan_out))
    return StepProfile(layers=tuple(layers), synapses=synapses)

"""The per-layer, per-step profile of a firmware run (`silifc run --count`, bench/run.py):
instructions and estimated cycles per step (mean, max) of every layer's synapse and neuron
phase, synaptic operations, instructions and cycles per synaptic operation and per neuron
update, against a budget model.
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
    synapse_cycles: np.ndarray | None = None   # [steps] estimated cycles of the synapse phase
    neuron_cycles: np.ndarray | None = None    # [steps] estimated cycles of the neuron phase

    @property
    def macs(self) -> int:
        """Multiply-accumulates of a dense step."""
        return self.n_in * self.n_out

    def to_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "n_in": self.n_in, "n_out": self.n_out,
               "synapses_mean": float(self.synapses.mean()), "synapses_max": int(self.synapses.max()),
               "neurons_mean": float(self.neurons.mean()), "neurons_max": int(self.neurons.max()),
               "sops_mean": float(self.sops.mean()), "weighted_sops_mean": float(self.weighted_sops.mean()),
               "macs": self.macs,
               "instructions_per_sop": _ratio(self.synapses.sum(), self.sops.sum()),
               "instructions_per_neuron_update": float(self.neurons.mean()) / self.n_out}
        if self.synapse_cycles is not None:
            out.update({"synapse_cycles_mean": float(self.synapse_cycles.mean()),
                        "synapse_cycles_max": int(self.synapse_cycles.max()),
                        "neuron_cycles_mean": float(self.neuron_cycles.mean()),
                        "neuron_cycles_max": int(self.neuron_cycles.max()),
                        "cycles_per_sop": _ratio(self.synapse_cycles.sum(), self.sops.sum()),
                        "cycles_per_neuron_update": float(self.neuron_cycles.mean()) / self.n_out})
        return out


def _ratio(a, b) -> float | None:
    return float(a) / float(b) if b else None


def _stats(values) -> dict:
    return {"mean": float(values.mean()), "max": int(values.max())}


@dataclass(frozen=True)
class StepProfile:
    """Per-step instruction counts and estimated cycles of one firmware run, split as the
    issue asks: synaptic accumulation (every layer's synapse phase, readout included),
    hidden-neuron updates (every hidden neuron, every step) and the readout (its integrator,
    softmax and decision accumulation). Marker calls (~4 instructions per phase) are part of
    the phases. Cycles are None on a board without a cycle model (cycle_model None)."""
    layers: tuple[LayerProfile, ...]
    synapses: str                # "event" or "dense"
    cycle_model: str | None = None

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
    def has_cycles(self) -> bool:
        return self.cycle_model is not None

    @property
    def synaptic_cycles(self) -> np.ndarray | None:
        return sum(layer.synapse_cycles for layer in self.layers) if self.has_cycles else None

    @property
    def neuron_cycles(self) -> np.ndarray | None:
        if not self.has_cycles:
            return None
        return sum((layer.neuron_cycles for layer in self.layers[:-1]), np.zeros_like(self.readout_cycles))

    @property
    def readout_cycles(self) -> np.ndarray | None:
        return self.layers[-1].neuron_cycles if self.has_cycles else None

    @property
    def total_cycles(self) -> np.ndarray | None:
        if not self.has_cycles:
            return None
        return self.synaptic_cycles + self.neuron_cycles + self.readout_cycles

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
        total = self.total
        out = {
            "synapses": self.synapses, "steps": self.steps,
            "instructions_per_step": _stats(total), "synaptic": _stats(self.synaptic),
            "neuron": _stats(self.neuron), "readout": _stats(self.readout),
            "sops_per_step": {"mean": float(self.sops.mean()), "max": int(self.sops.max())},
            "weighted_sops_per_step": float(self.weighted_sops.mean()),
            "macs_per_step": self.macs, "neuron_updates_per_step": self.neuron_updates,
            "instructions_per_sop": _ratio(self.synaptic.sum(), self.sops.sum()),
            "instructions_per_mac": float(self.synaptic.mean()) / self.macs,
            "instructions_per_neuron_update": float(self.neuron.mean()) / self.neuron_updates
            if self.neuron_updates else None,
            "bound": self.bound, "measured_over_bound": float(total.mean()) / self.bound,
            "cycle_model": self.cycle_model,
            "layers": [layer.to_dict() for layer in self.layers],
        }
        if self.has_cycles:
            cycles = self.total_cycles
            out.update({
                "cycles_per_step": _stats(cycles), "synaptic_cycles": _stats(self.synaptic_cycles),
                "neuron_cycles": _stats(self.neuron_cycles), "readout_cycles": _stats(self.readout_cycles),
                "cycles_per_sop": _ratio(self.synaptic_cycles.sum(), self.sops.sum()),
                "cycles_per_mac": float(self.synaptic_cycles.mean()) / self.macs,
                "cycles_per_neuron_update": float(self.neuron_cycles.mean()) / self.neuron_updates
                if self.neuron_updates else None,
                "cycles_per_instruction": float(cycles.sum()) / float(total.sum()),
            })
        return out

    def to_text(self) -> str:
        """The per-layer table `silifc run --count` prints."""
        def cell(values, fmt, width):
            return f"{'-':>{width}}" if values is None else format(values, fmt).rjust(width)

        def per(a, b, fmt, width):
            value = None if a is None else _ratio(a, b)
            return f"{'-':>{width}}" if value is None else format(value, fmt).rjust(width)

        head = (f"  {'layer':<18} {'phase':<9} {'instr/step':>11} {'max':>9} {'est. cycles':>11} {'max':>9} "
                f"{'SOPs/step':>10} {'instr/SOP':>9} {'cyc/SOP':>8} {'instr/neuron':>12} {'cyc/neuron':>10}")
        rule = "  " + "-" * (len(head) - 2)
        lines = [head, rule]
        for layer in self.layers:
            sc, nc = layer.synapse_cycles, layer.neuron_cycles
            lines.append(f"  {layer.name:<18} {'synapses':<9} {layer.synapses.mean():11,.0f} "
                         f"{layer.synapses.max():9,d} {cell(None if sc is None else sc.mean(), ',.0f', 11)} "
                         f"{cell(None if sc is None else int(sc.max()), ',d', 9)} {layer.sops.mean():10,.0f} "
                         f"{per(layer.synapses.sum(), layer.sops.sum(), '.2f', 9)} "
                         f"{per(None if sc is None else sc.sum(), layer.sops.sum(), '.2f', 8)} {'':>12} {'':>10}")
            what = "readout" if layer.kind == "readout" else "neurons"
            lines.append(f"  {'':<18} {what:<9} {layer.neurons.mean():11,.0f} {layer.neurons.max():9,d} "
                         f"{cell(None if nc is None else nc.mean(), ',.0f', 11)} "
                         f"{cell(None if nc is None else int(nc.max()), ',d', 9)} {'':>10} {'':>9} {'':>8} "
                         f"{layer.neurons.mean() / layer.n_out:12.1f} "
                         f"{cell(None if nc is None else nc.mean() / layer.n_out, '.1f', 10)}")
        lines.append(rule)
        for label, values, cycles in (("synaptic", self.synaptic, self.synaptic_cycles),
                                      ("neuron updates", self.neuron, self.neuron_cycles),
                                      ("readout", self.readout, self.readout_cycles),
                                      ("step", self.total, self.total_cycles)):
            lines.append(f"  {label:<28} {values.mean():11,.0f} {values.max():9,d} "
                         f"{cell(None if cycles is None else cycles.mean(), ',.0f', 11)} "
                         f"{cell(None if cycles is None else int(cycles.max()), ',d', 9)}")
        sops = self.sops
        per_sop = _ratio(self.synaptic.sum(), sops.sum())
        cycles_per_sop = _ratio(self.synaptic_cycles.sum(), sops.sum()) if self.has_cycles else None
        lines.append(f"  SOPs per step {sops.mean():,.0f} (max {sops.max():,d}; event-count weighted "
                     f"{self.weighted_sops.mean():,.0f}), {self.synapses} synapses: "
                     f"{'-' if per_sop is None else format(per_sop, '.2f')} instructions"
                     + ("" if cycles_per_sop is None else f" and {cycles_per_sop:.2f} est. cycles")
                     + " per SOP"
                     + (f", {self.synaptic.mean() / self.macs:.2f} instructions per MAC"
                        if self.synapses == 'dense' else "")
                     + f"; {self.neuron_updates} hidden-neuron updates per step")
        if self.has_cycles:
            lines.append(f"  est. cycles: {self.cycle_model} timing model, zero wait states, "
                         f"{self.total_cycles.sum() / self.total.sum():.2f} cycles per instruction (docs/cycles.md)")
        else:
            lines.append("  est. cycles: no cycle model for this core, instructions only (docs/cycles.md)")
        lines.append(f"  budget model 1.3 x SOPs + 15 x neuron updates + readout = {self.bound:,.0f} instructions: "
                     f"measured {self.total.mean() / self.bound:.2f} x")
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
    cycles = report.step_phase_cycles
    names = layer_names or [f"layer{i}" for i in range(len(quantized.hidden))] + ["readout"]
    layers = []
    for index, (name, layer) in enumerate(zip(names, quantized.layers)):
        x = inputs[index].astype(np.int64)
        fan_out = layer.synapses.n_out
        layers.append(LayerProfile(name=name, kind=layer.kind, n_in=layer.synapses.n_in, n_out=fan_out,
                                   synapses=per_step[:, 2 * index], neurons=per_step[:, 2 * index + 1],
                                   sops=(x != 0).sum(axis=1) * fan_out, weighted_sops=x.sum(axis=1) * fan_out,
                                   synapse_cycles=None if cycles is None else cycles[:, 2 * index],
                                   neuron_cycles=None if cycles is None else cycles[:, 2 * index + 1]))
    return StepProfile(layers=tuple(layers), synapses=synapses,
                       cycle_model=report.cycle_model if cycles is not None else None)


@dataclass(frozen=True)
class BudgetOverrun:
    """Steps whose cost exceeds the real-time budget (cycles of one step at the board's clock).
    The cost is the estimated cycles where the core has a cycle model, else instructions (a
    lower bound of cycles): either way every step counted here is late on the device."""
    steps_over: int
    steps: int
    worst_sample: int
    worst_step: int
    worst_cost: int
    budget: float
    unit: str                     # "est. cortex-m4 cycles" or "instructions"

    def message(self) -> str:
        return (f"{self.steps_over:,} of {self.steps:,} steps exceed the real-time budget of {self.budget:,.0f} cycles; "
                f"the largest is step {self.worst_step} of sample {self.worst_sample}: "
                f"{self.worst_cost:,} {self.unit} = {100 * self.worst_cost / self.budget:.0f} % of the budget. "
                "On the device these steps finish late: use a faster board (clock_hz), a longer --time-step-ms, "
                "a smaller model, or sparser input")

    def to_dict(self) -> dict:
        return {"steps_over": self.steps_over, "steps": self.steps, "worst_sample": self.worst_sample,
                "worst_step": self.worst_step, "worst_cost": self.worst_cost, "unit": self.unit,
                "budget": self.budget}


def budget_overrun(step_costs: np.ndarray, steps_per_sample: int, budget: float,
                   unit: str) -> BudgetOverrun | None:
    """The steps of a run (the cost of every step, samples in order) over `budget`, or None."""
    step_costs = np.asarray(step_costs)
    over = step_costs > budget
    if not over.any():
        return None
    worst = int(step_costs.argmax())
    return BudgetOverrun(steps_over=int(over.sum()), steps=int(step_costs.size),
                         worst_sample=worst // steps_per_sample, worst_step=worst % steps_per_sample,
                         worst_cost=int(step_costs[worst]), budget=float(budget), unit=unit)

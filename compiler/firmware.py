"""Build a compiled model into emulator firmware (cached) and run it on spike inputs.

`run_model` is the firmware engine: same input as the references, a RunResult in the
same layout, plus executed instructions per step (and per phase: the generated step()
calls an empty marker function at the start of each layer's synapse and neuron phase;
the counting plugin logs every marker, so every step's phases are counted exactly), and on
boards with a cycle model (Cortex-M4) estimated cycles the same way (docs/cycles.md).
`profile_run` turns one run into the per-layer profile that `silifc run --count` and
bench/run.py print: instructions and estimated cycles per step (mean, max) per phase,
synaptic operations, instructions and cycles per synaptic operation and per neuron update.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .board import Board
from .codegen import CompileOptions, Project, write_project
from .emulator import EmulatorError, FirmwareImage, RegionUsage, build_firmware, cache_dir, cycle_model_for, run_firmware
from .firmware_io import decode_output, encode_events
from .inputs import check_event_limit
from .quantize import QuantNetwork
from .results import RunResult

IO_BUCKET = "(harness: file I/O, init, result)"
# Exit statuses of the test harness (templates/app/main.c.j2); 13 prints the slf_status.
HARNESS_EXIT_MESSAGES = {10: "bad command line", 11: "cannot open a file", 12: "bad input file",
                         13: "model error"}


@dataclass(frozen=True)
class FirmwareRunReport:
    result: RunResult
    instructions_total: int
    steps: int                                  # samples x steps per sample
    phase_instructions: dict = field(default_factory=dict)   # phase name -> instructions, all steps
    flash_used: int = 0
    ram_used: int = 0
    # [steps, phases] instructions of every step's phases (phase_instructions' order), from the
    # plugin's marker trace; None for a run without it.
    step_phase_instructions: np.ndarray | None = field(default=None, compare=False)
    # Estimated cycles, the same splits: None on a board without a cycle model (cycle_model None).
    cycle_model: str | None = None
    cycles_total: int | None = None
    phase_cycles: dict | None = None
    step_phase_cycles: np.ndarray | None = field(default=None, compare=False)
    cycle_events: dict = field(default_factory=dict)   # the whole run's model events (FirmwareRun.cycle_events)

    @property
    def step_instructions(self) -> np.ndarray:
        """Model instructions of every step (all phases; the harness between steps excluded)."""
        if self.step_phase_instructions is None:
            raise ValueError("run_model(..., trace=False): no per-step counts")
        return self.step_phase_instructions.sum(axis=1)

    @property
    def model_instructions(self) -> int:
        return sum(self.phase_instructions.values())

    @property
    def instructions_per_step(self) -> float:
        return self.model_instructions / max(self.steps, 1)

    @property
    def cycles_per_step(self) -> float | None:
        """Mean estimated cycles of the model per step; None without a cycle model."""
        if self.phase_cycles is None:
            return None
        return sum(self.phase_cycles.values()) / max(self.steps, 1)


def build_model_firmware(quantized: QuantNetwork, board: Board, weights: str = "int8", prefix: str = "silifc",
                         work_dir: str | Path | None = None, progress=None,
                         synapses: str = "event") -> tuple[Project, FirmwareImage]:
    """Generate the project and build its firmware; rebuilt only when a generated file changed.
    synapses: "event" (event-driven accumulation) or "dense" (the dense baseline)."""
    if work_dir is None:
        key = hashlib.sha256(f"{quantized.sha256}|{board.name}|{weights}|{prefix}|{quantized.headroom}|"
                             f"{synapses}".encode())
        work_dir = cache_dir() / "builds" / key.hexdigest()[:20]
    work_dir = Path(work_dir)
    options = CompileOptions(board=board, prefix=prefix, weights=weights, synapses=synapses)
    project = write_project(quantized, options, work_dir)
    stamp = work_dir / "build" / "stamp.json"
    elf = work_dir / "build" / "firmware.elf"
    if stamp.exists() and elf.exists():
        cached = json.loads(stamp.read_text())
        if cached.get("digest") == project.digest:
            memory = {region: RegionUsage(*usage) for region, usage in cached["memory"].items()}
            return project, FirmwareImage(elf=elf, map_file=work_dir / "build" / "firmware.map", board=board,
                                          memory=memory, compiler_output=cached.get("compiler_output", ""))
    if progress:
        progress(f"building firmware for {board.name} in {work_dir}")
    image = build_firmware([project.app_source, *project.model_sources], project.include_dirs, board,
                           work_dir / "build", defines={"SILIFC_PROFILE": None}, name="firmware")
    stamp.write_text(json.dumps({"digest": project.digest, "compiler_output": image.compiler_output,
                                 "memory": {r: [u.used, u.size] for r, u in image.memory.items()}}))
    return project, image


def run_model(project: Project, image: FirmwareImage, quantized: QuantNetwork, counts: np.ndarray,
              record_spikes: bool = False, insn_limit: int = 20_000_000_000, timeout: float = 1800,
              trace: bool = True) -> FirmwareRunReport:
    """trace: also count every step's phases (FirmwareRunReport.step_phase_instructions)."""
    counts = np.asarray(counts)
    check_event_limit(counts, quantized.layers[0].synapses.max_input_count)
    widths = tuple(layer.synapses.n_out for layer in quantized.hidden)
    with tempfile.TemporaryDirectory(prefix="silifc-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "in.slfi").write_bytes(encode_events(counts))
        args = [str(tmp / "in.slfi"), str(tmp / "out.slfo")] + (["spikes"] if record_spikes else [])
        cycle_model = cycle_model_for(image.board)
        run = run_firmware(image, image.board, args=args, insn_limit=insn_limit, timeout=timeout,
                           markers=project.phases, trace=trace, cycle_model=cycle_model)
        if run.exit_status != 0:
            raise EmulatorError(f"the firmware stopped with status {run.exit_status} "
                                f"({HARNESS_EXIT_MESSAGES.get(run.exit_status, 'unknown')}):\n{run.stdout.strip()}")
        output = decode_output((tmp / "out.slfo").read_bytes(), counts.shape[1], widths)
    phases = {name: count.instructions for name, count in run.buckets.items()
              if name in project.phases and not name.endswith("_phase_end")}
    spikes = output.spikes if output.spikes is not None else ()
    result = RunResult(engine="firmware", outputs=output.totals, decisions=output.decisions, spikes=spikes,
                       output_scale=float(quantized.output_scale))
    steps = int(counts.shape[0] * counts.shape[1])
    per_step = _step_phases(run, len(project.phases), steps) if trace else None
    if per_step is not None and per_step.sum(axis=0).tolist() != list(phases.values()):
        raise EmulatorError("the plugin's marker trace disagrees with its bucket totals")
    phase_cycles = step_cycles = None
    if run.cycles is not None:
        phase_cycles = {name: run.buckets[name].cycles for name in phases}
        if trace:
            step_cycles = _step_phases(run, len(project.phases), steps, cycles=True)
            if step_cycles.sum(axis=0).tolist() != list(phase_cycles.values()):
                raise EmulatorError("the plugin's marker trace disagrees with its bucket cycle totals")
    return FirmwareRunReport(result=result, instructions_total=run.instructions, steps=steps,
                             phase_instructions=phases, flash_used=image.flash_used, ram_used=image.ram_used,
                             step_phase_instructions=per_step, cycle_model=run.cycle_model,
                             cycles_total=run.cycles, phase_cycles=phase_cycles, step_phase_cycles=step_cycles,
                             cycle_events=run.cycle_events)


def _step_phases(run, n_markers: int, steps: int, cycles: bool = False) -> np.ndarray:
    """[steps, n_markers - 1]: each step's phase counts (instructions, or estimated cycles)
    from the marker trace. A step runs its markers in order (1 .. n_markers, the last one ends
    the step); the end marker's entry (the harness's I/O until the next step) is dropped."""
    buckets, instructions = run.marker_entries()
    pattern = np.arange(1, n_markers + 1)
    if buckets.size != steps * n_markers or not np.array_equal(buckets.reshape(-1, n_markers),
                                                                np.broadcast_to(pattern, (steps, n_markers))):
        raise EmulatorError(f"the firmware ran its phase markers out of order ({buckets.size} marker executions "
                            f"for {steps} steps of {n_markers} markers)")
    values = run.marker_entry_cycles() if cycles else instructions
    return values.reshape(steps, n_markers)[:, :-1]


# ---------------------------------------------------------------- profile

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

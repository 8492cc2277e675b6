"""Build a compiled model into emulator firmware (cached) and run it on spike inputs.

`run_model` is the firmware engine: same input as the references, a RunResult in the
same layout, plus executed instructions per step (and per phase: the generated step()
calls an empty marker function at the start of each layer's synapse and neuron phase;
the counting plugin logs every marker, so every step's phases are counted exactly), and on
boards with a cycle model (Cortex-M4) estimated cycles the same way (docs/cycles.md).
silifc.target.profile turns a run into the per-layer profile.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from ..codegen.emit import Project
from .cache import cached_build
from .qemu import EmulatorError, cycle_model_for, run_firmware
from .stack import StackUsage
from .toolchain import FirmwareImage, build_firmware
from .harness import complete_samples, decode_output, encode_events
from ..io.files import temp_folder
from ..errors import InputDataError
from ..io.inputs import check_counts, check_event_limit
from ..ir import QuantNetwork, spiking_layers
from ..progress import FileWatch
from ..reference.results import RunResult

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
    stack: StackUsage | None = None             # worst-case stack of the firmware (its call graph)

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


def build_project(project: Project, progress=None) -> FirmwareImage:
    """The emulator firmware of a generated project (model + test harness), cached on the
    project's digest (silifc.target.cache)."""
    board = project.plan.board
    return cached_build(project.directory, "firmware", project.digest, board, progress=progress,
                        build=lambda out: build_firmware([project.app_source, *project.model_sources],
                                                         project.include_dirs, board, out,
                                                         defines={"SILIFC_PROFILE": None}, name="firmware"))


def run_model(project: Project, image: FirmwareImage, quantized: QuantNetwork, counts: np.ndarray,
              record_spikes: bool = False, insn_limit: int = 20_000_000_000, timeout: float = 1800,
              trace: bool = True, progress=None) -> FirmwareRunReport:
    """trace: also count every step's phases (FirmwareRunReport.step_phase_instructions).
    progress: called with (samples done, samples) while QEMU runs (from the result file)."""
    counts = check_counts(counts, "input", single_sample_ok=False)
    if counts.shape[2] != quantized.n_inputs:
        raise InputDataError(f"input: {counts.shape[2]} channels per step; the model takes {quantized.n_inputs} "
                             "inputs")
    check_event_limit(counts, quantized.layers[0].synapses.max_input_count)
    widths = tuple(layer.synapses.n_out for layer in spiking_layers(quantized))
    with temp_folder("run") as tmp:
        (tmp / "in.slfi").write_bytes(encode_events(counts))
        args = [str(tmp / "in.slfi"), str(tmp / "out.slfo")] + (["spikes"] if record_spikes else [])
        samples = counts.shape[0]
        watch = FileWatch(tmp / "out.slfo", lambda data: complete_samples(data, counts.shape[1], len(widths)),
                          lambda done: progress(done, samples)) if progress else contextlib.nullcontext()
        with watch:
            run = run_firmware(image, image.board, args=args, insn_limit=insn_limit, timeout=timeout,
                               markers=project.phases, trace=trace, cycle_model=cycle_model_for(image.board))
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
                             cycle_events=run.cycle_events, stack=image.stack)


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

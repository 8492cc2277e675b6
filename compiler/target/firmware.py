"""Build a compiled model into emulator firmware (cached) and run it on spike inputs.

`run_model` is the firmware engine: same input as the references, a RunResult in the
same layout, plus executed instructions per step (and per phase: the generated step()
calls an empty marker function at the start of each layer's synapse and neuron phase;
the counting plugin logs every marker, so every step's phases are counted exactly).
silifc.target.profile turns a run into the per-layer profile.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..codegen.emit import Project
from .cache import cached_build
from .qemu import EmulatorError, run_firmware
from .toolchain import FirmwareImage, build_firmware
from .harness import decode_output, encode_events
from ..io.inputs import check_event_limit
from ..ir import QuantNetwork
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
              trace: bool = True) -> FirmwareRunReport:
    """trace: also count every step's phases (FirmwareRunReport.step_phase_instructions)."""
    counts = np.asarray(counts)
    check_event_limit(counts, quantized.layers[0].synapses.max_input_count)
    widths = tuple(layer.synapses.n_out for layer in quantized.hidden)
    with tempfile.TemporaryDirectory(prefix="silifc-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "in.slfi").write_bytes(encode_events(counts))
        args = [str(tmp / "in.slfi"), str(tmp / "out.slfo")] + (["spikes"] if record_spikes else [])
        run = run_firmware(image, image.board, args=args, insn_limit=insn_limit, timeout=timeout,
                           markers=project.phases, trace=trace)
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
    return FirmwareRunReport(result=result, instructions_total=run.instructions, steps=steps,
                             phase_instructions=phases, flash_used=image.flash_used, ram_used=image.ram_used,
                             step_phase_instructions=per_step)


def _step_phases(run, n_markers: int, steps: int) -> np.ndarray:
    """[steps, n_markers - 1]: each step's phase counts from the marker trace. A step runs its
    markers in order (1 .. n_markers, the last one ends the step); the end marker's entry
    (the harness's I/O until the next step) is dropped."""
    buckets, instructions = run.marker_entries()
    pattern = np.arange(1, n_markers + 1)
    if buckets.size != steps * n_markers or not np.array_equal(buckets.reshape(-1, n_markers),
                                                                np.broadcast_to(pattern, (steps, n_markers))):
        raise EmulatorError(f"the firmware ran its phase markers out of order ({buckets.size} marker executions "
                            f"for {steps} steps of {n_markers} markers)")
    return instructions.reshape(steps, n_markers)[:, :-1]

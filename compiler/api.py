"""silifc from Python: the functions the command line itself calls (docs/api.md).

    import silifc
    model = silifc.load("silif_ssc_4ms.pth")           # a bundled model's name, or a path
    q = model.quantize()                               # calibrated on the data the model carries
    reference = q.infer("inputs.npz")                  # the integer reference (= the firmware, bit for bit)
    firmware = q.compile(board="nrf52840", output="build/ssc")   # a C project, memory plan checked
    run = firmware.run("inputs.npz")                   # built (cached) and run in QEMU
    run.bit_exact, run.decisions, run.instructions_per_step, run.cycles_per_step

Every step goes through silifc.pipeline.run_pipeline, the one list of stages (load, fold,
quantize, plan, emit, build, run). Results are the typed dataclasses of the stages
(RunResult, FidelityReport, MemoryPlan, FirmwareRunReport) wrapped with what was compared
with what. Inputs: a file (.npz, .npy, SHD/SSC-style .h5), an array of event counts
[samples, steps, inputs] (or [steps, inputs]), or None for seeded random events.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .codegen.boards import Board, list_boards, load_board
from .codegen.emit import Project
from .codegen.memory import MemoryPlan
from .codegen.package import LAYOUTS, ArduinoLibrary, write_arduino_library
from .codegen.renode import RENODE_PART, RenodeFiles, write_renode_files
from .errors import ConfigError, InputDataError
from .io.files import OutputFolderError, remove_generated, write_generated  # noqa: F401  (OutputFolderError: for callers)
from .io.inputs import check_counts, check_host_memory, load_input, random_input
from .io.models import model_calibration, resolve_model
from .ir import Network, QuantNetwork
from .passes.quantize import DEFAULT_HEADROOM
from .pipeline import Artifacts, Options, run_batched, run_pipeline
from .reference.fidelity import FidelityReport, compare
from .reference.float_ref import run_float, run_float32
from .reference.int_ref import run_int
from .reference.results import RunResult
from .target.firmware import FirmwareRunReport
from .target.harness import encode_events
from .target.profile import BudgetOverrun, StepProfile, budget_overrun, profile_run
from .target.qemu import BoardNotEmulatedError
from .target.stack import StackUsage
from .target.toolchain import FirmwareImage
from .kws.device import DEVICE_PART
from .kws.firmware import AUDIO_PART, KWS_LIBRARY_PART

ENGINES = ("float", "float32", "int")
RANDOM_INPUT = dict(n_samples=8, rate=0.02, seed=1234)     # the default input of check/infer/run
SAMPLE_INPUT = "app/sample.slfi"                           # what `make run` runs (templates/project/Makefile.j2)
SAMPLE_PART = "sample"                                     # its part of the project folder (io.files.write_generated)
# Parts of a project folder that a plain compile replaces: an earlier `compile --audio` there
# (io.files.write_generated removes a part's files, never the user's).
KEYWORD_APP_PARTS = (AUDIO_PART, DEVICE_PART, KWS_LIBRARY_PART)


class CalibrationWarning(UserWarning):
    """The state formats were calibrated on random events, not on data like the model's inputs."""


@dataclass(frozen=True, eq=False)
class Inputs:
    """Event counts with where they came from."""

    counts: np.ndarray            # [samples, steps, inputs] int64
    labels: np.ndarray | None     # [samples], when the file had them
    source: str                   # a file name, "array", or the random events' description


@dataclass(frozen=True)
class Calibration:
    source: str                   # the file, or a description of the random events
    random: bool                  # True: seeded random events (said with a CalibrationWarning)


def check_runnable(board: Board) -> Board:
    """The board, when silifc can run firmware for it in QEMU; else BoardNotEmulatedError saying
    which boards can stand in for it."""
    if board.runnable:
        return board
    emulated = [load_board(name) for name in list_boards()]
    same = [b.name for b in emulated if b.runnable and b.cpu == board.cpu]
    others = ", ".join(f"{b.name} ({b.cpu})" for b in emulated if b.runnable)
    raise BoardNotEmulatedError(
        f"board {board.name} has no emulator (emulator: null in its board file): silifc builds firmware for it "
        f"(silifc compile MODEL --board {board.name} -o DIR --build) but cannot run it. Run on a board with an "
        + (f"emulator and the same core instead: --board {same[0]}" if same else
           f"emulator instead, e.g. --board nrf52840; those with one: {others}"))


def load(model: str | Path, **config) -> "Model":
    """A model file (the authors' .pth, silifc's native .pt or a NIR graph .nir) or the name of a
    bundled one. config: settings the file lacks (spatial_bin, time_step_ms, nb_steps, max_time_s;
    for NIR graphs nir_dialect and nir_dt, docs/nir.md)."""
    path = resolve_model(model)
    done = run_pipeline(path, Options(config_overrides=config or None), until="load")
    return Model(path=path, network=done.network, config_overrides=dict(config))


def _inputs(value, network: Network) -> Inputs:
    """Inputs from a file, an array or None (seeded random events, said so in the source), checked
    against the model: channels, counts (non-negative integers), labels (0 .. classes - 1), and
    for random events the host memory the references would need."""
    config, n_inputs = network.config, network.n_inputs
    if value is None:
        check_host_memory(RANDOM_INPUT["n_samples"], config.nb_steps,
                          (n_inputs * config.spatial_bin, *network.widths[1:]), "random input")
        counts = random_input(n_inputs, RANDOM_INPUT["n_samples"], config.nb_steps, RANDOM_INPUT["rate"],
                              config.spatial_bin, seed=RANDOM_INPUT["seed"])
        return Inputs(counts, None, f"random events ({RANDOM_INPUT['n_samples']} samples, "
                                    f"{100 * RANDOM_INPUT['rate']:g} % per raw channel, seed {RANDOM_INPUT['seed']}; "
                                    "pass inputs for real data)")
    if isinstance(value, Inputs):
        return value
    if isinstance(value, (str, Path)):
        loaded = load_input(value, n_inputs, config, network.n_classes)
        return Inputs(loaded.counts, loaded.labels, loaded.source)
    counts = check_counts(value, "inputs")
    if counts.shape[2] != n_inputs:
        raise InputDataError(f"inputs have {counts.shape[2]} channels per step; the model takes {n_inputs}")
    return Inputs(counts, None, f"array {list(counts.shape)}")


@dataclass(frozen=True, eq=False)
class Model:
    """A loaded model: its file and raw graph (silifc.ir.Network)."""

    path: Path
    network: Network
    config_overrides: dict = dataclasses.field(default_factory=dict)

    def inputs(self, value=None) -> Inputs:
        """Event counts for this model from a file, an array, or None (seeded random events)."""
        return _inputs(value, self.network)

    def calibration(self, calibration=None) -> tuple[np.ndarray | None, Calibration]:
        """The calibration counts and their source: `calibration` (file or array), else the data
        the model carries (a sidecar's [quantize] calibration, a keyword model's meta), else
        None: seeded random events, which the quantizer draws (with a CalibrationWarning)."""
        if calibration is None:
            calibration = model_calibration(self.path)
        if calibration is None:
            return None, Calibration("seeded random events (the quantizer's default; pass a calibration file "
                                     "of real inputs for better state formats)", random=True)
        chosen = self.inputs(calibration)
        return chosen.counts, Calibration(f"{chosen.source} ({chosen.counts.shape[0]} samples)", random=False)

    def check_fits(self, board: str | Board, weights: str = "int8", synapses: str = "event",
                   prefix: str = "silifc") -> None:
        """Refuse (CodegenError naming the region and the bytes over) a model whose buffers cannot
        fit the board, decided from the layer shapes alone: before calibration allocates anything."""
        board = board if isinstance(board, Board) else load_board(board)
        run_pipeline(Artifacts(source=self.path, network=self.network),
                     Options(weights=weights, board=board, synapses=synapses, prefix=prefix,
                             config_overrides=self.config_overrides or None), until="fold")

    def quantize(self, weights: str = "int8", calibration=None, headroom: float = DEFAULT_HEADROOM,
                 board: str | Board | None = None, synapses: str = "event") -> "QuantizedModel":
        """Fold and quantize. calibration: a file or counts array; None: the data the model
        carries, else seeded random events (warned: CalibrationWarning). board (and synapses):
        the board it will be compiled for, so that a model that cannot fit it is refused before
        calibration (check_fits)."""
        if board is not None:
            self.check_fits(board, weights, synapses)
        counts, source = self.calibration(calibration)
        if source.random:
            warnings.warn(f"{self.path.name}: calibrating on {source.source}", CalibrationWarning, stacklevel=2)
        options = Options(weights=weights, headroom=headroom, calibration=counts,
                          config_overrides=self.config_overrides or None)
        done = run_pipeline(Artifacts(source=self.path, network=self.network), options, until="quantize")
        return QuantizedModel(model=self, artifacts=done, options=options, calibration=source)

    def infer(self, inputs=None, engine: str = "float", progress=None) -> RunResult:
        """The float64 reference ("float") or the authors' float32 order ("float32") on inputs;
        engine "int" quantizes with the defaults first (use quantize(...).infer for other settings)."""
        if engine == "int":
            return self.quantize().infer(inputs, progress)
        chosen = self.inputs(inputs)
        if engine == "float":
            folded = run_pipeline(Artifacts(source=self.path, network=self.network), until="fold").folded
            return run_batched(lambda c: run_float(folded, c), chosen.counts, progress=progress)
        if engine == "float32":
            if self.network.config.nir_dialect:
                raise ConfigError("engine float32 is the SiLIF authors' torch operation order; for a NIR graph use "
                                  "--engine float (engine=\"float\" in Python: float64, it reproduces the producers' "
                                  "spikes, docs/nir.md) or int")
            return run_batched(lambda c: run_float32(self.network, c), chosen.counts, progress=progress)
        raise ConfigError(f"engine {engine!r}: choose one of {', '.join(ENGINES)}")


@dataclass(frozen=True, eq=False)
class Check:
    """Float64 vs integer reference on the same inputs (`silifc check`)."""

    report: FidelityReport
    inputs: Inputs
    float_result: RunResult
    int_result: RunResult


@dataclass(frozen=True, eq=False)
class QuantizedModel:
    """A folded and quantized model (silifc.ir.QuantNetwork) and how it was calibrated."""

    model: Model
    artifacts: Artifacts
    options: Options
    calibration: Calibration

    @property
    def quantized(self) -> QuantNetwork:
        return self.artifacts.quantized

    @property
    def weights(self) -> str:
        return self.options.weights

    def inputs(self, value=None) -> Inputs:
        return self.model.inputs(value)

    def infer(self, inputs=None, progress=None) -> RunResult:
        """The integer reference: bit for bit what the firmware computes."""
        chosen = self.inputs(inputs)
        return run_batched(lambda c: run_int(self.quantized, c), chosen.counts, progress=progress)

    def check(self, inputs=None, progress=None) -> Check:
        """Float64 vs integer reference: spike flips per layer, output error, decisions, headroom."""
        chosen = self.inputs(inputs)
        float_result = run_batched(lambda c: run_float(self.artifacts.folded, c), chosen.counts, progress=progress)
        int_result = run_batched(lambda c: run_int(self.quantized, c), chosen.counts, progress=progress)
        report = compare(self.quantized, chosen.counts, float_result, int_result, chosen.labels)
        return Check(report=report, inputs=chosen, float_result=float_result, int_result=int_result)

    def compile(self, board: str | Board = "nrf52840", output: str | Path | None = None, prefix: str = "silifc",
                synapses: str = "event", layout: str = "project", sample=None, progress=None) -> "CompiledModel":
        """A C project for the board (memory plan checked first). output: its folder (None: a folder
        in the build cache). layout: "project" (Makefile, CMake library, Zephyr module) or "arduino"
        (an Arduino library). sample: the inputs whose first sample the project embeds for `make run`
        and the Renode self-check (None: seeded random events)."""
        board = board if isinstance(board, Board) else load_board(board)
        if layout not in LAYOUTS:
            raise ConfigError(f"layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
        options = dataclasses.replace(self.options, board=board, prefix=prefix, synapses=synapses,
                                      output=None if output is None else Path(output), progress=progress)
        planned = run_pipeline(self.artifacts, options, until="plan")
        if layout == "arduino":
            if output is None:
                raise ConfigError("the Arduino layout needs an output folder")
            library = write_arduino_library(self.quantized, options.compile_options(), output, plan=planned.plan)
            return CompiledModel(quantized=self, artifacts=planned, options=options, arduino=library)
        done = run_pipeline(planned, options, until="emit")
        for part in KEYWORD_APP_PARTS + ((RENODE_PART,) if board.renode is None else ()):
            remove_generated(done.project.directory, part)
        compiled = CompiledModel(quantized=self, artifacts=done, options=options)
        compiled.write_sample(sample)
        return compiled


@dataclass(frozen=True, eq=False)
class FirmwareResult:
    """The firmware in QEMU against the integer reference on the same inputs (`silifc run`)."""

    report: FirmwareRunReport     # outputs, instruction and cycle counts per step and phase
    reference: RunResult          # the integer reference
    inputs: Inputs
    board: Board
    profile: StepProfile          # per layer and step (silifc.target.profile)
    spikes_compared: bool
    time_step_ms: float           # the model's step: the real-time budget
    plan: MemoryPlan

    @property
    def result(self) -> RunResult:
        return self.report.result

    @property
    def decisions(self) -> np.ndarray:
        return self.report.result.decisions

    @property
    def outputs_equal(self) -> np.ndarray:
        """[samples] True where every total equals the reference's."""
        return np.all(self.report.result.outputs == self.reference.outputs, axis=1)

    @property
    def decisions_equal(self) -> np.ndarray:
        return self.report.result.decisions == self.reference.decisions

    @property
    def spike_mismatches(self) -> list[int] | None:
        if not self.spikes_compared:
            return None
        return [int((a != b).sum()) for a, b in zip(self.report.result.spikes, self.reference.spikes)]

    @property
    def bit_exact(self) -> bool:
        return bool(self.outputs_equal.all() and self.decisions_equal.all() and not any(self.spike_mismatches or []))

    @property
    def instructions_per_step(self) -> float:
        return self.report.instructions_per_step

    @property
    def cycles_per_step(self) -> float | None:
        """Mean estimated cycles per step; None on a core without a cycle model."""
        return self.report.cycles_per_step

    @property
    def budget_cycles(self) -> float:
        """Cycles in one step of real time at the board's clock."""
        return self.board.clock_hz * self.time_step_ms / 1000.0

    @property
    def stack(self) -> StackUsage | None:
        """The firmware's worst-case stack (gcc's call graph; None where it cannot be bounded)."""
        return self.report.stack

    @property
    def over_budget(self) -> BudgetOverrun | None:
        """The steps over the real-time budget (estimated cycles where the core has a cycle model,
        else instructions, a lower bound of cycles), or None when every step fits."""
        steps = self.inputs.counts.shape[1]
        if self.profile.has_cycles:
            return budget_overrun(self.profile.total_cycles, steps, self.budget_cycles,
                                  f"est. {self.report.cycle_model} cycles")
        return budget_overrun(self.profile.total, steps, self.budget_cycles, "instructions")

    @property
    def accuracy(self) -> float | None:
        if self.inputs.labels is None:
            return None
        return float((self.decisions == self.inputs.labels).mean())


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A generated project (or Arduino library) for a board."""

    quantized: QuantizedModel
    artifacts: Artifacts
    options: Options
    arduino: ArduinoLibrary | None = None

    @property
    def board(self) -> Board:
        return self.options.board

    @property
    def plan(self) -> MemoryPlan:
        return self.artifacts.plan

    @property
    def project(self) -> Project | None:
        return self.artifacts.project

    @property
    def directory(self) -> Path:
        return self.arduino.directory if self.arduino is not None else self.project.directory

    def write_sample(self, sample=None) -> None:
        """app/sample.slfi (what `make run` runs) from the inputs' first sample."""
        chosen = self.quantized.inputs(sample)
        write_generated(self.project.directory, {SAMPLE_INPUT: encode_events(chosen.counts[:1])}, part=SAMPLE_PART)

    def renode(self, sample=None) -> RenodeFiles | None:
        """The Renode self-check (for boards with a Renode platform) on the first sample."""
        if self.board.renode is None or self.project is None:
            return None
        return write_renode_files(self.project, self.quantized.quantized, self.quantized.inputs(sample).counts[0])

    def _need_project(self, what: str) -> None:
        if self.project is None:
            raise ConfigError(f"{what} needs the default project layout, not the Arduino library")

    def build(self) -> FirmwareImage:
        """The emulator test firmware, built with arm-none-eabi-gcc (cached on the sources' digest)."""
        self._need_project("build")
        return run_pipeline(self.artifacts, self.options, until="build").image

    def run(self, inputs=None, spikes: bool = False, progress=None) -> FirmwareResult:
        """Build (cached) and run the firmware in QEMU on inputs, with exact instruction counts,
        compared with the integer reference (every hidden spike too with spikes=True).
        progress: called with (samples done, samples) while QEMU runs."""
        self._need_project("run")
        board = check_runnable(self.board)
        chosen = self.quantized.inputs(inputs)
        options = dataclasses.replace(self.options, inputs=chosen.counts, record_spikes=spikes, run_progress=progress)
        done = run_pipeline(self.artifacts, options, until="run")
        quantized = self.quantized.quantized
        reference = run_int(quantized, chosen.counts)
        profile = profile_run(done.report, quantized, chosen.counts, reference.spikes, self.options.synapses,
                              _layer_names(done.project))
        return FirmwareResult(report=done.report, reference=reference, inputs=chosen, board=board,
                              profile=profile, spikes_compared=spikes,
                              time_step_ms=quantized.config.time_step_ms, plan=done.plan)


def _layer_names(project: Project) -> list[str]:
    import json

    return json.loads((project.directory / "memory_report.json").read_text())["layers"]

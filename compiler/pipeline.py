"""The compiler as a list of named stages, run in order:

    load -> fold -> quantize -> plan -> emit -> build -> run

Each stage is a function of the artifacts so far and the options, and adds one artifact;
every artifact is a frozen dataclass, so any stage can be tested, printed or replaced
alone. `run_pipeline` starts from whatever artifacts it is given (a checkpoint path, an
in-memory network, a quantized network, ...) and runs the stages whose artifact is still
missing, up to `until`. The CLI, the keyword app, the Python callers in bench/ and the
tests all go through it.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .codegen.boards import Board
from .codegen.emit import CompileOptions, Project, plan_project, write_project
from .codegen.memory import SYNAPSE_CHOICES, MemoryPlan, check_fits, plan_from_shapes
from .codegen.runtime import runtime_digest
from .errors import ConfigError
from .ir import WEIGHT_FORMATS, FoldedNetwork, Network, QuantNetwork
from .io.models import load_model
from .passes.fold import fold_network
from .io.files import check_output_folder
from .passes.check import check_folded, check_network, check_quantized
from .passes.quantize import DEFAULT_HEADROOM, check_headroom, quantize_network
from .reference.results import RunResult, concat_results
from .target.cache import build_folder
from .target.firmware import FirmwareRunReport, build_project, run_model
from .target.toolchain import FirmwareImage


@dataclass(frozen=True)
class Options:
    weights: str = "int8"                         # a WEIGHT_FORMATS key
    headroom: float = DEFAULT_HEADROOM
    calibration: np.ndarray | None = None         # [B, T, inputs] counts; None: seeded random events
    config_overrides: dict | None = None          # ModelConfig fields given as options
    board: Board | None = None                    # plan, emit, build, run
    prefix: str = "silifc"
    synapses: str = "event"                       # "event" or "dense"
    output: Path | None = None                    # project folder (None: a folder in the build cache)
    inputs: np.ndarray | None = None              # run: [B, T, inputs] counts
    record_spikes: bool = False                   # run: also read back every hidden spike
    progress: Callable[[str], None] | None = field(default=None, compare=False)   # messages on long work
    run_progress: Callable[[int, int], None] | None = field(default=None, compare=False)  # run: (samples done, samples)

    def __post_init__(self):
        """Options are checked when made, before any stage runs."""
        self.weight_bits                                    # noqa: B018  (raises for an unknown format)
        check_headroom(self.headroom)
        if self.synapses not in SYNAPSE_CHOICES:
            raise ConfigError(f"synapses {self.synapses!r}: choose one of {', '.join(SYNAPSE_CHOICES)}")
        if self.output is not None:
            check_output_folder(self.output)

    @property
    def weight_bits(self) -> int:
        if self.weights not in WEIGHT_FORMATS:
            raise ConfigError(f"weights {self.weights!r}: choose one of {', '.join(WEIGHT_FORMATS)}")
        return WEIGHT_FORMATS[self.weights]

    def compile_options(self) -> CompileOptions:
        if self.board is None:
            raise ConfigError("this stage needs a board (Options.board)")
        return CompileOptions(board=self.board, prefix=self.prefix, weights=self.weights, synapses=self.synapses)


@dataclass(frozen=True, eq=False)
class Artifacts:
    source: Path | None = None                    # the model file
    network: Network | None = None                # load
    folded: FoldedNetwork | None = None           # fold
    quantized: QuantNetwork | None = None         # quantize
    plan: MemoryPlan | None = None                # plan
    project: Project | None = None                # emit
    image: FirmwareImage | None = None            # build
    report: FirmwareRunReport | None = None       # run


@dataclass(frozen=True)
class Stage:
    name: str
    produces: str                                 # the Artifacts field it fills
    run: Callable[[Artifacts, Options], object]
    summary: str


def _project_folder(artifacts: Artifacts, options: Options) -> Path:
    """options.output, else a build-cache folder per model file, board and compile options."""
    if options.output is not None:
        return Path(options.output)
    q = artifacts.quantized
    key = hashlib.sha256(f"{q.sha256}|{options.board.name}|{options.weights}|{options.prefix}|{q.headroom}|"
                         f"{options.synapses}|{runtime_digest()}".encode())
    return build_folder(key.hexdigest()[:20])


def _fold(artifacts: Artifacts, options: Options) -> FoldedNetwork:
    """Fold a checked network; with a board, refuse a model whose buffers cannot fit it, decided
    from the layer shapes alone (before calibration allocates anything)."""
    folded = check_folded(fold_network(check_network(artifacts.network)))
    _check_fit_from_shapes(folded, options)
    return folded


def _check_fit_from_shapes(folded: FoldedNetwork, options: Options) -> None:
    if options.board is not None:
        check_fits(plan_from_shapes(folded, options.board, options.prefix, options.synapses, options.weight_bits),
                   options.weights)


def _quantize(artifacts: Artifacts, options: Options) -> QuantNetwork:
    folded = check_folded(artifacts.folded)
    _check_fit_from_shapes(folded, options)
    return check_quantized(quantize_network(folded, options.calibration, options.weight_bits, options.headroom))


STAGES: tuple[Stage, ...] = (
    Stage("load", "network", lambda a, o: check_network(load_model(a.source, o.config_overrides)),
          "checkpoint (authors' state dict or native file) -> raw graph IR; refuses empty or too wide layers"),
    Stage("fold", "folded", _fold,
          "batch norm, dt and input gains folded into per-neuron weights, biases and decays; refuses constants "
          "that are not finite or out of range, and (with a board) a model whose shapes cannot fit it"),
    Stage("quantize", "quantized", _quantize,
          "calibrated fixed point: int8/int16 weights, Q31 decays, proven int32 currents; every integer checked "
          "against its C type"),
    Stage("plan", "plan", lambda a, o: plan_project(a.quantized, o.compile_options()),
          "every buffer in flash and RAM, checked against the board before any C is written"),
    Stage("emit", "project", lambda a, o: write_project(a.quantized, o.compile_options(), _project_folder(a, o), a.plan),
          "model sources, runtime copy, board files, build files (never over a file silifc did not write)"),
    Stage("build", "image", lambda a, o: build_project(a.project, o.progress),
          "arm-none-eabi-gcc, cached on the generated files' digest"),
    Stage("run", "report", lambda a, o: run_model(a.project, a.image, a.quantized, o.inputs, o.record_spikes,
                                                  progress=o.run_progress),
          "the firmware in QEMU on the inputs (checked: shape, counts, the event limit), with exact instruction counts"),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)


def run_pipeline(start: Artifacts | str | Path, options: Options = Options(), until: str = "quantize") -> Artifacts:
    """Run the stages after the latest artifact `start` holds, in order, through stage `until`
    (nothing when `start` already holds that stage's artifact)."""
    if until not in STAGE_NAMES:
        raise ConfigError(f"unknown stage {until!r}; the stages are {', '.join(STAGE_NAMES)}")
    artifacts = start if isinstance(start, Artifacts) else Artifacts(source=Path(start))
    done = [index for index, stage in enumerate(STAGES) if getattr(artifacts, stage.produces) is not None]
    first = done[-1] + 1 if done else 0
    for stage in STAGES[first:STAGE_NAMES.index(until) + 1]:
        artifacts = dataclasses.replace(artifacts, **{stage.produces: stage.run(artifacts, options)})
    return artifacts


def build_model_firmware(quantized: QuantNetwork, board: Board, weights: str = "int8", prefix: str = "silifc",
                         work_dir: str | Path | None = None, progress=None,
                         synapses: str = "event") -> tuple[Project, FirmwareImage]:
    """plan -> emit -> build for a quantized network: its project (in work_dir, else the build
    cache) and firmware, rebuilt only when a generated file changed."""
    options = Options(weights=weights, board=board, prefix=prefix, synapses=synapses,
                      output=None if work_dir is None else Path(work_dir), progress=progress)
    done = run_pipeline(Artifacts(quantized=quantized), options, until="build")
    return done.project, done.image


def run_batched(engine, counts: np.ndarray, batch: int = 32, progress=None) -> RunResult:
    """Run `engine(counts_batch)` over sample batches, reporting progress for long inputs."""
    total = counts.shape[0]
    parts = []
    for start in range(0, total, batch):
        parts.append(engine(counts[start:start + batch]))
        if progress is not None and total > batch:
            progress(min(start + batch, total), total)
    return concat_results(parts)

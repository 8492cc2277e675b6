"""Keyword spotting on an endless audio stream: the streaming detector (specification of
runtime_c/frontend/slf_detect.h), the integer reference of the whole always-listening
pipeline, and the streaming firmware (templates/audio/). docs/kws.md describes the design.

Pipeline, per 4 ms step (64 samples at 16 kHz), identical on the host and the device:

    PCM -> front end (silifc.audio.frontend) -> counts -> events -> network step
        -> p = this step's softmax (Q16) -> detector -> "detected <word> at <t> ms"

1. The network, the front end and the detector run without resets, for ever.
2. p comes from the model API's `<prefix>_probabilities()` (the readout's softmax of this
   step), which stays exact when the decision totals saturate (after >= 131 s), so the app
   never re-initialises the network.
3. The detector keeps a leaky sum of p per class and reports a keyword that leads and
   crosses a threshold, with a refractory period and re-arming (see `Detector`).

`run_stream` is the reference (the host `silifc listen`), `run_audio_firmware` the same
pipeline in QEMU; both return a `StreamTrace` so that tests compare them for equality.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import struct
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from . import fixedpoint as fx
from .errors import ConfigError, SilifcError

PROB_ONE = 1 << fx.OUTPUT_FRAC_BITS      # Q16 probability 1.0, the largest softmax value
MAX_SHIFT = 14                           # SLF_DETECT_MAX_SHIFT
NONE = -1                                # SLF_DETECT_NONE
KWS_CLASSES = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "unknown", "silence")
KWS_KEYWORDS = 10
BUNDLED_DIR = "kws"
BUNDLED_MODEL = "kws_silif.pt"
BUNDLED_WAV = "stream.wav"
_CLASS_NAME = re.compile(r"[A-Za-z0-9_-]{1,31}\Z")


class KwsError(SilifcError):
    pass


def bundled_path(name: str) -> Path:
    """A file of models/kws/ (the bundled keyword model, its calibration data and stream)."""
    return Path(str(files("silifc.models") / BUNDLED_DIR / name))


def kws_model_path(value: str | None) -> Path:
    """A path, a bundled model name (`kws_silif.pt`), or None: the bundled keyword model."""
    from .cli import _model_path

    return bundled_path(BUNDLED_MODEL) if value is None else _model_path(value)


# ---------------------------------------------------------------- detector

@dataclass(frozen=True)
class DetectorConfig:
    """The detector's settings in physical units (docs/kws.md, "Tuning")."""

    # Defaults: tuned for the bundled model on streams of validation voices (bench/kws.py tune).
    shift: int = 7               # leaky sum over 2^shift steps (128 steps = 512 ms)
    on: float = 0.12             # detect a leading keyword once its average probability reaches this
    off: float = 0.08            # a detected keyword re-arms once its average falls below this
    hold_ms: float = 300.0       # refractory period after a detection

    def __post_init__(self):
        if not 0 <= self.shift <= MAX_SHIFT:
            raise ConfigError(f"detector shift must be 0..{MAX_SHIFT}, got {self.shift}")
        if not 0 < self.on <= 1 or not 0 <= self.off <= self.on:
            raise ConfigError(f"detector thresholds need 0 <= off <= on <= 1, got on={self.on}, off={self.off}")
        if self.hold_ms < 0:
            raise ConfigError(f"detector hold_ms must be >= 0, got {self.hold_ms}")

    def params(self, classes: int, keywords: int, step_ms: float) -> "DetectorParams":
        scale = PROB_ONE << self.shift
        return DetectorParams(classes=classes, keywords=keywords, shift=self.shift,
                              on=max(1, round(self.on * scale)), off=round(self.off * scale),
                              hold_steps=round(self.hold_ms / step_ms))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DetectorParams:
    """The integers of `slf_detect_params` (same names, same ranges)."""

    classes: int
    keywords: int
    shift: int
    on: int                      # acc units: Q16 probability * 2^shift
    off: int
    hold_steps: int

    def __post_init__(self):
        if not 1 <= self.classes <= fx.MAX_CLASSES or not 1 <= self.keywords <= self.classes:
            raise ConfigError(f"detector: need 1 <= keywords <= classes <= {fx.MAX_CLASSES}, "
                              f"got {self.keywords} keywords of {self.classes} classes")
        if not 0 <= self.shift <= MAX_SHIFT or not 1 <= self.on < 2 ** 32 or not 0 <= self.off <= self.on:
            raise ConfigError(f"detector: shift 0..{MAX_SHIFT}, 1 <= on < 2^32 and 0 <= off <= on needed, "
                              f"got shift={self.shift} on={self.on} off={self.off}")
        if not 0 <= self.hold_steps <= 0xFFFF:
            raise ConfigError(f"detector: hold_steps must be 0..65535, got {self.hold_steps}")

    def c_fields(self) -> list[tuple[str, object]]:
        """(member, value) of `slf_detect_params` in declaration order."""
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]


class Detector:
    """The specification of slf_detect_step_q16 (one step per call; state carried)."""

    def __init__(self, params: DetectorParams):
        self.params = params
        self.acc = np.zeros(params.classes, np.int64)
        self.hold = 0
        self.last = NONE
        self.idle = True

    def step(self, p) -> int:
        """p: this step's Q16 probabilities [classes]. Returns the detected keyword or NONE."""
        P = self.params
        self.acc = (self.acc - (self.acc >> P.shift) + np.asarray(p, np.int64)) & 0xFFFFFFFF   # uint32 as in C
        if self.hold > 0:
            self.hold -= 1
        if self.last >= 0 and self.acc[self.last] < P.off:
            self.last = NONE
        best = int(self.acc.argmax())                 # lowest index on ties, as the C loop
        detected = NONE
        if self.hold == 0 and best < P.keywords and best != self.last and self.acc[best] >= P.on:
            detected = best
            self.last = best
            self.hold = P.hold_steps
        self.idle = self.hold == 0 and not bool((self.acc[:P.keywords] >= P.off).any())
        return detected


# ---------------------------------------------------------------- the stream reference

@dataclass(frozen=True)
class Detection:
    cls: int
    word: str
    step: int
    time_ms: int                 # stream time when the detector fired: the end of the step's audio

    def line(self) -> str:
        return f"detected {self.word} at {self.time_ms} ms"


@dataclass(frozen=True, eq=False)
class StreamTrace:
    """Everything the always-listening pipeline computed, step by step (host or firmware)."""

    counts: np.ndarray           # [T, bands] front-end output
    probabilities: np.ndarray    # [T, classes] each step's softmax (Q16), `<prefix>_probabilities()`
    detected: np.ndarray         # [T] detected keyword or NONE
    detections: tuple[Detection, ...]
    step_samples: int
    sample_rate: int

    @property
    def steps(self) -> int:
        return int(self.counts.shape[0])

    def lines(self) -> list[str]:
        """What the firmware prints: one line per detection, then the summary."""
        duration = _time_ms(self.steps - 1, self.step_samples, self.sample_rate) if self.steps else 0
        return [d.line() for d in self.detections] + [
            f"end of stream: {self.steps} steps ({duration} ms), {len(self.detections)} detections"]

    def equal(self, other: "StreamTrace") -> bool:
        return (self.counts.shape == other.counts.shape and np.array_equal(self.counts, other.counts)
                and np.array_equal(self.probabilities, other.probabilities)
                and np.array_equal(self.detected, other.detected))

    def first_difference(self, other: "StreamTrace") -> str | None:
        for name in ("counts", "probabilities", "detected"):
            a, b = getattr(self, name), getattr(other, name)
            if a.shape != b.shape:
                return f"{name}: shapes {list(a.shape)} and {list(b.shape)}"
            rows = np.nonzero((a != b).reshape(a.shape[0], -1).any(axis=1))[0]
            if rows.size:
                return f"{name}: first difference at step {int(rows[0])} ({rows.size} steps differ)"
        return None


def _time_ms(step: int, step_samples: int, sample_rate: int) -> int:
    """Stream time at the end of step `step`, rounded to ms (the firmware's integer formula)."""
    return ((step + 1) * step_samples * 1000 + sample_rate // 2) // sample_rate


class StreamingNetwork:
    """The integer reference (int_ref's kernels) run chunk by chunk with its state carried,
    so that a stream of any length takes bounded memory. `probabilities` returns each
    step's readout softmax (Q16): what the model adds to its totals in that step."""

    def __init__(self, quantized):
        self.quantized = quantized
        self.reset()

    def reset(self) -> None:
        """The state `<prefix>_init()` sets: everything zero."""
        q = self.quantized
        self.history = [np.zeros((0, layer.synapses.n_in), np.int64) for layer in q.layers]
        self.state = [tuple(np.zeros(layer.synapses.n_out, np.int64) for _ in range(3)) for layer in q.hidden]
        self.readout_u = np.zeros(q.n_classes, np.int64)

    def _currents(self, index: int, x: np.ndarray) -> np.ndarray:
        """[L, n_in] -> [L, n_out] currents; earlier inputs reach through delays (history)."""
        from . import int_ref

        synapses = self.quantized.layers[index].synapses
        depth = 0 if synapses.delays is None else int(synapses.delays.max(initial=0))
        joined = np.concatenate([self.history[index], x])
        self.history[index] = joined[len(joined) - depth:] if depth else joined[:0]
        return int_ref.layer_currents(joined[None], synapses)[0][len(joined) - len(x):]

    def probabilities(self, counts) -> np.ndarray:
        from . import int_ref

        x = np.asarray(counts, dtype=np.int64)
        for index, layer in enumerate(self.quantized.hidden):
            currents = self._currents(index, x)
            update = int_ref.silif_update if layer.kind == "silif" else int_ref.csilif_update
            a, b, s = self.state[index]
            spikes = np.zeros(currents.shape, np.int64)
            for t in range(len(currents)):
                a, b, s = update(a, b, s, currents[t], layer)
                spikes[t] = s
            self.state[index] = (a, b, s)
            x = spikes
        readout = self.quantized.readout
        currents = self._currents(len(self.quantized.layers) - 1, x)
        p = np.zeros(currents.shape, np.int64)
        u = self.readout_u
        for t in range(len(currents)):
            u = int_ref.readout_update(u, currents[t], readout)
            p[t] = fx.softmax_q16(u, readout.exp_mult, readout.exp_shift)
        self.readout_u = u
        return p


def step_probabilities(quantized, counts) -> np.ndarray:
    """counts [T, inputs] from the zero state -> [T, classes] per-step softmax (Q16)."""
    return StreamingNetwork(quantized).probabilities(counts)


CHUNK_STEPS = 2048


def run_stream(quantized, counts, params: DetectorParams, classes, step_samples: int = 64,
               sample_rate: int = 16000) -> StreamTrace:
    """The always-listening pipeline after the front end: network (never reset), this step's
    softmax, detector."""
    counts = np.asarray(counts)
    steps = counts.shape[0]
    probabilities = np.zeros((steps, params.classes), np.int64)
    detected = np.full(steps, NONE, np.int64)
    network = StreamingNetwork(quantized)
    detector = Detector(params)
    detections = []
    for start in range(0, steps, CHUNK_STEPS):
        chunk = network.probabilities(counts[start:start + CHUNK_STEPS])
        probabilities[start:start + len(chunk)] = chunk
        for t, p in enumerate(chunk, start):
            found = detector.step(p)
            detected[t] = found
            if found != NONE:
                detections.append(Detection(found, classes[found], t, _time_ms(t, step_samples, sample_rate)))
    return StreamTrace(counts=counts.astype(np.int64), probabilities=probabilities, detected=detected,
                       detections=tuple(detections), step_samples=step_samples, sample_rate=sample_rate)


# ---------------------------------------------------------------- a keyword model

@dataclass(frozen=True, eq=False)
class KwsModel:
    path: Path
    quantized: object            # QuantNetwork
    classes: tuple[str, ...]
    keywords: int
    frontend: object             # FrontEndConfig
    detector: DetectorConfig
    calibration: str             # where the state formats were calibrated

    @property
    def step_ms(self) -> float:
        return self.frontend.step_ms

    @property
    def params(self) -> DetectorParams:
        return self.detector.params(len(self.classes), self.keywords, self.step_ms)

    def counts(self, pcm) -> np.ndarray:
        from .audio.frontend import FrontEnd

        return FrontEnd(self.frontend).process(pcm)

    def listen(self, pcm) -> StreamTrace:
        """PCM (int16 [n], 16 kHz) -> the integer reference of the streaming firmware."""
        return run_stream(self.quantized, self.counts(pcm), self.params, self.classes,
                          self.frontend.step_samples, self.frontend.sample_rate)


def kws_settings(meta: dict, n_inputs: int, n_classes: int) -> dict:
    """classes, keywords, front end, detector and calibration file of a model: from its
    native meta["kws"] (written by bench/kws.py), else the keyword data set's defaults."""
    from .audio.frontend import FrontEndConfig

    kws = dict(meta.get("kws", {}))
    classes = tuple(kws.get("classes", KWS_CLASSES if n_classes == len(KWS_CLASSES) else
                            [f"class{k}" for k in range(n_classes)]))
    keywords = int(kws.get("keywords", KWS_KEYWORDS if classes == KWS_CLASSES else n_classes))
    if len(classes) != n_classes:
        raise KwsError(f"the model has {n_classes} classes but its kws meta names {len(classes)}")
    bad = [name for name in classes if not _CLASS_NAME.match(str(name))]
    if bad:
        raise KwsError(f"class names must be 1-31 letters, digits, '_' or '-' (printed by the firmware): {bad}")
    frontend = FrontEndConfig.from_dict(kws["frontend"]) if "frontend" in kws else FrontEndConfig(bands=n_inputs)
    if frontend.bands != n_inputs:
        raise KwsError(f"the front end has {frontend.bands} bands but the model takes {n_inputs} inputs")
    detector = DetectorConfig(**kws.get("detector", {}))
    return {"classes": classes, "keywords": keywords, "frontend": frontend, "detector": detector,
            "calibration": kws.get("calibration")}


def load_kws_model(path: str | Path | None = None, weights: str = "int8", headroom: float | None = None,
                   calibration: str | Path | None = None, overrides: dict | None = None,
                   detector: DetectorConfig | None = None) -> KwsModel:
    """Load, fold and quantize a keyword model. Calibration: the given file, else the one its
    meta names (beside the model), else seeded random events (poor for audio: said so)."""
    from .errors import CheckpointError
    from .fold import fold_network
    from .inputs import load_input
    from .native import load_model, read_native
    from .pipeline import WEIGHT_CHOICES
    from .quantize import DEFAULT_HEADROOM, quantize_network

    path = kws_model_path(None if path is None else str(path))
    try:
        network, _, meta = read_native(path, overrides)
    except CheckpointError:               # the authors' format (no meta), or an error load_model names
        network, meta = load_model(path, overrides), {}
    settings = kws_settings(meta, network.n_inputs, network.widths[-1])
    if calibration is None and settings["calibration"]:
        calibration = path.parent / settings["calibration"]
    counts = None
    if calibration is not None:
        counts = load_input(str(calibration), network.n_inputs, network.config).counts
    quantized = quantize_network(fold_network(network), counts, WEIGHT_CHOICES[weights],
                                 DEFAULT_HEADROOM if headroom is None else headroom)
    return KwsModel(path=path, quantized=quantized, classes=settings["classes"], keywords=settings["keywords"],
                    frontend=settings["frontend"], detector=detector or settings["detector"],
                    calibration=str(calibration) if calibration is not None else "seeded random events")


# ---------------------------------------------------------------- firmware

AUDIO_MARKERS = ("audio_phase_input", "audio_phase_frontend", "audio_phase_network", "audio_phase_detect",
                 "audio_phase_output")
PER_STEP_PHASES = ("audio_phase_frontend", "audio_phase_network", "audio_phase_detect")
TRACE_MAGIC = 0x544B4C53  # "SLKT"
TRACE_VERSION = 2         # per step: counts (padded to 4 bytes), p [classes] int32, detected int32
EXIT_MESSAGES = {10: "bad command line", 11: "cannot open or read the WAV file",
                 12: "the WAV file is not 16 kHz mono 16-bit PCM", 13: "model error", 14: "cannot write the trace"}


@dataclass(frozen=True)
class AudioProject:
    directory: Path
    project: object              # codegen.Project (the model)
    sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    digest: str


@functools.lru_cache(maxsize=1)
def _audio_templates():
    import jinja2

    root = files("silifc.templates") / "audio"
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_audio_project(model: KwsModel, board, out_dir: str | Path, prefix: str = "silifc",
                        weights: str = "int8", synapses: str = "event") -> AudioProject:
    """The model project (codegen.write_project) plus audio/: the streaming app, the PCM
    source for the emulator, the front-end and detector constants, and the front-end and
    detector runtime (runtime/frontend/)."""
    from . import __version__
    from .audio.frontend import design
    from .board import compiler_flags
    from .codegen import CompileOptions, write_project

    out_dir = Path(out_dir)
    options = CompileOptions(board=board, prefix=prefix, weights=weights, synapses=synapses)
    project = write_project(model.quantized, options, out_dir)
    constants = design(model.frontend)
    scalars = [(name, value) for name, _, value in constants.c_fields() if not isinstance(value, tuple)]
    arrays = [(name, ctype, [list(value[i:i + 8]) for i in range(0, len(value), 8)])
              for name, ctype, value in constants.c_fields() if isinstance(value, tuple)]
    source = Path(model.quantized.source).name or "<in-memory model>"
    digest = model.quantized.sha256[:16] if model.quantized.sha256 else "not from a file"
    context = {
        "banner": (f"Generated by silifc {__version__} from {source} (sha256 {digest}...) for board {board.name}: "
                   f"always-listening keyword app. Do not edit: regenerate with `silifc compile --audio`."),
        "prefix": prefix, "PREFIX": prefix.upper(), "board": board, "cflags": " ".join(compiler_flags(board)),
        "classes": list(model.classes), "keywords": model.keywords, "n_classes": len(model.classes),
        "fe_scalars": scalars, "fe_arrays": arrays, "bands": constants.bands,
        "step_samples": constants.step_samples, "sample_rate": model.frontend.sample_rate,
        "step_ms": model.step_ms, "detector": model.params.c_fields(), "detector_config": model.detector,
        "trace_magic": TRACE_MAGIC, "trace_version": TRACE_VERSION,
        "markers": AUDIO_MARKERS,
    }
    env = _audio_templates()
    rendered = {f"audio/{name}": env.get_template(f"{name}.j2").render(context)
                for name in ("main.c", "pcm_source.h", "pcm_source_semihost.c", "Makefile")}
    hasher = hashlib.sha256(project.digest.encode())
    for relative in sorted(rendered):
        _write(out_dir / relative, rendered[relative])
        hasher.update(relative.encode() + b"\0" + rendered[relative].encode() + b"\0")
    frontend_dir = out_dir / "runtime" / "frontend"
    runtime_sources = []
    root = files("silifc.runtime_c") / "frontend"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".c", ".h")):
            text = entry.read_text(encoding="utf-8")
            _write(frontend_dir / entry.name, text)
            hasher.update(entry.name.encode() + b"\0" + text.encode() + b"\0")
            if entry.name.endswith(".c"):
                runtime_sources.append(frontend_dir / entry.name)
    sources = (out_dir / "audio" / "main.c", out_dir / "audio" / "pcm_source_semihost.c",
               *project.model_sources, *runtime_sources)
    return AudioProject(directory=out_dir, project=project, sources=sources,
                        include_dirs=(*project.include_dirs, frontend_dir, out_dir / "audio"),
                        digest=hasher.hexdigest())


def build_audio_firmware(model: KwsModel, board, weights: str = "int8", prefix: str = "silifc",
                         work_dir: str | Path | None = None, progress=None, synapses: str = "event"):
    """Generate and build the streaming firmware (cached on the generated files' digest)."""
    from .emulator import FirmwareImage, RegionUsage, build_firmware, cache_dir

    if work_dir is None:
        key = hashlib.sha256(f"audio|{model.quantized.sha256}|{board.name}|{weights}|{prefix}|"
                             f"{model.calibration}|{synapses}".encode())
        work_dir = cache_dir() / "builds" / f"audio-{key.hexdigest()[:16]}"
    work_dir = Path(work_dir)
    audio = write_audio_project(model, board, work_dir, prefix, weights, synapses)
    digest = audio.digest
    stamp, elf = work_dir / "build" / "audio-stamp.json", work_dir / "build" / "audio.elf"
    if stamp.exists() and elf.exists():
        cached = json.loads(stamp.read_text())
        if cached.get("digest") == digest:
            memory = {region: RegionUsage(*usage) for region, usage in cached["memory"].items()}
            return audio, FirmwareImage(elf=elf, map_file=work_dir / "build" / "audio.map", board=board,
                                        memory=memory, compiler_output=cached.get("compiler_output", ""))
    if progress:
        progress(f"building the streaming firmware for {board.name} in {work_dir}")
    image = build_firmware(audio.sources, audio.include_dirs, board, work_dir / "build", name="audio")
    stamp.write_text(json.dumps({"digest": digest, "compiler_output": image.compiler_output,
                                 "memory": {r: [u.used, u.size] for r, u in image.memory.items()}}))
    return audio, image


@dataclass(frozen=True, eq=False)
class FirmwareStream:
    trace: StreamTrace
    stdout: str
    instructions_total: int
    phase_instructions: dict     # marker -> instructions over the whole run
    flash_used: int
    ram_used: int

    def per_step(self, phase: str) -> float:
        return self.phase_instructions.get(phase, 0) / max(self.trace.steps, 1)


def _decode_trace(data: bytes, bands: int, classes: tuple[str, ...], step_samples: int,
                  sample_rate: int) -> StreamTrace:
    magic, version, n_bands, n_classes = struct.unpack_from("<4I", data)
    if magic != TRACE_MAGIC or version != TRACE_VERSION or n_bands != bands or n_classes != len(classes):
        raise KwsError(f"unexpected trace header {(hex(magic), version, n_bands, n_classes)}")
    padded = (bands + 3) // 4 * 4
    record = np.dtype([("counts", np.uint8, padded), ("probabilities", "<i4", n_classes), ("detected", "<i4")])
    body = data[16:]
    if len(body) % record.itemsize:
        raise KwsError(f"truncated trace: {len(body)} bytes is not a whole number of {record.itemsize}-byte steps")
    rows = np.frombuffer(body, dtype=record)
    detected = rows["detected"].astype(np.int64)
    detections = tuple(Detection(int(k), classes[int(k)], int(t), _time_ms(int(t), step_samples, sample_rate))
                       for t, k in enumerate(detected) if k != NONE)
    return StreamTrace(counts=rows["counts"][:, :bands].astype(np.int64),
                       probabilities=rows["probabilities"].astype(np.int64), detected=detected,
                       detections=detections, step_samples=step_samples, sample_rate=sample_rate)


def run_audio_firmware(audio: AudioProject, image, model: KwsModel, wav: str | Path,
                       insn_limit: int | None = None, timeout: float = 1800) -> FirmwareStream:
    """Run the streaming firmware in QEMU on a WAV file; returns its trace and costs."""
    from .emulator import run_firmware

    wav = Path(wav).resolve()
    with tempfile.TemporaryDirectory(prefix="silifc-audio-") as tmp:
        trace_path = Path(tmp) / "trace.bin"
        run = run_firmware(image, image.board, args=[str(wav), str(trace_path)], insn_limit=insn_limit,
                           timeout=timeout, markers=AUDIO_MARKERS, check=True)
        if run.exit_status != 0:
            raise KwsError(f"the streaming firmware stopped with status {run.exit_status} "
                           f"({EXIT_MESSAGES.get(run.exit_status, 'unknown')}):\n{run.stdout.strip()}")
        trace = _decode_trace(trace_path.read_bytes(), model.frontend.bands, model.classes,
                              model.frontend.step_samples, model.frontend.sample_rate)
    phases = {name: count.instructions for name, count in run.buckets.items() if name in AUDIO_MARKERS}
    return FirmwareStream(trace=trace, stdout=run.stdout, instructions_total=run.instructions,
                          phase_instructions=phases, flash_used=image.flash_used, ram_used=image.ram_used)


# ---------------------------------------------------------------- scoring against known words

@dataclass(frozen=True)
class StreamScore:
    hits: int                    # spoken keywords detected with the right word in time
    misses: tuple[str, ...]      # spoken keywords not detected
    wrong: tuple[str, ...]       # detections of another keyword in a word's window
    false_alarms: tuple[str, ...]  # detections outside every word's window

    @property
    def correct(self) -> bool:
        return not (self.misses or self.wrong or self.false_alarms)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def score_detections(detections, events, sample_rate: int = 16000, keywords=KWS_CLASSES[:KWS_KEYWORDS],
                     late_ms: float = 1000.0) -> StreamScore:
    """Match detections to the spoken words of a stream (audio.stream.StreamEvent): a word's
    window runs from its start to `late_ms` after its end. Non-keywords need no detection."""
    windows = [(e.word, 1000.0 * e.start / sample_rate, 1000.0 * e.end / sample_rate + late_ms) for e in events]
    used: set[int] = set()
    hits, misses, wrong = 0, [], []
    for word, start, end in windows:          # first pass: the right word inside its window
        right = [i for i, d in enumerate(detections) if start <= d.time_ms <= end and d.word == word and i not in used]
        if right:
            hits += 1
            used.add(right[0])
        elif word in keywords:
            misses.append(word)
    for word, start, end in windows:          # then: other detections inside a word's window
        for i, d in enumerate(detections):
            if i not in used and start <= d.time_ms <= end:
                used.add(i)
                wrong.append(f"{d.word}@{d.time_ms}ms (said {word})")
    false_alarms = [f"{d.word}@{d.time_ms}ms" for i, d in enumerate(detections) if i not in used]
    return StreamScore(hits, tuple(misses), tuple(wrong), tuple(false_alarms))

"""The streaming keyword firmware: generate, build (cached) and run it in QEMU on a WAV file;
it writes a per-step trace that the host reference must equal.

`silifc compile --audio` adds to the model project
    kws/<prefix>_kws.h, kws/<prefix>_kws.c   the keyword pipeline as library code (templates/kws/):
                                             front end, network, detector and their constants
    runtime/frontend/                        the front-end and detector runtime
    audio/main.c, audio/pcm_source*          the emulator application: I/O only (templates/audio/)
"""
from __future__ import annotations

import contextlib
import hashlib
import struct
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..codegen.boards import compiler_flags
from ..codegen.emit import CompileOptions, write_project
from ..codegen.templates import banner, render
from ..io.files import temp_folder, write_generated
from ..progress import FileWatch
from ..target.cache import build_folder, cached_build
from ..target.qemu import cycle_model_for, run_firmware
from ..target.toolchain import build_firmware
from .audio.frontend import design
from .detector import NONE
from .model import KwsError, KwsModel
from .stream import Detection, StreamTrace, time_ms

AUDIO_MARKERS = ("audio_phase_input", "audio_phase_frontend", "audio_phase_network", "audio_phase_detect",
                 "audio_phase_output")
PER_STEP_PHASES = ("audio_phase_frontend", "audio_phase_network", "audio_phase_detect")  # called by the library
AUDIO_PART = "audio"              # the QEMU keyword app's part of a project folder (io.files.write_generated)
KWS_LIBRARY_PART = "kws"          # kws/ and runtime/frontend/: shared by the QEMU and the device app
TRACE_MAGIC = 0x544B4C53  # "SLKT"
TRACE_VERSION = 2         # per step: counts (padded to 4 bytes), p [classes] int32, detected int32
PROFILE_DEFINE = "SILIFC_KWS_PROFILE"   # the library calls PER_STEP_PHASES' markers
EXIT_MESSAGES = {10: "bad command line", 11: "cannot open or read the WAV file",
                 12: "the WAV file is not 16 kHz mono 16-bit PCM", 13: "model error", 14: "cannot write the trace"}


@dataclass(frozen=True)
class AudioProject:
    directory: Path
    project: object              # codegen.Project (the model)
    sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    digest: str


def audio_template_context(model: KwsModel, board, prefix: str, what: str = "always-listening keyword app") -> dict:
    """What the keyword templates (kws/, audio/ here, device/ in kws.device) render from:
    front-end and detector constants, classes, trace format, markers; `what` goes into the banner."""
    constants = design(model.frontend)
    scalars = [(name, value) for name, _, value in constants.c_fields() if not isinstance(value, tuple)]
    arrays = [(name, ctype, [list(value[i:i + 8]) for i in range(0, len(value), 8)])
              for name, ctype, value in constants.c_fields() if isinstance(value, tuple)]
    check = hashlib.sha256(f"{prefix}|kws|{model.quantized.sha256}".encode()).digest()
    return {
        "banner": banner(model.quantized.source, model.quantized.sha256, board.name, what, "silifc compile --audio"),
        "prefix": prefix, "PREFIX": prefix.upper(), "board": board, "cflags": " ".join(compiler_flags(board)),
        "classes": list(model.classes), "keywords": model.keywords, "n_classes": len(model.classes),
        "fe_scalars": scalars, "fe_arrays": arrays, "bands": constants.bands, "counts_padded": -(-constants.bands // 4) * 4,
        "step_samples": constants.step_samples, "sample_rate": model.frontend.sample_rate,
        "step_ms": model.step_ms, "detector": model.params.c_fields(), "detector_config": model.detector,
        "trace_magic": TRACE_MAGIC, "trace_version": TRACE_VERSION, "markers": AUDIO_MARKERS,
        "step_markers": PER_STEP_PHASES, "kws_check": int.from_bytes(check[:4], "little") | 1,
    }


def kws_library_files(model: KwsModel, board, prefix: str) -> dict[str, str]:
    """The keyword pipeline as library code, by path in a project: kws/<prefix>_kws.{h,c} and
    the front-end and detector runtime (runtime/frontend/)."""
    context = audio_template_context(model, board, prefix, "keyword spotting library")
    texts = {f"kws/{prefix}_kws.h": render("kws/kws.h.j2", context),
             f"kws/{prefix}_kws.c": render("kws/kws.c.j2", context)}
    root = files("silifc.runtime_c") / "frontend"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".c", ".h")):
            texts[f"runtime/frontend/{entry.name}"] = entry.read_text(encoding="utf-8")
    return texts


def library_sources(out_dir: Path, texts: dict[str, str]) -> list[Path]:
    """The .c files of kws_library_files() as written under out_dir."""
    return [out_dir / relative for relative in sorted(texts)
            if relative.startswith(("kws/", "runtime/frontend/")) and relative.endswith(".c")]


def kws_compile_options(model: KwsModel, board, prefix: str = "silifc", weights: str = "int8",
                        synapses: str = "event") -> CompileOptions:
    """The model's compile options in a keyword project: its class names, the kws/ library."""
    return CompileOptions(board=board, prefix=prefix, weights=weights, synapses=synapses,
                          class_names=tuple(model.classes), audio=True)


def write_hashed(out_dir: Path, rendered: dict[str, str | bytes], hasher, part: str) -> None:
    """Writes each relative path -> text (or bytes) under out_dir as `part` of the folder
    (io.files.write_generated: never over a file silifc did not write, stale files of the part
    removed, unchanged files keep their time) and feeds path and content to `hasher`, in path
    order (the build cache's digest)."""
    for relative in sorted(rendered):
        content = rendered[relative]
        hasher.update(relative.encode() + b"\0" + (content.encode() if isinstance(content, str) else content) + b"\0")
    write_generated(out_dir, rendered, part=part)


def write_audio_project(model: KwsModel, board, out_dir: str | Path, prefix: str = "silifc",
                        weights: str = "int8", synapses: str = "event") -> AudioProject:
    """The model project (codegen.write_project) plus the keyword library (kws/), its runtime
    (runtime/frontend/) and the emulator application (audio/)."""
    out_dir = Path(out_dir)
    project = write_project(model.quantized, kws_compile_options(model, board, prefix, weights, synapses), out_dir)
    context = audio_template_context(model, board, prefix)
    library = kws_library_files(model, board, prefix)
    app = {f"audio/{name}": render(f"audio/{name}.j2", context)
           for name in ("main.c", "pcm_source.h", "pcm_source_semihost.c", "Makefile")}
    hasher = hashlib.sha256(project.digest.encode())
    write_hashed(out_dir, library, hasher, KWS_LIBRARY_PART)
    write_hashed(out_dir, app, hasher, AUDIO_PART)
    texts = {**library, **app}
    sources = (out_dir / "audio" / "main.c", out_dir / "audio" / "pcm_source_semihost.c",
               *project.model_sources, *library_sources(out_dir, texts))
    return AudioProject(directory=out_dir, project=project, sources=sources,
                        include_dirs=(*project.include_dirs, out_dir / "runtime" / "frontend", out_dir / "kws",
                                      out_dir / "audio"),
                        digest=hasher.hexdigest())


def build_audio_firmware(model: KwsModel, board, weights: str = "int8", prefix: str = "silifc",
                         work_dir: str | Path | None = None, progress=None, synapses: str = "event"):
    """Generate and build the streaming firmware (cached on the generated files' digest)."""
    if work_dir is None:
        key = hashlib.sha256(f"audio|{model.quantized.sha256}|{board.name}|{weights}|{prefix}|"
                             f"{model.calibration}|{synapses}".encode())
        work_dir = build_folder(f"audio-{key.hexdigest()[:16]}")
    audio = write_audio_project(model, board, work_dir, prefix, weights, synapses)
    image = cached_build(work_dir, "audio", audio.digest, board, progress=progress,
                         build=lambda out: build_firmware(audio.sources, audio.include_dirs, board, out,
                                                          defines={PROFILE_DEFINE: None}, name="audio"))
    return audio, image


@dataclass(frozen=True, eq=False)
class FirmwareStream:
    trace: StreamTrace
    stdout: str
    instructions_total: int
    phase_instructions: dict     # marker -> instructions over the whole run
    flash_used: int
    ram_used: int
    # marker -> estimated cycles over the whole run (docs/cycles.md); None without a cycle model
    phase_cycles: dict | None = None
    cycle_model: str | None = None

    def per_step(self, phase: str) -> float:
        return self.phase_instructions.get(phase, 0) / max(self.trace.steps, 1)

    def cycles_per_step(self, phase: str) -> float | None:
        if self.phase_cycles is None:
            return None
        return self.phase_cycles.get(phase, 0) / max(self.trace.steps, 1)


def decode_trace(data: bytes, bands: int, classes: tuple[str, ...], step_samples: int,
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
    detections = tuple(Detection(int(k), classes[int(k)], int(t), time_ms(int(t), step_samples, sample_rate))
                       for t, k in enumerate(detected) if k != NONE)
    return StreamTrace(counts=rows["counts"][:, :bands].astype(np.int64),
                       probabilities=rows["probabilities"].astype(np.int64), detected=detected,
                       detections=detections, step_samples=step_samples, sample_rate=sample_rate)


def run_audio_firmware(audio: AudioProject, image, model: KwsModel, wav: str | Path,
                       insn_limit: int | None = None, timeout: float = 1800, progress=None) -> FirmwareStream:
    """Run the streaming firmware in QEMU on a WAV file; returns its trace and costs.
    progress: called with (steps done, steps) while QEMU runs (from the trace file)."""
    wav = Path(wav).resolve()
    with temp_folder("audio") as tmp:
        trace_path = tmp / "trace.bin"
        watch = contextlib.nullcontext()
        if progress is not None:
            record = (model.frontend.bands + 3) // 4 * 4 + 4 * len(model.classes) + 4
            total = max(0, (wav.stat().st_size - 44) // 2) // model.frontend.step_samples   # about: 16-bit mono
            watch = FileWatch(trace_path, lambda data: max(0, len(data) - 16) // record,
                              lambda done: progress(done, max(total, done)))
        with watch:
            run = run_firmware(image, image.board, args=[str(wav), str(trace_path)], insn_limit=insn_limit,
                               timeout=timeout, markers=AUDIO_MARKERS, check=True,
                               cycle_model=cycle_model_for(image.board))
        if run.exit_status != 0:
            raise KwsError(f"the streaming firmware stopped with status {run.exit_status} "
                           f"({EXIT_MESSAGES.get(run.exit_status, 'unknown')}):\n{run.stdout.strip()}")
        trace = decode_trace(trace_path.read_bytes(), model.frontend.bands, model.classes,
                              model.frontend.step_samples, model.frontend.sample_rate)
    phases = {name: count.instructions for name, count in run.buckets.items() if name in AUDIO_MARKERS}
    cycles = None if run.cycles is None else \
        {name: count.cycles for name, count in run.buckets.items() if name in AUDIO_MARKERS}
    return FirmwareStream(trace=trace, stdout=run.stdout, instructions_total=run.instructions,
                          phase_instructions=phases, flash_used=image.flash_used, ram_used=image.ram_used,
                          phase_cycles=cycles, cycle_model=run.cycle_model)

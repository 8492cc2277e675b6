"""The streaming keyword firmware (templates/audio/): generate, build (cached) and run it in
QEMU on a WAV file; it writes a per-step trace that the host reference must equal."""
from __future__ import annotations

import hashlib
import struct
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..codegen.boards import compiler_flags
from ..codegen.emit import CompileOptions, write_project
from ..codegen.templates import banner, render
from ..io.files import write_if_changed
from ..target.cache import build_folder, cached_build
from ..target.qemu import run_firmware
from ..target.toolchain import build_firmware
from .audio.frontend import design
from .detector import NONE
from .model import KwsError, KwsModel
from .stream import Detection, StreamTrace, time_ms

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


def write_audio_project(model: KwsModel, board, out_dir: str | Path, prefix: str = "silifc",
                        weights: str = "int8", synapses: str = "event") -> AudioProject:
    """The model project (codegen.write_project) plus audio/: the streaming app, the PCM
    source for the emulator, the front-end and detector constants, and the front-end and
    detector runtime (runtime/frontend/)."""
    out_dir = Path(out_dir)
    options = CompileOptions(board=board, prefix=prefix, weights=weights, synapses=synapses)
    project = write_project(model.quantized, options, out_dir)
    constants = design(model.frontend)
    scalars = [(name, value) for name, _, value in constants.c_fields() if not isinstance(value, tuple)]
    arrays = [(name, ctype, [list(value[i:i + 8]) for i in range(0, len(value), 8)])
              for name, ctype, value in constants.c_fields() if isinstance(value, tuple)]
    context = {
        "banner": banner(model.quantized.source, model.quantized.sha256, board.name, "always-listening keyword app",
                         "silifc compile --audio"),
        "prefix": prefix, "PREFIX": prefix.upper(), "board": board, "cflags": " ".join(compiler_flags(board)),
        "classes": list(model.classes), "keywords": model.keywords, "n_classes": len(model.classes),
        "fe_scalars": scalars, "fe_arrays": arrays, "bands": constants.bands,
        "step_samples": constants.step_samples, "sample_rate": model.frontend.sample_rate,
        "step_ms": model.step_ms, "detector": model.params.c_fields(), "detector_config": model.detector,
        "trace_magic": TRACE_MAGIC, "trace_version": TRACE_VERSION,
        "markers": AUDIO_MARKERS,
    }
    rendered = {f"audio/{name}": render(f"audio/{name}.j2", context)
                for name in ("main.c", "pcm_source.h", "pcm_source_semihost.c", "Makefile")}
    hasher = hashlib.sha256(project.digest.encode())
    for relative in sorted(rendered):
        write_if_changed(out_dir / relative, rendered[relative])
        hasher.update(relative.encode() + b"\0" + rendered[relative].encode() + b"\0")
    frontend_dir = out_dir / "runtime" / "frontend"
    runtime_sources = []
    root = files("silifc.runtime_c") / "frontend"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".c", ".h")):
            text = entry.read_text(encoding="utf-8")
            write_if_changed(frontend_dir / entry.name, text)
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
    if work_dir is None:
        key = hashlib.sha256(f"audio|{model.quantized.sha256}|{board.name}|{weights}|{prefix}|"
                             f"{model.calibration}|{synapses}".encode())
        work_dir = build_folder(f"audio-{key.hexdigest()[:16]}")
    audio = write_audio_project(model, board, work_dir, prefix, weights, synapses)
    image = cached_build(work_dir, "audio", audio.digest, board, progress=progress,
                         build=lambda out: build_firmware(audio.sources, audio.include_dirs, board, out, name="audio"))
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
                       insn_limit: int | None = None, timeout: float = 1800) -> FirmwareStream:
    """Run the streaming firmware in QEMU on a WAV file; returns its trace and costs."""
    wav = Path(wav).resolve()
    with tempfile.TemporaryDirectory(prefix="silifc-audio-") as tmp:
        trace_path = Path(tmp) / "trace.bin"
        run = run_firmware(image, image.board, args=[str(wav), str(trace_path)], insn_limit=insn_limit,
                           timeout=timeout, markers=AUDIO_MARKERS, check=True)
        if run.exit_status != 0:
            raise KwsError(f"the streaming firmware stopped with status {run.exit_status} "
                           f"({EXIT_MESSAGES.get(run.exit_status, 'unknown')}):\n{run.stdout.strip()}")
        trace = decode_trace(trace_path.read_bytes(), model.frontend.bands, model.classes,
                              model.frontend.step_samples, model.frontend.sample_rate)
    phases = {name: count.instructions for name, count in run.buckets.items() if name in AUDIO_MARKERS}
    return FirmwareStream(trace=trace, stdout=run.stdout, instructions_total=run.instructions,
                          phase_instructions=phases, flash_used=image.flash_used, ram_used=image.ram_used)

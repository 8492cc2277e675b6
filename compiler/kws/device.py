"""The keyword app on a real nRF52840 board (boards with a `device` section; docs/device.md).

`write_device_project` writes the model project (codegen) plus device/: main.c (PDM -> front
end -> network -> detector per buffer, UARTE lines, LED, sleep), startup.c (vector table,
reset and fault handlers), nrf52840_regs.h (every register the code writes), a Makefile and,
for boards with a Renode platform, .resc/.robot files. `build_device_firmware` links it at the
board's application flash origin (cached) and writes the files a user flashes (.hex, .bin,
.uf2: silifc.target.flash).

`run_device_audio` runs that firmware on the emulated nRF52840 (silifc.target.nrf52840) fed
with a WAV file and compares its UART lines with `silifc listen` on the same audio. The device
prints one line per detection, "<ms> <word> <score>": the stream time at the end of the step
(kws.stream.time_ms), the keyword, and the detector's leaky average of its probability in
thousandths; `reference_lines` computes the same lines from the reference trace, so "same
words at the same steps" is an exact comparison of text.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..codegen.boards import Board, require_device_board
from ..codegen.emit import write_project
from ..codegen.templates import render
from ..target.cache import build_folder, cached_build
from ..target.flash import FlashImage, flash_artefacts
from ..target.nrf52840.emulator import EmulationResult, run_device_elf
from ..target.nrf52840.power import estimate_power
from ..target.toolchain import build_firmware
from .audio.wav import SAMPLE_RATE, read_wav
from .detector import Detector
from .firmware import (KWS_LIBRARY_PART, audio_template_context, kws_compile_options, kws_library_files,
                       library_sources, write_hashed)
from .model import KwsError, KwsModel, bundled_path
from .stream import StreamTrace

DEVICE_DIR = "device"
DEVICE_PART = "device"             # the device app's part of a project folder (io.files.write_generated)
ELF_NAME = "device"
LED_MS = 100                      # LED on-time after a detection
REGISTER_HEADER = "nrf52840_regs.h"
# The nRF52840's device interrupts (PS "Instantiation", SVD <interrupt> values 0..47).
IRQ_COUNT = 48
IRQ_HANDLERS = {2: "UARTE0_UART0_IRQHandler", 29: "PDM_IRQHandler"}
# -mgeneral-regs-only: integer firmware that never touches the FPU (GCC would otherwise move
# 64-bit data through d-registers), so the FPU stays off and exception frames stay 8 words.
DEVICE_CFLAGS = ("-Werror", "-mgeneral-regs-only")
DETECTION_LINE = re.compile(r"(\d+) ([A-Za-z0-9_-]+) (0\.\d{3})\Z")
OVERRUN_LINE = re.compile(r"(\d+) overruns (\d+)\Z")


# ---------------------------------------------------------------- the project

@dataclass(frozen=True)
class DeviceProject:
    directory: Path
    sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    register_header: Path
    digest: str


def baud_name(baud: int) -> str:
    """The register header's name for a UARTE baud rate (UARTE0__BAUDRATE__BAUDRATE__<name>)."""
    return "Baud1M" if baud == 1_000_000 else f"Baud{baud}"


def start_line(model: KwsModel, board: Board) -> str:
    return f"silifc: listening on {board.name} for " + " ".join(model.classes[:model.keywords])


def write_device_project(model: KwsModel, board: Board, out_dir: str | Path, prefix: str = "silifc",
                         weights: str = "int8", synapses: str = "event") -> DeviceProject:
    device = require_device_board(board)
    out_dir = Path(out_dir)
    project = write_project(model.quantized, kws_compile_options(model, board, prefix, weights, synapses), out_dir)
    context = {**audio_template_context(model, board, prefix, "always-listening keyword device application"),
               "baud_name": baud_name(device.uart_baud), "led_ms": LED_MS,
               "led_steps": max(1, round(LED_MS / model.step_ms)), "start_line": start_line(model, board),
               "handlers": [IRQ_HANDLERS.get(irq, "Default_Handler") for irq in range(IRQ_COUNT)],
               "irq_count": IRQ_COUNT}
    rendered = {f"{DEVICE_DIR}/{name}": render(f"device/{name}.j2", context)
                for name in ("main.c", "startup.c", REGISTER_HEADER, "Makefile")}
    if board.renode is not None:
        rendered.update(_renode_files(model, board, context, out_dir))
    library = kws_library_files(model, board, prefix)          # the keyword pipeline (kws/, runtime/frontend/)
    hasher = hashlib.sha256(project.digest.encode())
    write_hashed(out_dir, library, hasher, KWS_LIBRARY_PART)
    write_hashed(out_dir, rendered, hasher, DEVICE_PART)
    device_dir = out_dir / DEVICE_DIR
    return DeviceProject(directory=out_dir,
                         sources=(device_dir / "main.c", device_dir / "startup.c", *project.model_sources,
                                  *library_sources(out_dir, library)),
                         include_dirs=(device_dir, out_dir / "model", out_dir / "runtime" / "include",
                                       out_dir / "runtime" / "frontend", out_dir / "kws"),
                         register_header=device_dir / REGISTER_HEADER, digest=hasher.hexdigest())


def _renode_files(model: KwsModel, board: Board, context: dict, out_dir: Path) -> dict[str, str | bytes]:
    """device/<board>.resc and .robot (Renode's PDM fed from the bundled stream) and the raw
    PCM they play (stream.s16le). Renode runs them only where it is installed."""
    pcm = read_wav(bundled_path("stream.wav"), SAMPLE_RATE)
    renode_context = {**context, "expected_lines": reference_lines(model, model.listen(pcm))}
    return {f"{DEVICE_DIR}/stream.s16le": pcm.astype("<i2").tobytes(),
            **{f"{DEVICE_DIR}/{board.name}.{kind}": render(f"device/board.{kind}.j2", renode_context)
               for kind in ("resc", "robot")}}


def build_device_firmware(model: KwsModel, board: Board, weights: str = "int8", prefix: str = "silifc",
                          work_dir: str | Path | None = None, progress=None, defines: dict | None = None,
                          synapses: str = "event") -> tuple[DeviceProject, FlashImage]:
    """Generate and build the device firmware (cached on the generated files' digest) and the
    files to flash. defines: extra -D macros (tests)."""
    require_device_board(board)
    defines = dict(defines or {})
    if work_dir is None:
        key = hashlib.sha256(f"device|{model.quantized.sha256}|{board.name}|{weights}|{prefix}|"
                             f"{model.calibration}|{sorted(defines.items())}|{synapses}".encode())
        work_dir = build_folder(f"device-{key.hexdigest()[:16]}")
    project = write_device_project(model, board, work_dir, prefix, weights, synapses)
    digest = hashlib.sha256(f"{project.digest}|{sorted(defines.items())}".encode()).hexdigest()
    firmware = cached_build(work_dir, ELF_NAME, digest, board, progress=progress,
                            build=lambda out: build_firmware(project.sources, project.include_dirs, board, out,
                                                             defines=defines, name=ELF_NAME, own_startup=True,
                                                             extra_cflags=DEVICE_CFLAGS))
    return project, flash_artefacts(firmware)


# ---------------------------------------------------------------- the emulated board vs silifc listen

def detection_score(acc: int, shift: int) -> str:
    """The firmware's score text: acc / 2^(16 + shift) in thousandths, at most 0.999."""
    milli = min(999, (int(acc) * 1000) >> (16 + shift))
    return f"0.{milli:03d}"


def reference_lines(model: KwsModel, trace: StreamTrace) -> list[str]:
    """The detection lines the device must print for this reference trace."""
    detector = Detector(model.params)
    lines = []
    detections = iter(trace.detections)
    upcoming = next(detections, None)
    for step, p in enumerate(trace.probabilities):
        found = detector.step(p)
        if upcoming is not None and upcoming.step == step:
            assert found == upcoming.cls, "the detector replay disagrees with the trace"
            lines.append(f"{upcoming.time_ms} {upcoming.word} {detection_score(detector.acc[found], model.params.shift)}")
            upcoming = next(detections, None)
    return lines


@dataclass(frozen=True)
class DeviceComparison:
    device_lines: list[str]          # the UART's detection lines
    reference_lines: list[str]
    overruns: int                    # the largest count the firmware reported (0 if none)
    other_lines: list[str]           # start line, errors, fault reports
    steps_reference: int
    buffers: int

    @property
    def equal(self) -> bool:
        return self.device_lines == self.reference_lines and self.overruns == 0 and self.buffers == self.steps_reference


def compare(model: KwsModel, trace: StreamTrace, emulation: EmulationResult) -> DeviceComparison:
    detections, others, overruns = [], [], 0
    for line in emulation.lines:
        if DETECTION_LINE.match(line):
            detections.append(line)
        elif OVERRUN_LINE.match(line):
            overruns = max(overruns, int(OVERRUN_LINE.match(line)[2]))
        else:
            others.append(line)
    return DeviceComparison(detections, reference_lines(model, trace), overruns, others, trace.steps,
                            emulation.buffers)


def summarize(model: KwsModel, board: Board, emulation: EmulationResult, comparison: DeviceComparison,
              wav: str, image: FlashImage) -> dict:
    """The run's report (silifc run --json, bench/device.py). Every time figure rests on the
    emulator's CPI: cycles = instructions x CPI."""
    awake = np.asarray(emulation.awake_instructions[1:] or [0])
    budget = board.clock_hz * model.step_ms / 1000.0          # cycles per PDM buffer
    power = estimate_power(1.0 - emulation.asleep_fraction, emulation.cpi, require_device_board(board).dcdc)
    led = board.device.led
    return {
        "model": str(model.path), "board": board.name, "wav": str(wav), "emulator": "nRF52840 (Unicorn + register models)",
        "detections": comparison.device_lines, "reference": comparison.reference_lines,
        "same_as_reference": comparison.device_lines == comparison.reference_lines,
        "overruns": comparison.overruns, "buffers": emulation.buffers, "reference_steps": comparison.steps_reference,
        "other_lines": comparison.other_lines, "reset": emulation.reset,
        "instructions": emulation.instructions, "cpi": emulation.cpi, "budget_cycles_per_buffer": budget,
        "boot_instructions": int(emulation.awake_instructions[0]) if emulation.awake_instructions else 0,
        "instructions_per_wakeup": {"mean": float(awake.mean()), "max": int(awake.max())},
        "max_wakeup_fraction_of_step": float(awake.max() * emulation.cpi / budget),
        # the largest CPI at which the longest wake-up still ends before the next buffer does
        "overrun_free_below_cpi": float(budget / awake.max()) if awake.max() else None,
        "asleep_fraction": emulation.asleep_fraction, "emulated_seconds": emulation.seconds,
        "pins": emulation.pins, "hfxo_running_at_pdm_start": emulation.hfxo_running_at_pdm_start,
        "led_on_events": sum(1 for change in emulation.led_changes
                             if change[1] == str(led) and change[2] == (0 if board.device.led_active_low else 1)),
        "power": {**power.to_dict(), "text": power.line()},
        "flash_used": image.flash_used, "ram_used": image.ram_used, "artefacts": [str(p) for p in image.artefacts],
        "emulation_wall_seconds": emulation.wall_seconds,
        "emulated_instructions_per_second": emulation.instructions_per_second,
        "passed": comparison.equal and emulation.reset is None,
    }


# The QEMU machine whose core (Cortex-M4, same flags) runs the keyword pipeline for the CPI estimate.
CPI_STAND_IN_BOARD = "nrf52840"


def pipeline_cpi(model: KwsModel, wav: str | Path, weights: str = "int8", prefix: str = "silifc",
                 synapses: str = "event", progress=None) -> float:
    """Estimated Cortex-M4 cycles per instruction of the keyword pipeline (front end, network,
    detector) on this audio: the same C, built for the nrf52840 stand-in and run in QEMU with the
    counting plugin's cycle model (docs/cycles.md). The device firmware adds only its PDM, UART and
    sleep code around that pipeline, a small share of its instructions."""
    from ..codegen.boards import load_board
    from .firmware import PER_STEP_PHASES, build_audio_firmware, run_audio_firmware

    stand_in = load_board(CPI_STAND_IN_BOARD)
    audio, image = build_audio_firmware(model, stand_in, weights, prefix, progress=progress, synapses=synapses)
    if progress:
        progress(f"estimating cycles per instruction: the keyword pipeline on {Path(wav).name} in QEMU "
                 f"({stand_in.emulator.machine}, Cortex-M4 cycle model)")
    run = run_audio_firmware(audio, image, model, wav)
    if run.phase_cycles is None:
        raise KwsError(f"board {CPI_STAND_IN_BOARD} has no cycle model: give --cpi")
    instructions = sum(run.phase_instructions.get(phase, 0) for phase in PER_STEP_PHASES)
    cycles = sum(run.phase_cycles.get(phase, 0) for phase in PER_STEP_PHASES)
    return cycles / instructions


def run_device_audio(model: KwsModel, board: Board, wav: str | Path, weights: str = "int8", prefix: str = "silifc",
                     progress=None, cpi: float | None = None,
                     synapses: str = "event") -> tuple[dict, EmulationResult, FlashImage]:
    """Build (cached), emulate at `cpi` cycles per instruction (None: the pipeline's estimated CPI,
    `pipeline_cpi`) and compare with the reference; returns (summary, emulation, image)."""
    pcm = read_wav(wav, SAMPLE_RATE)          # refuses a wrong format with a conversion hint, before building
    _, image = build_device_firmware(model, board, weights, prefix, progress=progress, synapses=synapses)
    cpi_source = "given (--cpi)"
    if cpi is None:
        cpi = pipeline_cpi(model, wav, weights, prefix, synapses, progress)
        cpi_source = "estimated: the keyword pipeline on this audio in QEMU, Cortex-M4 cycle model"
    if progress:
        progress(f"running {len(pcm) / SAMPLE_RATE:.2f} s of audio on the emulated nRF52840 ({board.name} firmware, "
                 f"CPI {cpi:g})")
    emulation = run_device_elf(image.elf, pcm, SAMPLE_RATE, cpi=cpi, clock_hz=board.clock_hz)
    comparison = compare(model, model.listen(pcm), emulation)
    summary = summarize(model, board, emulation, comparison, str(wav), image)
    summary["cpi_source"] = cpi_source
    return summary, emulation, image

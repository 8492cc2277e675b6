"""The device application: an always-listening keyword spotter for a real nRF52840 board.

`write_device_project` writes the model project (codegen) plus device/: main.c (PDM -> front
end -> network -> detector per buffer, UARTE lines, LED, sleep), startup.c (vector table,
reset and fault handlers), nrf52840_regs.h (every register the code writes) and a Makefile.
`build_device_firmware` links it at the board's application flash origin and writes the
artefacts a user flashes: .elf, .hex, .bin and, for UF2 boards, .uf2.
"""
from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..errors import SilifcError

DEVICE_DIR = "device"
ELF_NAME = "device"
LED_MS = 100                      # LED on-time after a detection
REGISTER_HEADER = "nrf52840_regs.h"
# The nRF52840's device interrupts (PS "Instantiation", SVD <interrupt> values 0..47).
IRQ_COUNT = 48
IRQ_HANDLERS = {2: "UARTE0_UART0_IRQHandler", 29: "PDM_IRQHandler"}
# -mgeneral-regs-only: integer firmware that never touches the FPU (GCC would otherwise move
# 64-bit data through d-registers), so the FPU stays off and exception frames stay 8 words.
DEVICE_CFLAGS = ("-Werror", "-mgeneral-regs-only")


class DeviceError(SilifcError):
    pass


def require_device_board(board) -> None:
    if board.device is None:
        from ..board import list_boards, load_board

        real = [name for name in list_boards() if load_board(name).device is not None]
        raise DeviceError(f"board {board.name} has no device application (device: null in its board file); "
                          f"boards with one: {', '.join(real)}")


@dataclass(frozen=True)
class DeviceProject:
    directory: Path
    audio_context: dict
    sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    register_header: Path
    digest: str


@functools.lru_cache(maxsize=1)
def _templates():
    import jinja2

    root = files("silifc.templates")
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False)


def baud_name(baud: int) -> str:
    """The register header's name for a UARTE baud rate (UARTE0__BAUDRATE__BAUDRATE__<name>)."""
    return "Baud1M" if baud == 1_000_000 else f"Baud{baud}"


def start_line(model, board) -> str:
    return f"silifc: listening on {board.name} for " + " ".join(model.classes[:model.keywords])


def write_device_project(model, board, out_dir: str | Path, prefix: str = "silifc", weights: str = "int8",
                         synapses: str = "event") -> DeviceProject:
    from ..codegen import CompileOptions, write_project
    from ..kws import _write, audio_template_context, copy_frontend_runtime

    require_device_board(board)
    out_dir = Path(out_dir)
    project = write_project(model.quantized, CompileOptions(board=board, prefix=prefix, weights=weights,
                                                            synapses=synapses), out_dir)
    context = audio_template_context(model, board, prefix)
    step_ms = model.step_ms
    handlers = [IRQ_HANDLERS.get(irq, "Default_Handler") for irq in range(IRQ_COUNT)]
    context = {**context, "baud_name": baud_name(board.device.uart_baud), "led_ms": LED_MS,
               "led_steps": max(1, round(LED_MS / step_ms)), "start_line": start_line(model, board),
               "handlers": handlers, "irq_count": IRQ_COUNT,
               "banner": context["banner"].replace("always-listening keyword app",
                                                   "always-listening keyword device application")}
    env = _templates()
    rendered = {f"{DEVICE_DIR}/{name}": env.get_template(f"device/{name}.j2").render(context)
                for name in ("main.c", "startup.c", REGISTER_HEADER, "Makefile")}
    if board.renode is not None:
        rendered.update(_renode_files(model, board, context, env, out_dir))
    hasher = hashlib.sha256(project.digest.encode())
    for relative in sorted(rendered):
        _write(out_dir / relative, rendered[relative])
        hasher.update(relative.encode() + b"\0" + rendered[relative].encode() + b"\0")
    frontend_dir, runtime_sources = copy_frontend_runtime(out_dir, hasher)
    device_dir = out_dir / DEVICE_DIR
    return DeviceProject(directory=out_dir, audio_context=context,
                         sources=(device_dir / "main.c", device_dir / "startup.c", *project.model_sources,
                                  *runtime_sources),
                         include_dirs=(device_dir, out_dir / "model", out_dir / "runtime" / "include", frontend_dir),
                         register_header=device_dir / REGISTER_HEADER, digest=hasher.hexdigest())


def _renode_files(model, board, context: dict, env, out_dir: Path) -> dict:
    """device/<board>.resc and .robot (Renode's PDM fed from the bundled stream) and the raw
    PCM they play (stream.s16le). Renode runs them only where it is installed."""
    from ..audio.wav import read_wav
    from ..kws import bundled_path
    from .run import reference_lines

    pcm = read_wav(bundled_path("stream.wav"), 16000)
    raw = out_dir / DEVICE_DIR / "stream.s16le"
    raw.parent.mkdir(parents=True, exist_ok=True)
    if not raw.exists() or raw.read_bytes() != pcm.astype("<i2").tobytes():
        raw.write_bytes(pcm.astype("<i2").tobytes())
    renode_context = {**context, "expected_lines": reference_lines(model, model.listen(pcm))}
    return {f"{DEVICE_DIR}/{board.name}.resc": env.get_template("device/board.resc.j2").render(renode_context),
            f"{DEVICE_DIR}/{board.name}.robot": env.get_template("device/board.robot.j2").render(renode_context)}


@dataclass(frozen=True)
class DeviceImage:
    elf: Path
    hex: Path
    bin: Path
    uf2: Path | None
    board: object
    flash_used: int
    ram_used: int

    @property
    def artefacts(self) -> list[Path]:
        return [p for p in (self.elf, self.hex, self.bin, self.uf2) if p is not None]


def build_device_firmware(model, board, weights: str = "int8", prefix: str = "silifc",
                          work_dir: str | Path | None = None, progress=None, defines: dict | None = None,
                          synapses: str = "event") -> tuple[DeviceProject, DeviceImage]:
    """Generate and build the device firmware (cached on the generated files' digest) and its
    artefacts. defines: extra -D macros (tests)."""
    from ..emulator import build_firmware, cache_dir

    require_device_board(board)
    if work_dir is None:
        key = hashlib.sha256(f"device|{model.quantized.sha256}|{board.name}|{weights}|{prefix}|"
                             f"{model.calibration}|{sorted((defines or {}).items())}|{synapses}".encode())
        work_dir = cache_dir() / "builds" / f"device-{key.hexdigest()[:16]}"
    work_dir = Path(work_dir)
    project = write_device_project(model, board, work_dir, prefix, weights, synapses)
    digest = hashlib.sha256(f"{project.digest}|{sorted((defines or {}).items())}".encode()).hexdigest()
    build = work_dir / "build"
    stamp = build / f"{ELF_NAME}-stamp.json"
    paths = _artefact_paths(build, board)
    if stamp.exists() and all(p.exists() for p in paths.values() if p is not None):
        cached = json.loads(stamp.read_text())
        if cached.get("digest") == digest:
            return project, DeviceImage(**paths, board=board, flash_used=cached["flash"], ram_used=cached["ram"])
    if progress:
        progress(f"building the device firmware for {board.name} in {work_dir}")
    image = build_firmware(project.sources, project.include_dirs, board, build, defines=defines or {},
                           name=ELF_NAME, skeleton_sources=False, extra_cflags=DEVICE_CFLAGS)
    write_artefacts(image.elf, board, paths)
    stamp.write_text(json.dumps({"digest": digest, "flash": image.flash_used, "ram": image.ram_used}))
    return project, DeviceImage(**paths, board=board, flash_used=image.flash_used, ram_used=image.ram_used)


def _artefact_paths(build: Path, board) -> dict:
    uf2 = build / f"{ELF_NAME}.uf2" if board.device.flash_method == "uf2" else None
    return {"elf": build / f"{ELF_NAME}.elf", "hex": build / f"{ELF_NAME}.hex", "bin": build / f"{ELF_NAME}.bin",
            "uf2": uf2}


def write_artefacts(elf: Path, board, paths: dict) -> None:
    """.hex and .bin with objcopy (the binary starts at the board's flash origin), .uf2 from the
    binary (silifc.device.uf2)."""
    from ..emulator import _tool
    from .uf2 import bin_to_uf2

    objcopy = _tool("arm-none-eabi-objcopy")
    for fmt, key in (("ihex", "hex"), ("binary", "bin")):
        result = subprocess.run([objcopy, "-O", fmt, str(elf), str(paths[key])], capture_output=True, text=True)
        if result.returncode != 0:
            raise DeviceError(f"arm-none-eabi-objcopy -O {fmt} failed: {result.stderr.strip()}")
    if paths["uf2"] is not None:
        paths["uf2"].write_bytes(bin_to_uf2(paths["bin"].read_bytes(), board.flash.origin, board.device.uf2_family))

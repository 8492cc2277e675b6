"""Build the runtime test driver for the host or a board, run case files, check results.

Host builds use the system gcc (or $CC) with -std=c99 -Wall -Wextra -Werror -pedantic; the
sanitizer build adds -fsanitize=address,undefined -fno-sanitize-recover=all. It is a
standalone executable (no ctypes), so ASan needs no LD_PRELOAD. Firmware builds go through
silifc.target.toolchain.build_firmware and run in QEMU with silifc.target.toolchain.run_firmware.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from silifc.codegen import runtime as runtime_files

from . import common as case_mod

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_c"
INCLUDE = RUNTIME / "include"
HARNESS = Path(__file__).resolve().parent


def runtime_sources(dsp: bool) -> tuple[Path, ...]:
    """The runtime's .c files for one path (src/ + src/dsp/ or src/portable/), from this checkout."""
    return tuple(runtime_files.runtime_sources(dsp, RUNTIME))


RUNTIME_SOURCES = runtime_sources(False)      # host builds: the portable path
DRIVER_SOURCES = tuple(HARNESS / name for name in ("driver.c", "driver_synapses.c", "driver_neurons.c",
                                                  "driver_decision.c"))

C99_WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")

# Firmware driver sizes per board RAM (see driver.h). The cases generated for a board stay inside.
SMALL_DRIVER = {"RECORD_WORDS": 1024, "MAX_NEURONS": 48, "MAX_EVENTS": 48, "OUT_WORDS": 256}  # common.SMALL_LIMITS


def host_cc() -> str | None:
    cc = os.environ.get("CC", "gcc")
    return shutil.which(cc)


def build_host_driver(out_dir: Path, *, sanitize: bool = False, opt: str = "-O2") -> Path:
    """Compile runtime + driver for the host; raises CalledProcessError with the compiler output."""
    out_dir.mkdir(parents=True, exist_ok=True)
    exe = out_dir / ("driver_asan" if sanitize else "driver")
    flags = [*C99_WARNINGS, opt, "-g"] + (list(SANITIZE) if sanitize else [])
    command = [host_cc() or "gcc", *flags, f"-I{INCLUDE}", *map(str, RUNTIME_SOURCES), *map(str, DRIVER_SOURCES),
               str(HARNESS / "driver_io_host.c"), "-o", str(exe)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return exe


def run_host(exe: Path, cases: list, work: Path, name: str = "cases") -> case_mod.Report:
    work.mkdir(parents=True, exist_ok=True)
    case_file, result_file = work / f"{name}.bin", work / f"{name}.out"
    case_file.write_bytes(case_mod.encode(cases))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    proc = subprocess.run([str(exe), str(case_file), str(result_file)], capture_output=True, text=True, env=env,
                          timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"{exe.name} exited with {proc.returncode}:\n{proc.stderr[-4000:]}")
    return case_mod.check_results(cases, result_file.read_bytes())


def build_firmware_driver(out_dir: Path, board_name: str, *, dsp: bool | None = None, small: bool = False,
                          opt: str = "-O2", extra_cflags: tuple[str, ...] = ()):
    """The driver as firmware for `board_name`: the DSP path if the board has it (or dsp=True), else
    (or with dsp=False) the portable path."""
    from silifc.codegen.boards import load_board
    from silifc.target.toolchain import build_firmware

    board = load_board(board_name)
    dsp = board.has_dsp if dsp is None else dsp
    defines = dict(SMALL_DRIVER) if small else {}
    defines["SLF_USE_DSP"] = int(dsp)
    image = build_firmware([*runtime_sources(dsp), *DRIVER_SOURCES, HARNESS / "driver_io_semihost.c"],
                           [INCLUDE, HARNESS],
                           board, out_dir, defines=defines, opt=opt,
                           extra_cflags=("-std=c99", "-Werror", *extra_cflags), name=f"driver_{board_name}_{'dsp' if dsp else 'c'}")
    return board, image


def run_firmware_cases(board, image, cases: list, work: Path, name: str = "cases",
                       insn_limit: int = 20_000_000_000, timeout: float = 600) -> tuple[case_mod.Report, object]:
    from silifc.target.qemu import run_firmware

    work.mkdir(parents=True, exist_ok=True)
    case_file, result_file = (work / f"{name}.bin").resolve(), (work / f"{name}.out").resolve()
    case_file.write_bytes(case_mod.encode(cases))
    if result_file.exists():
        result_file.unlink()
    run = run_firmware(image, board, args=[str(case_file), str(result_file)], insn_limit=insn_limit,
                       timeout=timeout)
    if run.exit_status != 0:
        raise RuntimeError(f"driver firmware exited with status {run.exit_status}:\n{run.stdout[-2000:]}")
    return case_mod.check_results(cases, result_file.read_bytes()), run


class DriverBuilds:
    """The driver builds a test session needs, each compiled once, on first use, under `root`:
    host(sanitize) and firmware(board_name, dsp, small, opt, extra_cflags)."""

    def __init__(self, root: Path):
        self.root = root
        self._built: dict = {}

    def host(self, sanitize: bool = False) -> Path:
        key = ("host", sanitize)
        if key not in self._built:
            self._built[key] = build_host_driver(self.root / ("host-asan" if sanitize else "host"), sanitize=sanitize,
                                                 opt="-O1" if sanitize else "-O2")
        return self._built[key]

    def firmware(self, board_name: str, dsp: bool | None = None, small: bool = False, opt: str = "-O2",
                 extra_cflags: tuple[str, ...] = ()):
        """(board, image) of the firmware driver."""
        key = ("firmware", board_name, dsp, small, opt, extra_cflags)
        if key not in self._built:
            name = "-".join([board_name, {None: "default", True: "dsp", False: "portable"}[dsp],
                             "small" if small else "full", opt.lstrip("-"), *(f.lstrip("-") for f in extra_cflags)])
            self._built[key] = build_firmware_driver(self.root / name, board_name, dsp=dsp, small=small, opt=opt,
                                                     extra_cflags=extra_cflags)
        return self._built[key]

"""Run firmware on the board's QEMU machine with exact instruction counts.

`run_firmware` runs an ELF under the insncount TCG plugin (tools/insncount/), which
counts executed instructions exactly, splits them by marker functions and address
regions, and stops a runaway guest after an instruction budget. The exit-status contract
with the firmware is in silifc.codegen.skeleton. With `cycle_model` the plugin also
estimates the core's cycles (Cortex-M4 only; docs/cycles.md).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from ..codegen.boards import Board
from ..codegen.skeleton import FAULT_EXIT_STATUS, LIMIT_EXIT_STATUS  # noqa: F401  (LIMIT: the plugin's status)
from ..errors import SilifcError
from ..io.files import cache_dir, temp_folder, write_if_changed
from .faults import describe_code_address, explain_fault
from .processes import run_child
from .toolchain import FirmwareImage, tool

DEFAULT_INSN_LIMIT = 2_000_000_000  # about 5 s of emulation with the guard on
DEFAULT_TIMEOUT_S = 120.0
# argv[0] the guest sees. Fixed, because the guest's argument string changes its
# instruction count (it is scanned), and counts must not depend on file names.
FIRMWARE_ARGV0 = "firmware"
BEFORE_FIRST_MARKER = "(before first marker)"
# Cores the plugin has a cycle model for (the board file's `cpu`); others get instructions only.
CYCLE_MODELS = ("cortex-m4",)


def cycle_model_for(board: Board) -> str | None:
    """The cycle model for the board's core, or None when the plugin has none (instructions only)."""
    return board.cpu if board.cpu in CYCLE_MODELS else None


class BoardNotEmulatedError(SilifcError):
    """The board has no emulator: firmware for it can be built but not run here."""


class EmulatorError(SilifcError):
    """QEMU or its counting plugin could not be used (bad option or file, plugin build failed)."""


class FirmwareHangError(SilifcError):
    """The firmware did not finish within its instruction budget or wall-clock timeout."""

    def __init__(self, message: str, run: FirmwareRun | None = None):
        super().__init__(message)
        self.run = run


class FirmwareFaultError(SilifcError):
    """The firmware crashed: a CPU fault reported by the startup code, or a QEMU lockup."""

    def __init__(self, message: str, run: FirmwareRun | None = None):
        super().__init__(message)
        self.run = run



# ---------------------------------------------------------------- instruction-counting plugin

_PLUGIN_SOURCES = ("insncount.c", "qemu_plugin_api.h", "cortex_m4_timing.h")
_PLUGIN_CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden")


def _plugin_texts() -> dict[str, bytes]:
    tools = files("silifc.tools") / "insncount"
    return {name: (tools / name).read_bytes() for name in _PLUGIN_SOURCES}


def insncount_plugin_digest(texts: Mapping[str, bytes] | None = None) -> str:
    """sha256 over the plugin's sources (every file it includes) and build flags: what its
    counts and cycle estimates depend on (bench/ stamps saved measurements with it)."""
    digest = hashlib.sha256()
    for name, text in (texts or _plugin_texts()).items():
        digest.update(name.encode() + b"\0" + text + b"\0")
    digest.update(" ".join(_PLUGIN_CFLAGS).encode())
    return digest.hexdigest()


def ensure_insncount_plugin() -> Path:
    """Path of the insncount QEMU plugin, built with the host gcc into the cache on first use.

    The file name carries a hash of the plugin sources and flags, so an updated silifc never
    runs a stale plugin and concurrent processes never see a half-written one; a stamp beside it
    holds the built file's sha256, and a plugin that no longer matches it is rebuilt.
    """
    texts = _plugin_texts()
    plugin_dir = cache_dir() / "qemu-plugins"
    plugin_dir.mkdir(exist_ok=True)
    plugin = plugin_dir / f"libinsncount-{insncount_plugin_digest(texts)[:16]}.so"
    stamp = plugin.with_suffix(".sha256")
    try:
        if stamp.read_text().strip() == hashlib.sha256(plugin.read_bytes()).hexdigest():
            return plugin
    except OSError:
        pass                      # not built yet, or its stamp is missing: build
    # A plugin whose bytes differ from its stamp (a truncated copy, a crash mid-write) is rebuilt.
    gcc = tool("gcc")
    with temp_folder("plugin") as tmp:
        for name, text in texts.items():
            (tmp / name).write_bytes(text)
        built = tmp / plugin.name
        result = run_child([gcc, *_PLUGIN_CFLAGS, str(tmp / "insncount.c"), "-o", str(built)], text=True)
        if result.returncode != 0:
            raise EmulatorError(f"building the QEMU instruction-counting plugin with the host gcc "
                                f"failed:\n{(result.stdout + result.stderr).strip()}")
        write_if_changed(stamp, hashlib.sha256(built.read_bytes()).hexdigest() + "\n")
        os.replace(built, plugin)  # atomic: a concurrent build simply wins or loses the race
    return plugin


# ---------------------------------------------------------------- run

Symbol = Union[str, int]  # a symbol name from the ELF, or an address


@dataclass(frozen=True)
class RegionCount:
    instructions: int  # summed over passes
    passes: int  # times STOP ended an open region
    open_at_exit: bool  # START ran and STOP did not follow before the run ended
    cycles: int | None = None  # estimated cycles, summed over passes (runs with a cycle model)


@dataclass(frozen=True)
class BucketCount:
    instructions: int  # executed while this marker was the latest one reached
    entries: int  # times the marker ran (0 for BEFORE_FIRST_MARKER)
    cycles: int | None = None  # estimated cycles of those instructions (runs with a cycle model)


@dataclass(frozen=True)
class FirmwareRun:
    stdout: str
    exit_status: int
    instructions: int  # every instruction executed, startup code included
    regions: dict[str, RegionCount]
    buckets: dict[str, BucketCount]  # BEFORE_FIRST_MARKER, then one per marker, in order
    limit_exceeded: bool
    fault: str | None  # the startup code's "FAULT ..." line
    stderr: str
    command: tuple[str, ...]  # the QEMU command line, to reproduce the run by hand
    # With run_firmware(trace=True): one row per marker execution, in order: (bucket index
    # in `buckets` order, instructions executed before it). uint64 array [executions, 2].
    marker_trace: object = field(default=None, compare=False)
    # With a cycle model: the core it models, estimated cycles of the whole run, the model's
    # event counts (taken_branches, refill, pipelined, address_stalls, unaligned,
    # unaligned_extra, divides; docs/cycles.md) and, with trace=True, the estimated cycles
    # before each marker execution (uint64 array [executions]).
    cycle_model: str | None = None
    cycles: int | None = None
    cycle_events: dict = field(default_factory=dict)
    marker_trace_cycles: object = field(default=None, compare=False)

    def marker_entries(self):
        """(bucket indices, instructions of each entry) of every marker execution, in order:
        exact per-entry splits of the bucket totals (e.g. per time step)."""
        if self.marker_trace is None:
            raise EmulatorError("this run was made without trace=True: no per-entry marker counts")
        trace = np.asarray(self.marker_trace, dtype=np.int64).reshape(-1, 2)
        ends = np.append(trace[1:, 1], self.instructions)
        return trace[:, 0], ends - trace[:, 1]

    def marker_entry_cycles(self) -> np.ndarray:
        """Estimated cycles of each marker entry, aligned with marker_entries()."""
        if self.marker_trace_cycles is None:
            raise EmulatorError("this run was made without trace=True and a cycle model: no per-entry cycles")
        starts = np.asarray(self.marker_trace_cycles, dtype=np.int64)
        return np.append(starts[1:], self.cycles) - starts


def _qemu_option_value(text: str) -> str:
    # In QEMU's key=value option lists a comma separates options; ",," is a literal comma.
    return text.replace(",", ",,")


@functools.lru_cache(maxsize=64)
def _symbols(elf: Path, mtime_ns: int) -> dict[str, tuple[int, str]]:
    """Symbol name -> (address, nm type letter); cached per ELF version."""
    del mtime_ns  # part of the cache key only
    result = run_child([tool("arm-none-eabi-nm"), "--defined-only", str(elf)], text=True)
    if result.returncode != 0:
        raise EmulatorError(f"cannot read the symbols of {elf}: {result.stderr.strip()}")
    table = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[2]] = (int(parts[0], 16), parts[1])
    return table


def _code_address(elf: Path, symbol: Symbol, role: str) -> int:
    if isinstance(symbol, int):
        return symbol & ~1
    table = _symbols(elf, elf.stat().st_mtime_ns)
    if symbol not in table:
        raise EmulatorError(f"{role}: no symbol {symbol!r} in {elf}; a function must be called somewhere "
                            f"(else --gc-sections drops it) and must not be inlined (declare it SLF_MARKER "
                            f"from markers.h)")
    address, kind = table[symbol]
    if kind not in "TtWw":
        raise EmulatorError(f"{role}: symbol {symbol!r} is not a function (nm type {kind!r})")
    return address & ~1  # the Thumb bit is not part of the instruction address


def _read_count_report(path: Path) -> dict[str, int | str]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value if key == "cycles.model" else int(value)
    if values.get("format") != 1 or "total" not in values:
        raise EmulatorError(f"unexpected instruction-count report {path}: {path.read_text()!r}")
    return values



def run_firmware(elf: str | Path | FirmwareImage, board: Board, args: Sequence[str] = (), input_file: str | Path | None = None,
                 insn_limit: int | None = DEFAULT_INSN_LIMIT, timeout: float = DEFAULT_TIMEOUT_S,
                 regions: Mapping[str, tuple[Symbol, Symbol]] | None = None,
                 markers: Sequence[Symbol] = (), check: bool = True, trace: bool = False,
                 cycle_model: str | None = None) -> FirmwareRun:
    """Runs the ELF on the board's QEMU machine and returns its output, status and counts.

    args        extra words for the guest's command line (sh_cmdline: "firmware arg1 arg2")
    input_file  loaded raw at the board's emulator input blob (__input_blob in the linker script)
    insn_limit  instruction budget; None turns the guard off (slightly faster)
    regions     name -> (START, STOP): instructions from START up to STOP, summed over passes
    markers     functions whose entry opens a new bucket: per-bucket instruction counts
    check       raise FirmwareHangError / FirmwareFaultError instead of returning such a run
    trace       also record every marker execution (FirmwareRun.marker_trace, .marker_entries())
    cycle_model also estimate cycles for this core (one of CYCLE_MODELS; see cycle_model_for)
    Relative paths in semihosting calls are resolved from the current directory.
    """
    if isinstance(elf, FirmwareImage):
        if elf.board != board:
            raise EmulatorError(f"{elf.elf.name} was built for board {elf.board.name}, not {board.name}: "
                                f"its memory map would not match the emulated machine")
        elf = elf.elf
    elf = Path(elf)
    if board.emulator is None:
        raise BoardNotEmulatedError(f"board {board.name} has no emulator (emulator: null in its board file): "
                                    f"firmware for it can be built but not run by silifc")
    if not elf.is_file():
        raise EmulatorError(f"firmware {elf} does not exist")
    if cycle_model is not None and cycle_model not in CYCLE_MODELS:
        raise EmulatorError(f"no cycle model for {cycle_model} (models: {', '.join(CYCLE_MODELS)}); "
                            f"run without cycle_model to count instructions only")
    qemu = tool("qemu-system-arm")
    plugin = ensure_insncount_plugin()

    for arg in args:
        if not arg or any(c.isspace() for c in arg):
            raise EmulatorError(f"firmware argument {arg!r} is empty or contains white space: the guest "
                                f"receives its arguments as one space-separated string")
    region_names = list(regions or {})
    region_args = []
    for region_name in region_names:
        start, stop = regions[region_name]
        start_pc = _code_address(elf, start, f"region {region_name!r} start")
        stop_pc = _code_address(elf, stop, f"region {region_name!r} stop")
        if start_pc == stop_pc:
            raise EmulatorError(f"region {region_name!r}: start and stop are the same address 0x{start_pc:x}")
        region_args.append(f"region=0x{start_pc:x}:0x{stop_pc:x}")
    bucket_names = [BEFORE_FIRST_MARKER]
    mark_args = []
    seen_marks: dict[int, str] = {}
    for marker in markers:
        label = marker if isinstance(marker, str) else f"0x{marker:x}"
        address = _code_address(elf, marker, f"marker {label!r}")
        if address in seen_marks:
            raise EmulatorError(f"markers {seen_marks[address]!r} and {label!r} are the same address 0x{address:x}: "
                                f"identical empty functions were merged; declare markers SLF_MARKER (markers.h)")
        seen_marks[address] = label
        bucket_names.append(label)
        mark_args.append(f"mark=0x{address:x}")

    with temp_folder("qemu") as tmp:
        report = Path(tmp) / "insncount.txt"
        plugin_options = [_qemu_option_value(str(plugin)), f"out={_qemu_option_value(str(report))}"]
        if insn_limit is not None:
            plugin_options.append(f"limit={int(insn_limit)}")
        trace_file = Path(tmp) / "markers.bin"
        if trace:
            plugin_options.append(f"trace={_qemu_option_value(str(trace_file))}")
        if cycle_model is not None:
            plugin_options.append(f"cpu={cycle_model}")
        plugin_options += region_args + mark_args
        semihosting = ["enable=on", "target=native", "chardev=con", f"arg={FIRMWARE_ARGV0}"]
        semihosting += [f"arg={_qemu_option_value(arg)}" for arg in args]
        command = [qemu, "-M", board.emulator.machine, "-display", "none", "-monitor", "none",
                   "-serial", "none", "-chardev", "stdio,id=con",
                   "-semihosting-config", ",".join(semihosting), "-kernel", str(elf),
                   "-plugin", ",".join(plugin_options)]
        if input_file is not None:
            command += ["-device", _input_loader(board, Path(input_file))]
        try:
            # stdin must be open: QEMU's stdio chardev fails on a closed descriptor.
            process = run_child(command, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise FirmwareHangError(
                f"firmware {elf.name} on {board.emulator.machine} did not finish within {timeout:g} s of "
                f"wall-clock time (instruction budget: {insn_limit}); a guest that sleeps (WFI) or waits on "
                f"a peripheral executes no instructions, so only the timeout stops it") from exc
        stdout = process.stdout.decode("utf-8", errors="backslashreplace")
        stderr = process.stderr.decode("utf-8", errors="backslashreplace")
        if process.returncode < 0:
            # QEMU aborts on a CPU lockup (a fault while handling a fault, e.g. an image linked
            # for another memory map); its first stderr line says why, a register dump follows.
            reason = next((line for line in stderr.splitlines() if line.strip()), "no message")
            raise FirmwareFaultError(
                f"QEMU stopped with signal {-process.returncode} running {elf.name} on {board.emulator.machine}: "
                f"{reason}. Is the image linked for board {board.name}? Firmware output:\n{_tail(stdout)}")
        if not report.exists():
            raise EmulatorError(f"QEMU failed to run {elf.name} (exit status {process.returncode}):\n"
                                f"{_tail(stderr)}\ncommand: {' '.join(command)}")
        counts = _read_count_report(report)
        marker_trace = None
        if trace:
            if counts.get("trace_failed", 1) or not trace_file.exists():
                raise EmulatorError(f"the instruction-counting plugin could not write its marker trace:\n"
                                    f"{_tail(stderr)}")
            records = np.fromfile(trace_file, dtype=np.uint64).reshape(-1, 2 if cycle_model is None else 3)
            marker_trace = records[:, :2]

    fault_lines = [line for line in stdout.splitlines() if line.startswith("FAULT ")]
    fault = fault_lines[-1] if process.returncode == FAULT_EXIT_STATUS and fault_lines else None
    run = FirmwareRun(
        stdout=stdout,
        exit_status=process.returncode,
        instructions=counts["total"],
        regions={name: RegionCount(counts[f"region.{i}"], counts[f"region.{i}.passes"],
                                   bool(counts[f"region.{i}.open"]), counts.get(f"region.{i}.cycles"))
                 for i, name in enumerate(region_names)},
        buckets={name: BucketCount(counts[f"bucket.{i}"], counts[f"bucket.{i}.entries"],
                                   counts.get(f"bucket.{i}.cycles"))
                 for i, name in enumerate(bucket_names)},
        limit_exceeded=bool(counts["limit_exceeded"]),
        fault=fault,
        stderr=stderr,
        command=tuple(command),
        marker_trace=marker_trace,
        cycle_model=counts.get("cycles.model"),
        cycles=counts.get("cycles"),
        cycle_events={key.split(".", 1)[1]: value for key, value in counts.items()
                      if key.startswith("cycles.") and key != "cycles.model"},
        marker_trace_cycles=records[:, 2] if trace and cycle_model is not None else None,
    )
    if check and run.limit_exceeded:
        raise FirmwareHangError(f"firmware {elf.name} on {board.emulator.machine} exceeded its instruction budget "
                                f"of {insn_limit} instructions (stopped after {run.instructions}); it probably "
                                f"loops forever. Output so far:\n{_tail(stdout)}", run)
    if check and fault is not None:
        pc = re.search(r"\bpc=(0x[0-9a-f]+)", fault)
        where = describe_code_address(elf, int(pc[1], 16)) if pc else ""
        raise FirmwareFaultError(f"firmware {elf.name} faulted on {board.emulator.machine}{where}: "
                                 f"{explain_fault(fault)}\n{fault}", run)
    return run


def _input_loader(board: Board, input_file: Path) -> str:
    """The -device option that loads input_file at the board's input blob."""
    blob = board.emulator.input_blob
    if blob is None:
        raise EmulatorError(f"board {board.name} has no emulator input blob (emulator.input_blob: null); "
                            f"pass the input as a file argument and read it with sh_open() instead")
    if not input_file.is_file():
        raise EmulatorError(f"input file {input_file} does not exist")
    size = input_file.stat().st_size
    if size > blob.size:
        raise EmulatorError(f"input file {input_file} has {size} bytes; the input blob of board {board.name} "
                            f"holds at most {blob.size}")
    return f"loader,file={_qemu_option_value(str(input_file))},addr=0x{blob.origin:x},force-raw=on"


def _tail(text: str, lines: int = 20) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept) if kept else "(none)"

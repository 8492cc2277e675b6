"""Build firmware for a board, and run it in QEMU with exact instruction counts.

Firmware is a freestanding C program on the silifc skeleton (templates/firmware/): startup
code, a semihosting shim for console, files and exit status, and linker scripts made from
the board file. `run_firmware` runs it on the board's QEMU machine under the insncount TCG
plugin (tools/insncount.c), which counts executed instructions exactly and stops
a runaway guest after an instruction budget.

Exit-status contract between the skeleton and this module:
  main()'s return value   the emulator's exit status (mod 256)
  3                       the startup code caught a fault and printed a "FAULT ..." line
  124                     the instruction budget ran out (the plugin stopped QEMU)
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Iterable, Mapping, Sequence, Union

import jinja2
import numpy as np

from .board import Board, compiler_flags
from .errors import SilifcError

FAULT_EXIT_STATUS = 3
LIMIT_EXIT_STATUS = 124
DEFAULT_INSN_LIMIT = 2_000_000_000  # about 5 s of emulation with the guard on
DEFAULT_TIMEOUT_S = 120.0
# argv[0] the guest sees. Fixed, because the guest's argument string changes its
# instruction count (it is scanned), and counts must not depend on file names.
FIRMWARE_ARGV0 = "firmware"
BEFORE_FIRST_MARKER = "(before first marker)"

SETUP_HINT = "or run scripts/setup.sh"
_TOOL_PACKAGES = {  # program -> Debian package that provides it
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-nm": "binutils-arm-none-eabi",
    "arm-none-eabi-addr2line": "binutils-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "gcc": "gcc",
}

# Freestanding: no startup files, no C library by default. Two libraries are linked after the
# objects, so they only supply what is referenced: newlib's libc for memcpy/memset/memmove/
# memcmp, which GCC emits calls to even in freestanding code (array initialisers, struct
# copies), and libgcc for GCC's own helpers (64-bit division and the like). Anything that
# needs an operating system (printf, malloc) fails to link: there are no syscalls.
_COMMON_CFLAGS = ("-std=c11", "-g", "-Wall", "-Wextra", "-ffreestanding",
                  "-ffunction-sections", "-fdata-sections")
_LINK_FLAGS = ("-nostdlib", "-nostartfiles", "-Wl,--gc-sections", "-Wl,--print-memory-usage")


# ---------------------------------------------------------------- errors

class ToolchainMissingError(SilifcError):
    """A program silifc needs (cross compiler, QEMU, host gcc) is not installed."""


class FirmwareBuildError(SilifcError):
    """Compiling or linking firmware failed."""


class MemoryOverflowError(FirmwareBuildError):
    """The firmware does not fit the board's flash or RAM (a link-time check)."""

    def __init__(self, message: str, overflows: dict[str, int], usage: dict[str, RegionUsage]):
        super().__init__(message)
        self.overflows = overflows  # region name ("FLASH", "RAM") -> bytes over
        self.usage = usage


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


# ---------------------------------------------------------------- tools

def _tool(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        package = _TOOL_PACKAGES[program]
        raise ToolchainMissingError(
            f"{program} not found on PATH: install the Debian package {package} "
            f"(apt-get install --no-install-recommends {package}) {SETUP_HINT}")
    return path


def renode_available() -> bool:
    """True if a `renode` binary is on PATH (Renode is optional: QEMU is the test emulator)."""
    return shutil.which("renode") is not None


def cache_dir() -> Path:
    """$SILIFC_CACHE, else $XDG_CACHE_HOME/silifc, else ~/.cache/silifc (created if missing)."""
    if os.environ.get("SILIFC_CACHE"):
        path = Path(os.environ["SILIFC_CACHE"])
    elif os.environ.get("XDG_CACHE_HOME"):
        path = Path(os.environ["XDG_CACHE_HOME"]) / "silifc"
    else:
        path = Path.home() / ".cache" / "silifc"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SilifcError(f"cannot create the cache directory {path} ({exc.strerror}); "
                          f"point SILIFC_CACHE to a writable directory") from exc
    return path


# ---------------------------------------------------------------- firmware skeleton

@dataclass(frozen=True)
class FirmwareSkeleton:
    """The board-support files every silifc firmware is linked with."""

    directory: Path  # also the include directory (semihost.h, markers.h)
    sources: tuple[Path, ...]  # startup.c, semihost.c
    linker_script: Path  # <board>.ld; it INCLUDEs sections.ld from the same directory


@functools.lru_cache(maxsize=1)
def _firmware_templates() -> jinja2.Environment:
    root = files("silifc.templates") / "firmware"
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8")),
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails instead of vanishing
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)


def _write_if_changed(path: Path, text: str) -> None:
    # Unchanged files keep their timestamps, so a make-based rebuild stays incremental.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_firmware_skeleton(board: Board, out_dir: str | Path) -> FirmwareSkeleton:
    """Renders startup code, semihosting shim, marker header and linker scripts into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = _firmware_templates()
    outputs = {
        "semihost.h": "semihost.h.j2",
        "semihost.c": "semihost.c.j2",
        "markers.h": "markers.h.j2",
        "startup.c": "startup.c.j2",
        "sections.ld": "sections.ld.j2",
        f"{board.name}.ld": "memory.ld.j2",
    }
    for output, template in outputs.items():
        text = env.get_template(template).render(board=board, fault_exit_status=FAULT_EXIT_STATUS)
        _write_if_changed(out_dir / output, text)
    return FirmwareSkeleton(directory=out_dir,
                            sources=(out_dir / "startup.c", out_dir / "semihost.c"),
                            linker_script=out_dir / f"{board.name}.ld")


# ---------------------------------------------------------------- build

@dataclass(frozen=True)
class RegionUsage:
    used: int  # bytes
    size: int  # bytes

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.size


@dataclass(frozen=True)
class FirmwareImage:
    elf: Path
    map_file: Path
    board: Board
    memory: dict[str, RegionUsage]  # linker memory region ("FLASH", "RAM") -> usage
    compiler_output: str  # warnings, and the linker's memory table

    @property
    def flash_used(self) -> int:
        return self.memory["FLASH"].used

    @property
    def ram_used(self) -> int:
        """.data + .bss + the reserved stack."""
        return self.memory["RAM"].used


_USAGE_LINE = re.compile(r"^\s*(\w+):\s+(\d+) (B|KB|MB|GB)\s+(\d+) (B|KB|MB|GB)\s+[\d.]+%\s*$", re.MULTILINE)
_UNIT = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
_UNDEFINED_SYSCALL = re.compile(r"undefined reference to `(_(?:sbrk|write|read|close|lseek|fstat|isatty|"
                                r"exit|kill|getpid|open|gettimeofday|times|unlink|link|stat))'")
_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _parse_memory_usage(linker_output: str) -> dict[str, RegionUsage]:
    # ld prints a size in KB/MB only when it is an exact multiple, so the parse is exact.
    return {m[1]: RegionUsage(int(m[2]) * _UNIT[m[3]], int(m[4]) * _UNIT[m[5]])
            for m in _USAGE_LINE.finditer(linker_output)}


def _define_flags(defines: Mapping[str, object]) -> list[str]:
    flags = []
    for name, value in sorted(defines.items()):
        if not _C_IDENTIFIER.match(name):
            raise FirmwareBuildError(f"define {name!r} is not a C identifier")
        if isinstance(value, bool) or not isinstance(value, (int, str, type(None))):
            raise FirmwareBuildError(f"define {name}: value must be an int, a string or None, got {value!r}")
        flags.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return flags


def build_firmware(sources: Iterable[str | Path], include_dirs: Iterable[str | Path], board: Board,
                   out_dir: str | Path, defines: Mapping[str, object] | None = None, opt: str = "-O2",
                   *, extra_cflags: Sequence[str] = (), name: str = "firmware") -> FirmwareImage:
    """Compiles and links `sources` with the board's skeleton into out_dir/<name>.elf.

    The skeleton (startup code, semihosting shim, linker scripts) is written to
    out_dir/skeleton and linked automatically; `sources` must not contain those files.
    `defines` maps macro names to values (None: defined without a value).
    Raises MemoryOverflowError if the image does not fit flash or RAM.
    """
    out_dir = Path(out_dir)
    sources = [Path(s) for s in sources]
    if not sources:
        raise FirmwareBuildError("build_firmware needs at least one source file (the one with main())")
    for source in sources:
        if not source.is_file():
            raise FirmwareBuildError(f"source file {source} does not exist")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise FirmwareBuildError(f"firmware name {name!r} must be a plain file name (letters, digits, _ . -)")
    if not re.fullmatch(r"-O[0-3sgz]?|-Ofast", opt):
        raise FirmwareBuildError(f"opt must be a GCC optimisation flag such as -O2 or -Os, got {opt!r}")
    gcc = _tool("arm-none-eabi-gcc")
    skeleton = write_firmware_skeleton(board, out_dir / "skeleton")
    elf = out_dir / f"{name}.elf"
    map_file = out_dir / f"{name}.map"
    command = [
        gcc, *compiler_flags(board), opt, *_COMMON_CFLAGS, *extra_cflags,
        f"-I{skeleton.directory}", *(f"-I{d}" for d in include_dirs), *_define_flags(defines or {}),
        *map(str, sources), *map(str, skeleton.sources),
        f"-T{skeleton.linker_script}", f"-L{skeleton.directory}", *_LINK_FLAGS,
        f"-Wl,-Map,{map_file}", "-o", str(elf), "-Wl,--start-group", "-lc", "-lgcc", "-Wl,--end-group",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    output = result.stdout + result.stderr
    usage = _parse_memory_usage(output)
    if result.returncode != 0:
        overflows = {m[1]: int(m[2]) for m in _OVERFLOW.finditer(output)}
        if overflows:
            details = "; ".join(
                f"{region} overflowed by {over} bytes"
                + (f" (needs {usage[region].used} of {usage[region].size} bytes)" if region in usage else "")
                for region, over in overflows.items())
            hint = (f" The RAM figure includes the {board.stack_size}-byte stack (stack_size in the board file)."
                    if "RAM" in overflows else "")
            raise MemoryOverflowError(f"firmware does not fit board {board.name}: {details}.{hint}",
                                      overflows, usage)
        if "cannot find -lc" in output:
            raise ToolchainMissingError(
                "newlib's libc.a for arm-none-eabi is missing: install the Debian package "
                f"libnewlib-arm-none-eabi (apt-get install --no-install-recommends libnewlib-arm-none-eabi) "
                f"{SETUP_HINT}")
        syscalls = sorted(set(_UNDEFINED_SYSCALL.findall(output)))
        if syscalls:
            raise FirmwareBuildError(
                f"the firmware calls C library functions that need an operating system (printf, malloc, "
                f"...; undefined: {', '.join(syscalls)}). silifc firmware has no syscalls: print with "
                f"sh_puts/sh_put_i32 from semihost.h and use static buffers.\n{output.strip()}")
        raise FirmwareBuildError(f"building firmware for board {board.name} failed "
                                 f"(arm-none-eabi-gcc exit status {result.returncode}):\n{output.strip()}")
    missing = {"FLASH", "RAM"} - set(usage)
    if missing:
        raise FirmwareBuildError(f"the linker printed no memory usage for {', '.join(sorted(missing))}; "
                                 f"its output was:\n{output.strip()}")
    return FirmwareImage(elf=elf, map_file=map_file, board=board, memory=usage, compiler_output=output)


# ---------------------------------------------------------------- instruction-counting plugin

_PLUGIN_SOURCES = ("insncount.c", "qemu_plugin_api.h")
_PLUGIN_CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden")


def ensure_insncount_plugin() -> Path:
    """Path of the insncount QEMU plugin, built with the host gcc into the cache on first use.

    The file name carries a hash of the plugin sources and flags, so an updated silifc never
    runs a stale plugin and concurrent processes never see a half-written one.
    """
    tools = files("silifc.tools")
    texts = {name: (tools / name).read_bytes() for name in _PLUGIN_SOURCES}
    digest = hashlib.sha256()
    for name, text in texts.items():
        digest.update(name.encode() + b"\0" + text + b"\0")
    digest.update(" ".join(_PLUGIN_CFLAGS).encode())
    plugin_dir = cache_dir() / "qemu-plugins"
    plugin_dir.mkdir(exist_ok=True)
    plugin = plugin_dir / f"libinsncount-{digest.hexdigest()[:16]}.so"
    if plugin.exists():
        return plugin
    gcc = _tool("gcc")
    with tempfile.TemporaryDirectory(dir=plugin_dir) as tmp:
        for name, text in texts.items():
            (Path(tmp) / name).write_bytes(text)
        built = Path(tmp) / plugin.name
        result = subprocess.run([gcc, *_PLUGIN_CFLAGS, str(Path(tmp) / "insncount.c"), "-o", str(built)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise EmulatorError(f"building the QEMU instruction-counting plugin with the host gcc "
                                        f"failed:\n{(result.stdout + result.stderr).strip()}")
        os.replace(built, plugin)  # atomic: a concurrent build simply wins or loses the race
    return plugin


# ---------------------------------------------------------------- run

Symbol = Union[str, int]  # a symbol name from the ELF, or an address


@dataclass(frozen=True)
class RegionCount:
    instructions: int  # summed over passes
    passes: int  # times STOP ended an open region
    open_at_exit: bool  # START ran and STOP did not follow before the run ended


@dataclass(frozen=True)
class BucketCount:
    instructions: int  # executed while this marker was the latest one reached
    entries: int  # times the marker ran (0 for BEFORE_FIRST_MARKER)


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

    def marker_entries(self):
        """(bucket indices, instructions of each entry) of every marker execution, in order:
        exact per-entry splits of the bucket totals (e.g. per time step)."""
        if self.marker_trace is None:
            raise EmulatorError("this run was made without trace=True: no per-entry marker counts")
        trace = np.asarray(self.marker_trace, dtype=np.int64).reshape(-1, 2)
        ends = np.append(trace[1:, 1], self.instructions)
        return trace[:, 0], ends - trace[:, 1]


def _qemu_option_value(text: str) -> str:
    # In QEMU's key=value option lists a comma separates options; ",," is a literal comma.
    return text.replace(",", ",,")


@functools.lru_cache(maxsize=64)
def _symbols(elf: Path, mtime_ns: int) -> dict[str, tuple[int, str]]:
    """Symbol name -> (address, nm type letter); cached per ELF version."""
    del mtime_ns  # part of the cache key only
    result = subprocess.run([_tool("arm-none-eabi-nm"), "--defined-only", str(elf)],
                            capture_output=True, text=True)
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


def _read_count_report(path: Path) -> dict[str, int]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = int(value)
    if values.get("format") != 1 or "total" not in values:
        raise EmulatorError(f"unexpected instruction-count report {path}: {path.read_text()!r}")
    return values


def _describe_code_address(elf: Path, address: int) -> str:
    """' in function (file:line)' for a code address; empty if addr2line cannot tell."""
    addr2line = shutil.which("arm-none-eabi-addr2line")
    if addr2line is None:
        return ""
    result = subprocess.run([addr2line, "-f", "-e", str(elf), f"0x{address:x}"], capture_output=True, text=True)
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) < 2 or lines[0] == "??":
        return ""
    return f" in {lines[0]} ({Path(lines[1]).name})" if not lines[1].startswith("??") else f" in {lines[0]}"


def run_firmware(elf: str | Path | FirmwareImage, board: Board, args: Sequence[str] = (), input_file: str | Path | None = None,
                 insn_limit: int | None = DEFAULT_INSN_LIMIT, timeout: float = DEFAULT_TIMEOUT_S,
                 regions: Mapping[str, tuple[Symbol, Symbol]] | None = None,
                 markers: Sequence[Symbol] = (), check: bool = True, trace: bool = False) -> FirmwareRun:
    """Runs the ELF on the board's QEMU machine and returns its output, status and counts.

    args        extra words for the guest's command line (sh_cmdline: "firmware arg1 arg2")
    input_file  loaded raw at the board's emulator input blob (__input_blob in the linker script)
    insn_limit  instruction budget; None turns the guard off (slightly faster)
    regions     name -> (START, STOP): instructions from START up to STOP, summed over passes
    markers     functions whose entry opens a new bucket: per-bucket instruction counts
    check       raise FirmwareHangError / FirmwareFaultError instead of returning such a run
    trace       also record every marker execution (FirmwareRun.marker_trace, .marker_entries())
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
    qemu = _tool("qemu-system-arm")
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

    with tempfile.TemporaryDirectory(prefix="silifc-run-") as tmp:
        report = Path(tmp) / "insncount.txt"
        plugin_options = [_qemu_option_value(str(plugin)), f"out={_qemu_option_value(str(report))}"]
        if insn_limit is not None:
            plugin_options.append(f"limit={int(insn_limit)}")
        trace_file = Path(tmp) / "markers.bin"
        if trace:
            plugin_options.append(f"trace={_qemu_option_value(str(trace_file))}")
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
            process = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
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
            marker_trace = np.fromfile(trace_file, dtype=np.uint64).reshape(-1, 2)

    fault_lines = [line for line in stdout.splitlines() if line.startswith("FAULT ")]
    fault = fault_lines[-1] if process.returncode == FAULT_EXIT_STATUS and fault_lines else None
    run = FirmwareRun(
        stdout=stdout,
        exit_status=process.returncode,
        instructions=counts["total"],
        regions={name: RegionCount(counts[f"region.{i}"], counts[f"region.{i}.passes"],
                                   bool(counts[f"region.{i}.open"]))
                 for i, name in enumerate(region_names)},
        buckets={name: BucketCount(counts[f"bucket.{i}"], counts[f"bucket.{i}.entries"])
                 for i, name in enumerate(bucket_names)},
        limit_exceeded=bool(counts["limit_exceeded"]),
        fault=fault,
        stderr=stderr,
        command=tuple(command),
        marker_trace=marker_trace,
    )
    if check and run.limit_exceeded:
        raise FirmwareHangError(f"firmware {elf.name} on {board.emulator.machine} exceeded its instruction budget "
                                f"of {insn_limit} instructions (stopped after {run.instructions}); it probably "
                                f"loops forever. Output so far:\n{_tail(stdout)}", run)
    if check and fault is not None:
        pc = re.search(r"\bpc=(0x[0-9a-f]+)", fault)
        where = _describe_code_address(elf, int(pc[1], 16)) if pc else ""
        raise FirmwareFaultError(f"firmware {elf.name} faulted on {board.emulator.machine}{where}: "
                                 f"{_explain_fault(fault)}\n{fault}", run)
    return run


_EXCEPTION_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage fault", 5: "BusFault", 6: "UsageFault",
                    7: "SecureFault", 11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}
# Configurable Fault Status Register bits (ARMv7-M/ARMv8-M Mainline), as the ARM ARM names them.
_CFSR_CAUSES = {
    0: "instruction fetch from a no-access region (IACCVIOL)",
    1: "data access violation (DACCVIOL)",
    3: "MPU fault while unstacking (MUNSTKERR)",
    4: "MPU fault while stacking (MSTKERR)",
    8: "instruction bus error (IBUSERR)",
    9: "precise data bus error (PRECISERR)",
    10: "imprecise data bus error (IMPRECISERR)",
    11: "bus error while unstacking (UNSTKERR)",
    12: "bus error while stacking (STKERR)",
    16: "undefined instruction (UNDEFINSTR)",
    17: "invalid execution state, e.g. a branch to an even address (INVSTATE)",
    18: "invalid exception return (INVPC)",
    19: "coprocessor access while the FPU is disabled (NOCP)",
    20: "stack limit reached (STKOF)",
    24: "unaligned access (UNALIGNED)",
    25: "division by zero (DIVBYZERO)",
}
_CFSR_MMARVALID, _CFSR_BFARVALID = 7, 15


def _explain_fault(fault: str) -> str:
    """A readable summary of the startup code's FAULT line (exception name, CFSR causes)."""
    fields = dict(re.findall(r"(\w+)=(0x[0-9a-f]+|\d+)", fault))
    exception = int(fields.get("exception", "0"), 0)
    parts = [_EXCEPTION_NAMES.get(exception, f"exception {exception}")]
    if "stack overflow" in fault:
        parts.append("stack overflow")
    if "cfsr" in fields:
        cfsr = int(fields["cfsr"], 16)
        parts += [cause for bit, cause in _CFSR_CAUSES.items() if cfsr >> bit & 1]
        if cfsr >> _CFSR_BFARVALID & 1:
            parts.append(f"at address {fields['bfar']}")
        if cfsr >> _CFSR_MMARVALID & 1:
            parts.append(f"at address {fields['mmfar']}")
    return ", ".join(parts)


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

"""Build firmware for a board with arm-none-eabi-gcc, and find the programs silifc needs.

Firmware is a freestanding C program linked with the board's skeleton
(silifc.codegen.skeleton): startup code, a semihosting shim for console, files and exit
status, and linker scripts made from the board file.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..codegen.boards import Board, compiler_flags
from ..codegen.skeleton import write_firmware_skeleton
from ..errors import SilifcError
from .processes import die_with_parent_wrapper, run_child
from .stack import StackUsage, stack_usage

SETUP_HINT = "or run scripts/setup.sh"
_TOOL_PACKAGES = {  # program -> Debian package that provides it
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-nm": "binutils-arm-none-eabi",
    "arm-none-eabi-objcopy": "binutils-arm-none-eabi",
    "arm-none-eabi-objdump": "binutils-arm-none-eabi",
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
                  "-ffunction-sections", "-fdata-sections",
                  "-fcallgraph-info=su")    # per-function stack and calls, for the worst-case stack (stack.py)
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


# ---------------------------------------------------------------- tools

def tool(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        package = _TOOL_PACKAGES[program]
        raise ToolchainMissingError(
            f"{program} not found on PATH: install the Debian package {package} "
            f"(apt-get install --no-install-recommends {package}) {SETUP_HINT}")
    return path


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
    stack: StackUsage | None = None  # worst-case stack from gcc's call graph (silifc.target.stack)

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
                   *, extra_cflags: Sequence[str] = (), name: str = "firmware",
                   own_startup: bool = False) -> FirmwareImage:
    """Compiles and links `sources` with the board's skeleton into out_dir/<name>.elf.

    The skeleton (startup code, semihosting shim, linker scripts) is written to
    out_dir/skeleton and linked automatically; `sources` must not contain those files.
    own_startup=True links only the skeleton's linker scripts: for firmware that brings its
    own startup code and console (the device application, templates/device/).
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
    gcc = tool("arm-none-eabi-gcc")
    skeleton = write_firmware_skeleton(board, out_dir / "skeleton")
    elf = out_dir / f"{name}.elf"
    map_file = out_dir / f"{name}.map"
    command = [
        gcc, *compiler_flags(board), opt, *_COMMON_CFLAGS, *extra_cflags,
        f"-I{skeleton.directory}", *(f"-I{d}" for d in include_dirs), *_define_flags(defines or {}),
        *map(str, sources), *(() if own_startup else map(str, skeleton.sources)),
        f"-T{skeleton.linker_script}", f"-L{skeleton.directory}", *_LINK_FLAGS,
        f"-Wl,-Map,{map_file}", "-o", str(elf), "-Wl,--start-group", "-lc", "-lgcc", "-Wl,--end-group",
        *die_with_parent_wrapper(),
    ]
    result = run_child(command, text=True)
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
    stack = stack_usage(sorted(out_dir.glob(f"{name}.elf-*.ci")))
    return FirmwareImage(elf=elf, map_file=map_file, board=board, memory=usage, compiler_output=output, stack=stack)

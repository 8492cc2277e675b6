"""Target boards: one YAML file per board, checked against a strict schema.

A board file holds everything silifc needs to build for a part and to emulate it: the
core and its FPU/DSP (compiler flags, which kernels may be used), the clock, flash and RAM,
the stack the linker script reserves, the QEMU machine that stands in for the board, and
optionally a Renode platform. Boards ship in the `silifc.boards` package (the repository's
boards/ folder); adding a board means adding a YAML file there. Every --board option also
takes the path of a board file of the user's (`load_board("./my_board.yaml")`).

(This module is silifc.codegen.boards, singular: `silifc.boards` is the data package of YAML files,
and a module of the same name would shadow it or be shadowed by it.)

Schema (every key is required; write `null` where a value may be absent):

    name: nrf52840              # must equal the file name without .yaml
    description: ...            # one line, printed in reports and generated headers
    cpu: cortex-m4              # GCC -mcpu
    fpu: fpv4-sp-d16            # GCC -mfpu, or null for no FPU
    float_abi: hard             # GCC -mfloat-abi: soft (only without FPU) | softfp | hard
    has_dsp: true               # DSP extension (SIMD, saturating arithmetic) may be used
    has_long_multiply: true     # 32x32->64 multiplies (UMULL/SMULL/SMLAL); ARMv6-M has none
    clock_hz: 64000000
    flash: {origin: 0x00000000, size: 0x00100000}
    ram: {origin: 0x20000000, size: 0x00040000}
    stack_size: 8192            # bytes reserved at the bottom of RAM by the linker script
    emulator:                   # or null: build-only board
      machine: mps2-an386       # qemu-system-arm -M
      input_blob: {origin: 0x20040000, size: 0x003C0000}   # or null; outside flash and RAM
      notes: ...
    renode:                     # or null
      platform: platforms/cpus/nrf52840.repl
      uart: sysbus.uart0
      uart_driver: nrf52_uart   # console shim the Renode firmware uses (UART_DRIVERS)
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ..errors import SilifcError, UnknownBoardError

BOARD_PACKAGE = "silifc.boards"
BOARD_SUFFIX = ".yaml"


class BoardFileError(SilifcError):
    """A board file is not valid YAML or does not follow the board schema."""


@dataclass(frozen=True)
class MemoryRegion:
    origin: int
    size: int

    @property
    def end(self) -> int:
        """First address past the region."""
        return self.origin + self.size

    def overlaps(self, other: MemoryRegion) -> bool:
        return self.origin < other.end and other.origin < self.end

    def __str__(self) -> str:
        return f"0x{self.origin:08X}..0x{self.end - 1:08X} ({_human_size(self.size)})"


@dataclass(frozen=True)
class EmulatorSpec:
    """How QEMU stands in for the board."""

    machine: str  # qemu-system-arm -M
    input_blob: MemoryRegion | None  # emulator-only memory where a harness may load input
    notes: str


# Console shims of the Renode firmware (templates/renode/uart.c.j2), by UART register layout.
UART_DRIVERS = frozenset({"nrf52_uart", "stm32_usart"})


@dataclass(frozen=True)
class RenodeSpec:
    platform: str  # a Renode .repl path, e.g. platforms/cpus/nrf52840.repl
    uart: str  # the peripheral that carries console output, e.g. sysbus.uart0
    uart_driver: str  # one of UART_DRIVERS: the register-level console shim for that UART


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    cpu: str
    fpu: str | None
    float_abi: str
    has_dsp: bool
    has_long_multiply: bool
    clock_hz: int
    flash: MemoryRegion
    ram: MemoryRegion
    stack_size: int
    emulator: EmulatorSpec | None
    renode: RenodeSpec | None
    # Where the board was read from, for messages; two loads of one board compare equal.
    source: str = field(default="", compare=False, repr=False)

    @property
    def runnable(self) -> bool:
        """True if silifc can run firmware for this board in QEMU."""
        return self.emulator is not None


# ---------------------------------------------------------------- core capabilities

@dataclass(frozen=True)
class _Core:
    fpus: frozenset[str]  # -mfpu values this core can have (empty: never has an FPU)
    dsp: bool  # the DSP extension exists on (some variants of) this core
    long_multiply: bool


_NO_FPU: frozenset[str] = frozenset()
# Only cores whose facts are checked here; a new core needs one line.
_CORES = {
    "cortex-m0": _Core(_NO_FPU, dsp=False, long_multiply=False),
    "cortex-m0plus": _Core(_NO_FPU, dsp=False, long_multiply=False),
    "cortex-m3": _Core(_NO_FPU, dsp=False, long_multiply=True),
    "cortex-m4": _Core(frozenset({"fpv4-sp-d16"}), dsp=True, long_multiply=True),
    "cortex-m7": _Core(frozenset({"fpv5-sp-d16", "fpv5-d16"}), dsp=True, long_multiply=True),
    "cortex-m23": _Core(_NO_FPU, dsp=False, long_multiply=False),
    "cortex-m33": _Core(frozenset({"fpv5-sp-d16"}), dsp=True, long_multiply=True),
}
_FLOAT_ABIS = ("soft", "softfp", "hard")


# ---------------------------------------------------------------- schema

@dataclass(frozen=True)
class _Nullable:
    kind: Any


_REGION_SCHEMA = {"origin": int, "size": int}
_SCHEMA: dict[str, Any] = {
    "name": str,
    "description": str,
    "cpu": str,
    "fpu": _Nullable(str),
    "float_abi": str,
    "has_dsp": bool,
    "has_long_multiply": bool,
    "clock_hz": int,
    "flash": _REGION_SCHEMA,
    "ram": _REGION_SCHEMA,
    "stack_size": int,
    "emulator": _Nullable({"machine": str, "input_blob": _Nullable(_REGION_SCHEMA), "notes": str}),
    "renode": _Nullable({"platform": str, "uart": str, "uart_driver": str}),
}

_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _kind_name(kind: Any) -> str:
    if isinstance(kind, _Nullable):
        return f"{_kind_name(kind.kind)} or null"
    return "a mapping" if isinstance(kind, dict) else _KIND_NAMES[kind]


def _check_schema(value: Any, kind: Any, key: str, where: str) -> None:
    """Raises BoardFileError at the first unknown/missing key or wrongly typed value."""
    if isinstance(kind, _Nullable):
        if value is not None:
            _check_schema(value, kind.kind, key, where)
        return
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            raise BoardFileError(f"{where}: {key or 'the file'} must be a mapping, got {_describe(value)}")
        prefix = f"{key}." if key else ""
        unknown = [k for k in value if k not in kind]
        if unknown:
            raise BoardFileError(f"{where}: unknown key '{prefix}{unknown[0]}'; "
                                 f"allowed keys{' in ' + key if key else ''}: {', '.join(kind)}")
        missing = [k for k in kind if k not in value]
        if missing:
            # Optional parts are spelt out as null, so a forgotten key never means "absent".
            hint = f" (write '{missing[0]}: null' if there is none)" if isinstance(kind[missing[0]], _Nullable) else ""
            raise BoardFileError(f"{where}: missing key '{prefix}{missing[0]}'{hint}")
        for k, sub_kind in kind.items():
            _check_schema(value[k], sub_kind, prefix + k, where)
        return
    # bool is a subclass of int in Python: `size: true` must not pass as 1.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BoardFileError(f"{where}: '{key}' must be {_kind_name(kind)}, got {_describe(value)}")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    return f"{value!r} ({type(value).__name__})"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (plain PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


# ---------------------------------------------------------------- semantic checks

_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
_MACHINE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # goes onto a QEMU command line
_ADDRESS_LIMIT = 1 << 32


def _check_region(region: MemoryRegion, key: str, where: str, alignment: int = 4) -> None:
    if region.size <= 0:
        raise BoardFileError(f"{where}: {key}.size must be positive, got {region.size}")
    if region.origin < 0 or region.end > _ADDRESS_LIMIT:
        raise BoardFileError(f"{where}: {key} 0x{region.origin:X} + 0x{region.size:X} "
                             f"does not fit the 32-bit address space")
    if region.origin % alignment or region.size % alignment:
        raise BoardFileError(f"{where}: {key}.origin and {key}.size must be multiples of {alignment}, "
                             f"got 0x{region.origin:X} and 0x{region.size:X}")


def _check_board(board: Board, where: str, expected_name: str) -> None:
    if not _NAME_PATTERN.match(board.name):
        raise BoardFileError(f"{where}: name {board.name!r} must be lower case letters, digits and "
                             f"underscores, starting with a letter (it names generated files)")
    if board.name != expected_name:
        raise BoardFileError(f"{where}: name {board.name!r} differs from the file name "
                             f"{expected_name + BOARD_SUFFIX!r}; rename one of them")
    if not board.description.strip():
        raise BoardFileError(f"{where}: description must not be empty")

    core = _CORES.get(board.cpu)
    if core is None:
        raise BoardFileError(f"{where}: cpu {board.cpu!r} is not a supported core; "
                             f"supported: {', '.join(_CORES)}")
    if board.fpu is not None and board.fpu not in core.fpus:
        allowed = ", ".join(sorted(core.fpus)) if core.fpus else "none (write fpu: null)"
        raise BoardFileError(f"{where}: fpu {board.fpu!r} does not exist on {board.cpu}; possible: {allowed}")
    if board.float_abi not in _FLOAT_ABIS:
        raise BoardFileError(f"{where}: float_abi must be one of {', '.join(_FLOAT_ABIS)}, got {board.float_abi!r}")
    if board.fpu is None and board.float_abi != "soft":
        raise BoardFileError(f"{where}: float_abi {board.float_abi!r} needs an FPU; with fpu: null use soft")
    if board.fpu is not None and board.float_abi == "soft":
        raise BoardFileError(f"{where}: float_abi soft would leave the {board.fpu} FPU unused; use hard "
                             f"(or softfp to link with soft-float libraries)")
    if board.has_dsp and not core.dsp:
        raise BoardFileError(f"{where}: has_dsp is true, but {board.cpu} has no DSP extension")
    if board.has_long_multiply and not core.long_multiply:
        raise BoardFileError(f"{where}: has_long_multiply is true, but {board.cpu} has no "
                             f"32x32->64 multiply instructions")
    if board.clock_hz <= 0:
        raise BoardFileError(f"{where}: clock_hz must be positive, got {board.clock_hz}")

    _check_region(board.flash, "flash", where)
    _check_region(board.ram, "ram", where, alignment=8)  # the stack starts at the RAM origin
    if board.flash.overlaps(board.ram):
        raise BoardFileError(f"{where}: flash {board.flash} and ram {board.ram} overlap")
    if board.stack_size <= 0 or board.stack_size % 8:
        raise BoardFileError(f"{where}: stack_size must be a positive multiple of 8 (AAPCS stack "
                             f"alignment), got {board.stack_size}")
    if board.stack_size >= board.ram.size:
        raise BoardFileError(f"{where}: stack_size {board.stack_size} leaves no RAM of {board.ram.size} bytes "
                             f"for data")

    emulator = board.emulator
    if emulator is not None:
        if not _MACHINE_PATTERN.match(emulator.machine):
            raise BoardFileError(f"{where}: emulator.machine {emulator.machine!r} is not a QEMU machine name")
        blob = emulator.input_blob
        if blob is not None:
            _check_region(blob, "emulator.input_blob", where)
            for key, region in (("flash", board.flash), ("ram", board.ram)):
                if blob.overlaps(region):
                    raise BoardFileError(f"{where}: emulator.input_blob {blob} overlaps {key} {region}; "
                                         f"the blob must lie in emulator memory the image never uses")
    if board.renode is not None and not (board.renode.platform.strip() and board.renode.uart.strip()):
        raise BoardFileError(f"{where}: renode.platform and renode.uart must not be empty")
    if board.renode is not None and board.renode.uart_driver not in UART_DRIVERS:
        raise BoardFileError(f"{where}: renode.uart_driver {board.renode.uart_driver!r} is not one of "
                             f"{', '.join(sorted(UART_DRIVERS))}")


# ---------------------------------------------------------------- loading

def _parse_board(text: str, where: str, expected_name: str) -> Board:
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise BoardFileError(f"{where}: not valid YAML: {exc}") from exc
    _check_schema(data, _SCHEMA, "", where)

    def region(values: dict | None) -> MemoryRegion | None:
        return None if values is None else MemoryRegion(values["origin"], values["size"])

    emulator = data["emulator"]
    renode = data["renode"]
    board = Board(
        name=data["name"],
        description=data["description"],
        cpu=data["cpu"],
        fpu=data["fpu"],
        float_abi=data["float_abi"],
        has_dsp=data["has_dsp"],
        has_long_multiply=data["has_long_multiply"],
        clock_hz=data["clock_hz"],
        flash=region(data["flash"]),
        ram=region(data["ram"]),
        stack_size=data["stack_size"],
        emulator=None if emulator is None else EmulatorSpec(
            machine=emulator["machine"], input_blob=region(emulator["input_blob"]), notes=emulator["notes"]),
        renode=None if renode is None else RenodeSpec(platform=renode["platform"], uart=renode["uart"],
                                                      uart_driver=renode["uart_driver"]),
        source=where,
    )
    _check_board(board, where, expected_name)
    return board


def list_boards() -> list[str]:
    """Names of the boards that ship with silifc, sorted."""
    return sorted(entry.name[: -len(BOARD_SUFFIX)] for entry in files(BOARD_PACKAGE).iterdir()
                  if entry.name.endswith(BOARD_SUFFIX) and entry.is_file())


def load_board(name: str) -> Board:
    """The shipped board called `name`, or the board file at that path (a value with a path
    separator or ending in .yaml); UnknownBoardError (listing the known boards) if neither."""
    if "/" in name or "\\" in name or name.endswith(BOARD_SUFFIX):
        return board_from_file(name)
    return _shipped_board(name)


@functools.lru_cache(maxsize=None)
def _shipped_board(name: str) -> Board:
    known = list_boards()
    if name not in known:
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownBoardError(f"unknown board {name!r}{hint}; known boards: {', '.join(known)}. "
                                f"A board file of your own can be given by its path (e.g. ./my_board.yaml).")
    resource = files(BOARD_PACKAGE) / (name + BOARD_SUFFIX)
    return _parse_board(resource.read_text(encoding="utf-8"), f"{BOARD_PACKAGE}/{name}{BOARD_SUFFIX}", name)


def board_from_file(path: str | Path) -> Board:
    """A board from a YAML file of the user's, checked like the shipped ones."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BoardFileError(f"{path}: cannot read board file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise BoardFileError(f"{path}: not a text (UTF-8) file") from exc
    return _parse_board(text, str(path), path.name[: -len(BOARD_SUFFIX)] if path.name.endswith(BOARD_SUFFIX)
                        else path.stem)


def compiler_flags(board: Board) -> tuple[str, ...]:
    """GCC target flags for the board: -mcpu, -mthumb, -mfloat-abi and -mfpu (if any)."""
    cpu = board.cpu
    if cpu == "cortex-m33" and not board.has_dsp:
        cpu += "+nodsp"  # GCC's plain cortex-m33 assumes the (optional) DSP extension
    flags = [f"-mcpu={cpu}", "-mthumb", f"-mfloat-abi={board.float_abi}"]
    if board.fpu is not None:
        flags.append(f"-mfpu={board.fpu}")
    return tuple(flags)


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"

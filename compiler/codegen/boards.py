"""Target boards: one YAML file per board, checked against a strict schema.

A board file holds everything silifc needs to build for a part and to emulate it: the
core and its FPU/DSP (compiler flags, which kernels may be used), the clock, flash and RAM,
the stack the linker script reserves, the QEMU machine that stands in for the board, and
optionally a Renode platform. Boards ship in the `silifc.boards` package (the repository's
boards/ folder); adding a board means adding a YAML file there. Every --board option also
takes the path of a board file of the user's (`load_board("./my_board.yaml")`), and the name of
a board file in a folder of the SILIFC_BOARD_ROOT search path (folders separated by os.pathsep,
searched in order, before the shipped boards: a board of your own may replace a shipped one).

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
      uart_driver: nrf52_uarte  # console shim the Renode firmware uses (UART_DRIVERS)
    device:                     # or null: a real board the device application (templates/device/) runs on
      soc: nrf52840             # register header and emulator model (DEVICE_SOCS)
      hfclk: hfxo               # HFCLK source started at boot: hfxo (32 MHz crystal) or hfint
      dcdc: true                # the board has the DC/DC inductor: enable REG1's DC/DC converter
      pdm_clk: P0.26            # pins as P<port>.<pin>
      pdm_din: P0.25
      mic_power: P0.17          # or null: driven high before the PDM starts
      uart_tx: P1.03
      uart_baud: 115200
      led: P0.13
      led_active_low: false
      flash_method: bossac      # pyocd | bossac | uf2 (FLASH_METHODS)
      uf2_family: null          # UF2 family ID (uf2 boards only), e.g. 0xADA52840
      pyocd_target: nrf52840    # pyocd --target, for SWD flashing (any board, with a probe)
    The flash region of a device board is the application's: it starts after the bootloader
    (and SoftDevice) the board ships with, so the linker places the vector table there.
"""
from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ..errors import SilifcError, UnknownBoardError

BOARD_PACKAGE = "silifc.boards"
BOARD_SUFFIX = ".yaml"
BOARD_PATH_ENV = "SILIFC_BOARD_ROOT"


class BoardFileError(SilifcError):
    """A board file is not valid YAML or does not follow the board schema."""


class NoDeviceApplicationError(SilifcError):
    """The board has no `device` section: no device firmware can be built or flashed for it."""


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
UART_DRIVERS = frozenset({"nrf52_uarte", "stm32_usart"})


@dataclass(frozen=True)
class RenodeSpec:
    platform: str  # a Renode .repl path, e.g. platforms/cpus/nrf52840.repl
    uart: str  # the peripheral that carries console output, e.g. sysbus.uart0
    uart_driver: str  # one of UART_DRIVERS: the register-level console shim for that UART


@dataclass(frozen=True)
class Pin:
    """A GPIO pin P<port>.<pin>."""

    port: int
    pin: int

    @property
    def number(self) -> int:
        """The nRF pin number (port * 32 + pin), as PSEL registers and pin tables count."""
        return self.port * 32 + self.pin

    def __str__(self) -> str:
        return f"P{self.port}.{self.pin:02d}"


# SoCs with a device application (templates/device/) and an emulator (target/<soc>/): pins per GPIO port.
DEVICE_SOCS = {"nrf52840": {"cpu": "cortex-m4", "port_pins": (32, 16)}}
FLASH_METHODS = ("pyocd", "bossac", "uf2")
# UARTE BAUDRATE values the nRF52840 register header defines (UARTE0__BAUDRATE__BAUDRATE__Baud<n>).
UART_BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000)
HFCLK_SOURCES = ("hfxo", "hfint")


@dataclass(frozen=True)
class DeviceSpec:
    """What the device application needs to run on a real board (see the schema above)."""

    soc: str
    hfclk: str
    dcdc: bool
    pdm_clk: Pin
    pdm_din: Pin
    mic_power: Pin | None
    uart_tx: Pin
    uart_baud: int
    led: Pin
    led_active_low: bool
    flash_method: str
    uf2_family: int | None
    pyocd_target: str


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
    device: DeviceSpec | None = None
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
    "device": _Nullable({"soc": str, "hfclk": str, "dcdc": bool, "pdm_clk": str, "pdm_din": str,
                         "mic_power": _Nullable(str), "uart_tx": str, "uart_baud": int, "led": str,
                         "led_active_low": bool, "flash_method": str, "uf2_family": _Nullable(int),
                         "pyocd_target": str}),
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
    if board.device is not None:
        _check_device(board, where)


_PIN_PATTERN = re.compile(r"P(\d)\.(\d{1,2})\Z")


def _parse_pin(text: str | None, key: str, where: str) -> Pin | None:
    if text is None:
        return None
    match = _PIN_PATTERN.match(text)
    if not match:
        raise BoardFileError(f"{where}: device.{key} {text!r} is not a pin; write P<port>.<pin>, e.g. P0.26")
    return Pin(int(match[1]), int(match[2]))


def _check_device(board: Board, where: str) -> None:
    device = board.device
    soc = DEVICE_SOCS.get(device.soc)
    if soc is None:
        raise BoardFileError(f"{where}: device.soc {device.soc!r} has no device application; supported: "
                             f"{', '.join(DEVICE_SOCS)}")
    if board.cpu != soc["cpu"]:
        raise BoardFileError(f"{where}: device.soc {device.soc} has a {soc['cpu']}, but cpu is {board.cpu}")
    if device.hfclk not in HFCLK_SOURCES:
        raise BoardFileError(f"{where}: device.hfclk must be one of {', '.join(HFCLK_SOURCES)}, got {device.hfclk!r}")
    pins = {"pdm_clk": device.pdm_clk, "pdm_din": device.pdm_din, "mic_power": device.mic_power,
            "uart_tx": device.uart_tx, "led": device.led}
    used: dict[Pin, str] = {}
    for key, pin in pins.items():
        if pin is None:
            continue
        ports = soc["port_pins"]
        if pin.port >= len(ports) or pin.pin >= ports[pin.port]:
            raise BoardFileError(f"{where}: device.{key} {pin} does not exist on the {device.soc} (port 0 has "
                                 f"P0.00..P0.{ports[0] - 1}, port 1 P1.00..P1.{ports[1] - 1:02d})")
        if pin in used:
            raise BoardFileError(f"{where}: device.{key} and device.{used[pin]} are both {pin}")
        used[pin] = key
    if device.uart_baud not in UART_BAUDS:
        raise BoardFileError(f"{where}: device.uart_baud {device.uart_baud} is not a UARTE baud rate; "
                             f"choose one of {', '.join(map(str, UART_BAUDS))}")
    if device.flash_method not in FLASH_METHODS:
        raise BoardFileError(f"{where}: device.flash_method must be one of {', '.join(FLASH_METHODS)}, "
                             f"got {device.flash_method!r}")
    if (device.flash_method == "uf2") != (device.uf2_family is not None):
        raise BoardFileError(f"{where}: device.uf2_family is needed exactly when device.flash_method is uf2 "
                             f"(nRF52840: 0xADA52840)")
    if not device.pyocd_target.strip():
        raise BoardFileError(f"{where}: device.pyocd_target must not be empty")


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
    device = data["device"]
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
        device=None if device is None else DeviceSpec(
            **{**device, **{key: _parse_pin(device[key], key, where)
                            for key in ("pdm_clk", "pdm_din", "mic_power", "uart_tx", "led")}}),
        source=where,
    )
    _check_board(board, where, expected_name)
    return board


def board_search_path() -> list[Path]:
    """The folders of SILIFC_BOARD_ROOT, in order; an entry that is not a folder is an error."""
    folders = [Path(entry) for entry in os.environ.get(BOARD_PATH_ENV, "").split(os.pathsep) if entry]
    for folder in folders:
        if not folder.is_dir():
            raise BoardFileError(f"{BOARD_PATH_ENV} names {folder}, which is not a folder; set it to folders of "
                                 f"board files separated by '{os.pathsep}'")
    return folders


def shipped_boards() -> list[str]:
    """Names of the boards that ship with silifc, sorted."""
    return sorted(entry.name[: -len(BOARD_SUFFIX)] for entry in files(BOARD_PACKAGE).iterdir()
                  if entry.name.endswith(BOARD_SUFFIX) and entry.is_file())


def list_boards() -> list[str]:
    """Names of every board --board accepts by name: SILIFC_BOARD_ROOT's and the shipped ones, sorted."""
    names = set(shipped_boards())
    for folder in board_search_path():
        names.update(entry.name[: -len(BOARD_SUFFIX)] for entry in folder.iterdir()
                     if entry.name.endswith(BOARD_SUFFIX) and entry.is_file())
    return sorted(names)


def load_board(name: str) -> Board:
    """The board file at `name` (a value with a path separator or ending in .yaml), else the
    board file `name`.yaml of the first SILIFC_BOARD_ROOT folder that has one, else the shipped
    board `name`; UnknownBoardError (listing the known boards) if none."""
    if "/" in name or "\\" in name or name.endswith(BOARD_SUFFIX):
        return board_from_file(name)
    for folder in board_search_path():
        candidate = folder / (name + BOARD_SUFFIX)
        if candidate.is_file():
            return board_from_file(candidate)
    return _shipped_board(name)


@functools.lru_cache(maxsize=None)
def _shipped_board(name: str) -> Board:
    known = list_boards()
    if name not in known:
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownBoardError(f"unknown board {name!r}{hint}; known boards: {', '.join(known)}. "
                                f"A board file of your own can be given by its path (e.g. ./my_board.yaml), or by "
                                f"its name when its folder is in {BOARD_PATH_ENV}.")
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


def require_device_board(board: Board) -> DeviceSpec:
    """The board's device section; NoDeviceApplicationError naming the boards that have one."""
    if board.device is None:
        real = [name for name in list_boards() if load_board(name).device is not None]
        raise NoDeviceApplicationError(
            f"board {board.name} has no device application (device: null in its board file), so no firmware "
            f"for a real board can be built or flashed for it; boards with one: {', '.join(real)}")
    return board.device


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

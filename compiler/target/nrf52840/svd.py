"""Nordic's nRF52840 System View Description (nrf52840.svd), read from the pyocd package.

pyocd ships the SVD files of the parts it supports in pyocd/debug/svd/svd_data.zip. This module
parses nrf52840.svd into peripherals, registers (cluster registers named CLUSTER_REG, array
registers without their [%s]), fields and enumerated values, for the register-header check
(regs.py, tests/test_device_svd.py) and the emulator (emulator.py), which takes every register's
reset value and address from it.
"""
from __future__ import annotations

import functools
import io
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib.resources import files

from ...errors import SilifcError

SVD_NAME = "nrf52840.svd"
INSTALL_HINT = "pip install 'silifc[device]' (or pip install pyocd)"


class SvdError(SilifcError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    lsb: int
    width: int
    values: dict[str, int]             # enumerated value name -> value

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Register:
    name: str
    offset: int
    reset: int
    fields: dict[str, Field]
    dim: int = 1                       # array registers: elements
    stride: int = 0                    # ... and their distance


@dataclass(frozen=True)
class Peripheral:
    name: str
    base: int
    registers: dict[str, Register]
    interrupts: dict[str, int] = field(default_factory=dict)

    def register_at(self, offset: int) -> tuple[Register, int] | None:
        """The register (and array index) at a byte offset, or None."""
        for register in self.registers.values():
            index, rest = divmod(offset - register.offset, register.stride or 4)
            if rest == 0 and 0 <= index < register.dim:
                return register, index
        return None


@dataclass(frozen=True)
class Device:
    name: str
    peripherals: dict[str, Peripheral]
    source: str

    @property
    def interrupt_count(self) -> int:
        return 1 + max(n for p in self.peripherals.values() for n in p.interrupts.values())


def _int(text: str | None, default: int = 0) -> int:
    if text is None:
        return default
    text = text.strip().lower()
    return int(text, 16) if text.startswith("0x") else int(text.replace("#", "0b"), 0) if text.startswith("#") else int(text)


def _fields(register: ET.Element) -> dict[str, Field]:
    result = {}
    for f in register.iter("field"):
        if f.findtext("lsb") is not None:
            lsb, width = _int(f.findtext("lsb")), _int(f.findtext("msb")) - _int(f.findtext("lsb")) + 1
        elif f.findtext("bitOffset") is not None:
            lsb, width = _int(f.findtext("bitOffset")), _int(f.findtext("bitWidth"), 1)
        else:
            lo, hi = f.findtext("bitRange").strip("[]").split(":")[::-1]
            lsb, width = int(lo), int(hi) - int(lo) + 1
        values = {e.findtext("name"): _int(e.findtext("value")) for e in f.iter("enumeratedValue")
                  if e.findtext("value") is not None}
        result[f.findtext("name")] = Field(f.findtext("name"), lsb, width, values)
    return result


def _registers(block: ET.Element, prefix: str = "", base: int = 0, reset: int = 0) -> dict[str, Register]:
    registers = {}
    for node in block:
        name = node.findtext("name")
        if node.tag == "cluster":
            registers.update(_registers(node, prefix + name.replace("[%s]", "") + "_",
                                        base + _int(node.findtext("addressOffset")), reset))
        elif node.tag == "register":
            registers[prefix + name.replace("[%s]", "")] = Register(
                name=prefix + name.replace("[%s]", ""), offset=base + _int(node.findtext("addressOffset")),
                reset=_int(node.findtext("resetValue"), reset), fields=_fields(node),
                dim=_int(node.findtext("dim"), 1), stride=_int(node.findtext("dimIncrement"), 0))
    return registers


def parse_svd(text: bytes | str, source: str = SVD_NAME) -> Device:
    root = ET.fromstring(text)
    raw = {p.findtext("name"): p for p in root.iter("peripheral")}
    default_reset = _int(root.findtext("resetValue"), 0)
    peripherals = {}
    for name, node in raw.items():
        template = raw[node.get("derivedFrom")] if node.get("derivedFrom") else node
        block = template.find("registers")
        registers = _registers(block, reset=default_reset) if block is not None else {}
        interrupts = {i.findtext("name"): _int(i.findtext("value")) for i in node.findall("interrupt")}
        peripherals[name] = Peripheral(name, _int(node.findtext("baseAddress")), registers, interrupts)
    return Device(root.findtext("name"), peripherals, source)


@functools.lru_cache(maxsize=1)
def load_nrf52840_svd() -> Device:
    """Nordic's nrf52840.svd from the installed pyocd package; SvdError (with the fix) if absent."""
    try:
        archive = files("pyocd.debug.svd") / "svd_data.zip"
        data = archive.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise SvdError(f"Nordic's register description {SVD_NAME} comes from the pyocd package, which is not "
                       f"installed ({exc}); install it: {INSTALL_HINT}") from exc
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        if SVD_NAME not in bundle.namelist():
            raise SvdError(f"pyocd's svd_data.zip has no {SVD_NAME}; install a pyocd that ships it: {INSTALL_HINT}")
        return parse_svd(bundle.read(SVD_NAME), f"pyocd {_pyocd_version()}: debug/svd/svd_data.zip/{SVD_NAME}")


def _pyocd_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyocd")
    except PackageNotFoundError:
        return "(unknown version)"

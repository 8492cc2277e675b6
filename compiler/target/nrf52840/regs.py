"""The register header of the device application (templates/device/nrf52840_regs.h.j2),
parsed and checked against the vendor's SVD.

Every `#define` of the header is classified by its name (the header's own comment gives the
scheme) and compared with nrf52840.svd: peripheral base addresses, register offsets and array
strides, field positions and masks, enumerated field values, interrupt numbers and the number
of device interrupts. The device code itself writes registers only through these names
(`raw_register_literals` finds any address written around them), so this check covers every
register the firmware touches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_DEFINE = re.compile(r"^\s*#define\s+(\w+)(?:\(.*?\))?\s+(.*?)\s*(?:/\*.*)?$")
_NUMBER = re.compile(r"\(?\s*(0x[0-9A-Fa-f]+|\d+)u?\s*\)?\Z")
# Definitions that are not SVD facts: the access macro, the task/event conventions (PS
# "Peripheral interface"), the include guard and the Cortex-M system registers (ARMv7-M ARM).
NOT_IN_SVD = re.compile(r"(NRF_REG|NRF_TASK_TRIGGER|NRF_EVENT_CLEAR|SILIFC_\w+_H|ARM_\w+)\Z")


@dataclass(frozen=True)
class Definition:
    name: str
    value: int | None
    kind: str                  # base, offset, stride, pos, msk, value, irq, irq_count, other
    path: tuple[str, ...]      # (PER,), (PER, REG), (PER, REG, FIELD), (PER, REG, FIELD, VALUE), (IRQ,)


def parse_register_header(text: str) -> list[Definition]:
    definitions = []
    for line in text.splitlines():
        match = _DEFINE.match(line)
        if not match:
            continue
        name, body = match[1], match[2]
        number = _NUMBER.match(body)
        value = int(number[1].rstrip("u"), 0) if number else None
        parts = name.split("__")
        if NOT_IN_SVD.match(name):
            kind, path = "other", ()
        elif name == "NRF_IRQ_COUNT":
            kind, path = "irq_count", ()
        elif name.startswith("NRF_") and name.endswith("_BASE") and len(parts) == 1:
            kind, path = "base", (name[4:-5],)
        elif name.endswith("_IRQn") and len(parts) == 1:
            kind, path = "irq", (name[:-5],)
        elif len(parts) == 2:
            kind, path = "offset", tuple(parts)
        elif len(parts) == 3 and parts[2] == "STRIDE":
            kind, path = "stride", tuple(parts[:2])
        elif len(parts) == 4 and parts[3] in ("Pos", "Msk"):
            kind, path = parts[3].lower(), tuple(parts[:3])
        elif len(parts) == 4:
            kind, path = "value", tuple(parts)
        else:
            raise ValueError(f"register header: {name} follows none of the naming rules")
        if kind != "other" and value is None:
            raise ValueError(f"register header: {name} is not a plain number ({body!r})")
        definitions.append(Definition(name, value, kind, path))
    return definitions


def check_against_svd(definitions: list[Definition], device) -> list[str]:
    """Every definition that disagrees with the SVD, as 'NAME = value: SVD says ...'."""
    irqs = {name: number for p in device.peripherals.values() for name, number in p.interrupts.items()}
    problems = []
    for d in definitions:
        said = None if d.kind == "other" else _svd_disagrees(d, device, irqs)
        if said is not None:
            hexadecimal = d.kind in ("base", "offset", "value", "msk") and d.value is not None and d.value > 9
            problems.append(f"{d.name} = {f'0x{d.value:X}' if hexadecimal else d.value}: {said}")
    return problems


def _svd_disagrees(d: Definition, device, irqs: dict[str, int]) -> str | None:
    """What the SVD says instead of definition `d`, or None when it agrees. Each level
    (peripheral, register, field) must exist before its contents are compared."""
    if d.kind == "irq_count":
        return None if d.value == device.interrupt_count else \
            f"the SVD has interrupts 0..{device.interrupt_count - 1}"
    if d.kind == "irq":
        return None if irqs.get(d.path[0]) == d.value else f"SVD interrupt {d.path[0]} is {irqs.get(d.path[0], 'missing')}"
    peripheral = device.peripherals.get(d.path[0])
    if peripheral is None:
        return f"no peripheral {d.path[0]} in the SVD"
    if d.kind == "base":
        return None if peripheral.base == d.value else f"SVD base of {peripheral.name} is 0x{peripheral.base:08X}"
    register = peripheral.registers.get(d.path[1])
    if register is None:
        return f"{peripheral.name} has no register {d.path[1]} in the SVD"
    where = f"{peripheral.name}.{register.name}"
    if d.kind == "offset":
        return None if register.offset == d.value else f"SVD offset of {where} is 0x{register.offset:03X}"
    if d.kind == "stride":
        return None if register.dim > 1 and register.stride == d.value else \
            f"SVD {where} has {register.dim} elements {register.stride} apart"
    field = register.fields.get(d.path[2])
    if field is None:
        return f"{where} has no field {d.path[2]} in the SVD"
    if d.kind == "pos":
        return None if field.lsb == d.value else f"SVD field {register.name}.{field.name} starts at bit {field.lsb}"
    if d.kind == "msk":
        return None if field.mask == d.value else f"SVD field {register.name}.{field.name} has mask 0x{field.mask:X}"
    if field.values.get(d.path[3]) != d.value:            # d.kind == "value"
        known = ", ".join(f"{k}={v:#x}" for k, v in field.values.items())
        return f"SVD values of {register.name}.{field.name}: {known or 'none'}"
    if d.value >= 1 << field.width:
        return f"does not fit the {field.width}-bit field {field.name}"
    return None


_RAW_ADDRESS = re.compile(r"\b0x(?:4000|4001|4002|4003|5000|E000)[0-9A-Fa-f]{4}u?\b")


def raw_register_literals(c_text: str) -> list[str]:
    """Peripheral or system addresses written as numbers in device C code (outside the header)."""
    return sorted(set(_RAW_ADDRESS.findall(c_text)))

"""Readable explanations of the faults the startup code reports (its "FAULT ..." line)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from .processes import run_child

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


def explain_fault(fault: str) -> str:
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


def describe_code_address(elf: Path, address: int) -> str:
    """' in function (file:line)' for a code address; empty if addr2line cannot tell."""
    addr2line = shutil.which("arm-none-eabi-addr2line")
    if addr2line is None:
        return ""
    result = run_child([addr2line, "-f", "-e", str(elf), f"0x{address:x}"], text=True)
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) < 2 or lines[0] == "??":
        return ""
    return f" in {lines[0]} ({Path(lines[1]).name})" if not lines[1].startswith("??") else f" in {lines[0]}"

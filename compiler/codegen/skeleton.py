"""The board-support files every silifc firmware is linked with (templates/firmware/):
startup code with the vector table and fault reporting, the semihosting shim, the marker
header for per-phase counting, and the linker scripts made from the board file.

Exit-status contract between this skeleton and the runner (silifc.target.qemu):
  main()'s return value   the emulator's exit status (mod 256)
  3                       the startup code caught a fault and printed a "FAULT ..." line
  124                     the instruction budget ran out (the counting plugin stopped QEMU)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..io.files import write_generated
from .boards import Board
from .templates import render

FAULT_EXIT_STATUS = 3
LIMIT_EXIT_STATUS = 124


@dataclass(frozen=True)
class FirmwareSkeleton:
    """The board-support files every silifc firmware is linked with."""

    directory: Path  # also the include directory (semihost.h, markers.h)
    sources: tuple[Path, ...]  # startup.c, semihost.c
    linker_script: Path  # <board>.ld; it INCLUDEs sections.ld from the same directory




def skeleton_files(board: Board) -> dict[str, str]:
    """Startup code, semihosting shim, marker header and linker scripts, by file name."""
    outputs = {
        "semihost.h": "semihost.h.j2",
        "semihost.c": "semihost.c.j2",
        "markers.h": "markers.h.j2",
        "startup.c": "startup.c.j2",
        "sections.ld": "sections.ld.j2",
        f"{board.name}.ld": "memory.ld.j2",
    }
    return {output: render(f"firmware/{template}", board=board, fault_exit_status=FAULT_EXIT_STATUS)
            for output, template in outputs.items()}


def write_firmware_skeleton(board: Board, out_dir: str | Path) -> FirmwareSkeleton:
    """Writes the skeleton files into out_dir (its "skeleton" part, io.files.write_generated)."""
    out_dir = Path(out_dir)
    write_generated(out_dir, skeleton_files(board), part="skeleton")
    return FirmwareSkeleton(directory=out_dir,
                            sources=(out_dir / "startup.c", out_dir / "semihost.c"),
                            linker_script=out_dir / f"{board.name}.ld")

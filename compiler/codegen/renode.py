"""Renode support: a self-check firmware plus .resc/.robot scripts per board.

Renode is not installable on our CI machines, but users have it. For boards whose file has
a `renode` entry, `silifc compile` writes renode/: a firmware that runs one embedded sample
and prints PASS when its decision totals equal the integer reference's (UART only: Renode
needs no host files), a .resc script to watch it, and a .robot test for `renode-test`.
silifc.target.renode builds this firmware and runs the .robot file where Renode is installed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SilifcError
from ..io.files import write_generated
from ..ir import QuantNetwork
from ..reference.int_ref import run_int
from .emit import Project, model_banner
from .templates import render

ELF_NAME = "renode"
RENODE_PART = "renode"            # its part of the project folder (io.files.write_generated)


@dataclass(frozen=True)
class RenodeFiles:
    directory: Path
    script: Path                  # <board>.resc
    robot: Path                   # <board>.robot
    sources: tuple[Path, ...]     # main.c, slf_uart.c


def _rows(values, per_line):
    return [values[i:i + per_line] for i in range(0, len(values), per_line)]


def write_renode_files(project: Project, quantized: QuantNetwork, sample: np.ndarray) -> RenodeFiles:
    """sample [T, n_inputs] event counts: embedded in the firmware with its expected result."""
    board = project.plan.board
    if board.renode is None:
        raise SilifcError(f"board {board.name} has no Renode platform (renode: null in its board file)")
    sample = np.asarray(sample, dtype=np.int64)
    reference = run_int(quantized, sample[None])
    step_start, events = [0], []
    for step in sample:
        for index in np.flatnonzero(step):
            events.append((int(index), int(step[index])))
        step_start.append(len(events))
    context = {
        "banner": model_banner(quantized, board, f"int{quantized.weight_bits}"), "board": board, "prefix": project.prefix, "PREFIX": project.prefix.upper(),
        "steps": sample.shape[0], "step_start_rows": _rows(step_start, 16), "n_events": len(events),
        "event_rows": _rows(events, 8), "expected_totals": [int(v) for v in reference.outputs[0]],
        "expected_decision": int(reference.decisions[0]), "elf_path": f"build/{ELF_NAME}.elf",
    }
    directory = project.directory / "renode"
    outputs = {"main.c": "renode/main.c.j2", "slf_uart.c": "renode/slf_uart.c.j2", "slf_uart.h": "renode/slf_uart.h.j2",
               f"{board.name}.resc": "renode/board.resc.j2", f"{board.name}.robot": "renode/board.robot.j2"}
    write_generated(project.directory, {f"renode/{name}": render(template, context)
                                        for name, template in outputs.items()}, part=RENODE_PART)
    return RenodeFiles(directory=directory, script=directory / f"{board.name}.resc",
                       robot=directory / f"{board.name}.robot",
                       sources=(directory / "main.c", directory / "slf_uart.c"))

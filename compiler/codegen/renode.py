"""Renode support: a self-check firmware plus .resc/.robot scripts per board.

Renode is not installable on our CI machines, but users have it. For boards whose file has
a `renode` entry, `silifc compile` writes renode/: a firmware that runs one embedded sample
and prints PASS when its decision totals equal the integer reference's (UART only: Renode
needs no host files), a .resc script to watch it, and a .robot test for `renode-test`.
The tests build this firmware for every such board, run it under QEMU where QEMU models the
same UART, and run the .robot file when a `renode` binary is on PATH.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .emit import Project, _templates
from ..target.toolchain import FirmwareImage, build_firmware
from ..errors import SilifcError
from ..reference.int_ref import run_int
from ..passes.quantize import QuantNetwork

ELF_NAME = "renode"


@dataclass(frozen=True)
class RenodeFiles:
    directory: Path
    script: Path                  # <board>.resc
    robot: Path                   # <board>.robot
    sources: tuple[Path, ...]     # main.c, slf_uart.c


def _rows(values, per_line):
    return [values[i:i + per_line] for i in range(0, len(values), per_line)]


def write_renode_files(project: Project, quantized: QuantNetwork, sample: np.ndarray, banner: str) -> RenodeFiles:
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
        "banner": banner, "board": board, "prefix": project.prefix, "PREFIX": project.prefix.upper(),
        "steps": sample.shape[0], "step_start_rows": _rows(step_start, 16), "n_events": len(events),
        "event_rows": _rows(events, 8), "expected_totals": [int(v) for v in reference.outputs[0]],
        "expected_decision": int(reference.decisions[0]), "elf_path": f"build/{ELF_NAME}.elf",
    }
    directory = project.directory / "renode"
    directory.mkdir(parents=True, exist_ok=True)
    env = _templates()
    outputs = {"main.c": "renode/main.c.j2", "slf_uart.c": "renode/slf_uart.c.j2", "slf_uart.h": "renode/slf_uart.h.j2",
               f"{board.name}.resc": "renode/board.resc.j2", f"{board.name}.robot": "renode/board.robot.j2"}
    for name, template in outputs.items():
        text = env.get_template(template).render(context)
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return RenodeFiles(directory=directory, script=directory / f"{board.name}.resc",
                       robot=directory / f"{board.name}.robot",
                       sources=(directory / "main.c", directory / "slf_uart.c"))


def build_renode_firmware(project: Project, files: RenodeFiles) -> FirmwareImage:
    return build_firmware([*files.sources, *project.model_sources], [files.directory, *project.include_dirs],
                          project.plan.board, files.directory / "build", name=ELF_NAME)


def run_robot(files: RenodeFiles, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs the .robot test with renode-test (only where Renode is installed)."""
    tester = shutil.which("renode-test")
    if tester is None:
        raise SilifcError("renode-test is not on PATH: install Renode to run the generated .robot tests")
    return subprocess.run([tester, str(files.robot)], cwd=files.directory, capture_output=True, text=True,
                          timeout=timeout)

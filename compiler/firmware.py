"""Build a compiled model into emulator firmware (cached) and run it on spike inputs.

`run_model` is the firmware engine: same input as the references, a RunResult in the
same layout, plus executed instructions per step (and per phase: the generated step()
calls an empty marker function at the start of each layer's synapse and neuron phase).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .board import Board
from .codegen import CompileOptions, Project, write_project
from .emulator import FirmwareImage, RegionUsage, build_firmware, cache_dir, run_firmware
from .firmware_io import decode_output, encode_events
from .quantize import QuantNetwork
from .results import RunResult

IO_BUCKET = "(harness: file I/O, init, result)"


@dataclass(frozen=True)
class FirmwareRunReport:
    result: RunResult
    instructions_total: int
    steps: int                                  # samples x steps per sample
    phase_instructions: dict = field(default_factory=dict)   # phase name -> instructions, all steps
    flash_used: int = 0
    ram_used: int = 0

    @property
    def model_instructions(self) -> int:
        return sum(self.phase_instructions.values())

    @property
    def instructions_per_step(self) -> float:
        return self.model_instructions / max(self.steps, 1)


def build_model_firmware(quantized: QuantNetwork, board: Board, weights: str = "int8", prefix: str = "silifc",
                         work_dir: str | Path | None = None, progress=None) -> tuple[Project, FirmwareImage]:
    """Generate the project and build its firmware; rebuilt only when a generated file changed."""
    if work_dir is None:
        key = hashlib.sha256(f"{quantized.sha256}|{board.name}|{weights}|{prefix}|{quantized.headroom}".encode())
        work_dir = cache_dir() / "builds" / key.hexdigest()[:20]
    work_dir = Path(work_dir)
    project = write_project(quantized, CompileOptions(board=board, prefix=prefix, weights=weights), work_dir)
    stamp = work_dir / "build" / "stamp.json"
    elf = work_dir / "build" / "firmware.elf"
    if stamp.exists() and elf.exists():
        cached = json.loads(stamp.read_text())
        if cached.get("digest") == project.digest:
            memory = {region: RegionUsage(*usage) for region, usage in cached["memory"].items()}
            return project, FirmwareImage(elf=elf, map_file=work_dir / "build" / "firmware.map", board=board,
                                          memory=memory, compiler_output=cached.get("compiler_output", ""))
    if progress:
        progress(f"building firmware for {board.name} in {work_dir}")
    image = build_firmware([project.app_source, *project.model_sources], project.include_dirs, board,
                           work_dir / "build", defines={"SILIFC_PROFILE": None}, name="firmware")
    stamp.write_text(json.dumps({"digest": project.digest, "compiler_output": image.compiler_output,
                                 "memory": {r: [u.used, u.size] for r, u in image.memory.items()}}))
    return project, image


def run_model(project: Project, image: FirmwareImage, quantized: QuantNetwork, counts: np.ndarray,
              record_spikes: bool = False, insn_limit: int = 20_000_000_000, timeout: float = 1800) -> FirmwareRunReport:
    counts = np.asarray(counts)
    if counts.max(initial=0) > 255:
        raise ValueError("event counts above 255 per input and step cannot be delivered to the firmware")
    widths = tuple(layer.synapses.n_out for layer in quantized.hidden)
    with tempfile.TemporaryDirectory(prefix="silifc-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "in.slfi").write_bytes(encode_events(counts))
        args = [str(tmp / "in.slfi"), str(tmp / "out.slfo")] + (["spikes"] if record_spikes else [])
        run = run_firmware(image, image.board, args=args, insn_limit=insn_limit, timeout=timeout,
                           markers=project.phases)
        output = decode_output((tmp / "out.slfo").read_bytes(), counts.shape[1], widths)
    phases = {name: count.instructions for name, count in run.buckets.items()
              if name in project.phases and not name.endswith("_phase_end")}
    spikes = output.spikes if output.spikes is not None else ()
    result = RunResult(engine="firmware", outputs=output.totals, decisions=output.decisions, spikes=spikes,
                       output_scale=float(quantized.output_scale))
    return FirmwareRunReport(result=result, instructions_total=run.instructions,
                             steps=int(counts.shape[0] * counts.shape[1]), phase_instructions=phases,
                             flash_used=image.flash_used, ram_used=image.ram_used)

"""The firmware build cache: a build is reused only while the files it was built from are
byte-identical, and only if the ELF it left is the one it recorded.

Each build folder holds `build/<name>.elf` and `build/<name>-stamp.json`; the stamp records
the digest of the generated sources (and defines) it was built from, the ELF's size and
sha256, and the linker's memory usage. A stamp that does not parse, or an ELF that is
missing, truncated or changed, means a rebuild, never an error. A build runs in a temporary
folder and its outputs are moved in by io.files.write_generated, so an interrupted build
never leaves a half-written ELF, and a file of the user's named build/<name>.elf is never
overwritten.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from ..codegen.boards import Board
from ..io.files import cache_dir, temp_folder, write_generated
from .stack import StackUsage
from .toolchain import FirmwareImage, RegionUsage


def build_folder(key: str) -> Path:
    """<cache>/builds/<key>: where a cached firmware build of that key lives."""
    return cache_dir() / "builds" / key


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_build(work_dir: str | Path, name: str, digest: str, board: Board,
                 build: Callable[[Path], FirmwareImage], progress=None) -> FirmwareImage:
    """work_dir/build/<name>.elf when its stamp says it was built from `digest`; else
    `build(temporary folder)`, moved in and stamped. progress(message) is told about a rebuild."""
    out = Path(work_dir) / "build"
    stamp, elf = out / f"{name}-stamp.json", out / f"{name}.elf"
    try:
        cached = json.loads(stamp.read_text())
        if (cached["digest"] == digest and elf.stat().st_size == cached["elf_size"]
                and _file_digest(elf) == cached["elf_sha256"]):
            return FirmwareImage(elf=elf, map_file=out / f"{name}.map", board=board,
                                 memory={region: RegionUsage(*usage) for region, usage in cached["memory"].items()},
                                 compiler_output=cached.get("compiler_output", ""),
                                 stack=StackUsage.from_dict(cached["stack"]) if cached["stack"] else None)
    except (OSError, ValueError, KeyError, TypeError):
        pass                      # no stamp, a damaged one, or no ELF: build
    if progress:
        progress(f"building {name} for {board.name} in {work_dir}")
    with temp_folder("build") as tmp:
        built = build(tmp)
        elf_bytes = built.elf.read_bytes()
        stamp_data = {"digest": digest, "elf_size": len(elf_bytes), "elf_sha256": hashlib.sha256(elf_bytes).hexdigest(),
                      "compiler_output": built.compiler_output,
                      "stack": built.stack.to_dict() if built.stack is not None else None,
                      "memory": {r: [u.used, u.size] for r, u in built.memory.items()}}
        outputs = {f"build/{name}.elf": elf_bytes, f"build/{name}-stamp.json": json.dumps(stamp_data)}
        if built.map_file.is_file():
            outputs[f"build/{name}.map"] = built.map_file.read_bytes()
        # Build outputs are regenerable: `make` in the project rewrites them too.
        write_generated(work_dir, outputs, part=f"build-{name}", regenerable=True)
    return FirmwareImage(elf=elf, map_file=out / f"{name}.map", board=board, memory=built.memory,
                         compiler_output=built.compiler_output, stack=built.stack)

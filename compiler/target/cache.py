"""The firmware build cache: a build is reused only while the files it was built from are
byte-identical, and only if the ELF it left is the one it recorded.

Each build folder holds `build/<name>.elf` and `build/<name>-stamp.json`; the stamp records
the digest of the generated sources (and defines) it was built from, the ELF's size and
sha256, and the linker's memory usage. A stamp that does not parse, or an ELF that is
missing, truncated or changed, means a rebuild, never an error.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from ..codegen.boards import Board
from ..io.files import cache_dir
from .toolchain import FirmwareImage, RegionUsage


def build_folder(key: str) -> Path:
    """<cache>/builds/<key>: where a cached firmware build of that key lives."""
    return cache_dir() / "builds" / key


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_build(work_dir: str | Path, name: str, digest: str, board: Board,
                 build: Callable[[Path], FirmwareImage], progress=None) -> FirmwareImage:
    """work_dir/build/<name>.elf when its stamp says it was built from `digest`; else
    `build(work_dir / "build")`, stamped. progress(message) is told about a rebuild."""
    out = Path(work_dir) / "build"
    stamp, elf = out / f"{name}-stamp.json", out / f"{name}.elf"
    try:
        cached = json.loads(stamp.read_text())
        if (cached["digest"] == digest and elf.stat().st_size == cached["elf_size"]
                and _file_digest(elf) == cached["elf_sha256"]):
            return FirmwareImage(elf=elf, map_file=out / f"{name}.map", board=board,
                                 memory={region: RegionUsage(*usage) for region, usage in cached["memory"].items()},
                                 compiler_output=cached.get("compiler_output", ""))
    except (OSError, ValueError, KeyError, TypeError):
        pass                      # no stamp, a damaged one, or no ELF: build
    if progress:
        progress(f"building {name} for {board.name} in {work_dir}")
    image = build(out)
    stamp.write_text(json.dumps({"digest": digest, "elf_size": image.elf.stat().st_size,
                                 "elf_sha256": _file_digest(image.elf), "compiler_output": image.compiler_output,
                                 "memory": {r: [u.used, u.size] for r, u in image.memory.items()}}))
    return image

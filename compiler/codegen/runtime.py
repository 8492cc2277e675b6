"""Which C runtime files a build compiles (runtime_c/, docs/runtime.md "Files").

The runtime has one set of shared kernels (src/*.c) and two paths for the kernels that have a
Cortex-M DSP version: src/dsp/ (SLF_USE_DSP=1, cores with the DSP extension) and src/portable/
(SLF_USE_DSP=0, any core and the host). A build compiles src/*.c plus the .c files of one
path, with SLF_USE_DSP set to match; src/internal/ holds private headers.
"""
from __future__ import annotations

import functools
import hashlib
from importlib.resources import files

# Folders of runtime_c/ that a generated project copies (both paths: its build picks one).
COPIED_FOLDERS = ("include", "src", "src/internal", "src/dsp", "src/portable")


def runtime_root():
    """runtime_c/ as installed (a Traversable; a real folder for regular and editable installs)."""
    return files("silifc.runtime_c")


def path_name(dsp: bool) -> str:
    """The runtime path folder for SLF_USE_DSP = dsp."""
    return "dsp" if dsp else "portable"


def _c_files(folder) -> list:
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".c")), key=lambda e: e.name)


def runtime_sources(dsp: bool, root=None) -> list:
    """The .c files a build of one path compiles: src/*.c, then src/dsp/*.c or src/portable/*.c.
    root: runtime_c/ (a Path or Traversable; default: the installed one)."""
    src = (runtime_root() if root is None else root) / "src"
    return [*_c_files(src), *_c_files(src / path_name(dsp))]


@functools.lru_cache(maxsize=1)
def runtime_digest() -> str:
    """sha256 over the installed runtime's copied files (COPIED_FOLDERS): part of the build-cache
    key, so that two silifc versions sharing a cache never build in the same folder."""
    digest = hashlib.sha256()
    root = runtime_root()
    for folder in COPIED_FOLDERS:
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".c", ".h")):
                digest.update(f"{folder}/{entry.name}".encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()

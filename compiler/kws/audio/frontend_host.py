"""The keyword front end's C (runtime_c/frontend) built as a host program: the same counts as
the Python specification (silifc.kws.audio.frontend, tested bit for bit), ~100x faster, for
long evaluation streams (an hour of audio: seconds instead of many minutes). Needs a host
`gcc`; `available()` says whether there is one, and callers choose it explicitly."""
from __future__ import annotations

import hashlib
import os
import shutil
from importlib.resources import files
from pathlib import Path

import numpy as np

from ...errors import SilifcError
from ...io.files import cache_dir, temp_folder, write_if_changed
from ...target.processes import run_child
from .frontend import FrontEndConfig, design


def available() -> bool:
    return shutil.which("gcc") is not None


def _executable(config: FrontEndConfig) -> Path:
    from ...codegen.templates import render

    constants = design(config)
    scalars = [(name, value) for name, _, value in constants.c_fields() if not isinstance(value, tuple)]
    arrays = [(name, ctype, [list(value[i:i + 8]) for i in range(0, len(value), 8)])
              for name, ctype, value in constants.c_fields() if isinstance(value, tuple)]
    source = render("audio/frontend_host.c.j2", bands=constants.bands, step_samples=constants.step_samples,
                    fe_scalars=scalars, fe_arrays=arrays)
    runtime = files("silifc.runtime_c")
    c_files = [runtime / "frontend" / name for name in ("slf_frontend_init.c", "slf_frontend_step_s16.c")]
    digest = hashlib.sha256(source.encode() + b"".join(f.read_bytes() for f in c_files)
                            + (runtime / "frontend" / "slf_frontend.h").read_bytes()).hexdigest()[:16]
    folder = cache_dir() / "builds" / f"frontend-host-{digest}"
    exe = folder / "frontend_host"
    if exe.exists():
        return exe
    if not available():
        raise SilifcError("the host front end needs gcc (Debian gcc; scripts/setup.sh installs it)")
    write_if_changed(folder / "main.c", source)         # kept beside the program for reading
    # Built in a folder of this process's own and moved in by one rename: processes building the
    # same program at once never write into one file, and none ever runs a half-written one.
    with temp_folder("frontend-build") as tmp:
        built = tmp / exe.name
        command = ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{runtime / 'include'}",
                   f"-I{runtime / 'frontend'}", str(folder / "main.c"), *map(str, c_files), "-o", str(built)]
        result = run_child(command, text=True)
        if result.returncode:
            raise SilifcError(f"building the host front end failed:\n{result.stderr[-2000:]}")
        os.replace(built, exe)
    return exe


def frontend_counts_host(pcm, config: FrontEndConfig | None = None) -> np.ndarray:
    """int16 [n] from the power-on state -> uint8 [n // step_samples, bands], as FrontEnd.process."""
    config = config or FrontEndConfig()
    exe = _executable(config)
    pcm = np.ascontiguousarray(pcm, dtype="<i2")
    with temp_folder("frontend") as tmp:
        source, target = Path(tmp) / "pcm.raw", Path(tmp) / "counts.raw"
        pcm.tofile(source)
        result = run_child([str(exe), str(source), str(target)], text=True)
        if result.returncode:
            raise SilifcError(f"the host front end stopped with status {result.returncode}")
        counts = np.fromfile(target, dtype=np.uint8)
    return counts.reshape(-1, config.bands)

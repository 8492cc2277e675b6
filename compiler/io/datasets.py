"""Labelled spike datasets for training: `.npz` count arrays or SHD/SSC-style HDF5 event lists.

* `.npz`: `inputs` [N, T, C] non-negative integer counts (or the only array besides
  `labels`) and `labels` [N] class indices. Default spatial_bin 1 (C inputs); T is the
  number of steps.
* `.h5` / `.hdf5` (SHD/SSC layout): `spikes/times` (seconds) and `spikes/units`, one
  variable-length row per sample, and `labels`. Events are binned as the authors' loader
  does (`silifc.io.inputs.bin_events`: nb_steps bins up to max_time_s; defaults 300 and
  1.2 s, the SSC 4 ms setup), then raw channels are summed in groups of spatial_bin
  (default 5, as the authors: 700 -> 140). The raw channel count is the largest unit + 1
  rounded up to a multiple of spatial_bin unless given.

The returned `io` settings (spatial_bin, time step, steps, max time) go into the trained
model's native file, so every later command bins its input the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputDataError
from .inputs import bin_events, check_dataset, check_events, check_mask, read_hdf5_events, read_npz
from ..ir import ModelConfig


@dataclass(frozen=True, eq=False)
class Dataset:
    counts: np.ndarray            # [N, T, n_inputs] int64
    labels: np.ndarray            # [N] int64
    io: ModelConfig
    source: str
    mask: np.ndarray | None = None  # [N, T] 0/1: steps where the loss is taken (stream training), or None
    classes: tuple | None = None    # class names, when the data names them (WAV folders)

    @property
    def n_inputs(self) -> int:
        return self.counts.shape[2]

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1


def _read_hdf5(path: Path, nb_steps: int, max_time_s: float, channels: int | None, spatial_bin: int):
    rows, labels = read_hdf5_events(path)
    if channels is None:
        largest = max((int(u.max()) for _, u in rows if u.size), default=0) + 1
        channels = -(-largest // spatial_bin) * spatial_bin
    for index, (t, u) in enumerate(rows):
        check_events(t, u, channels, str(path), index)
    counts = np.stack([bin_events(t, u, channels, nb_steps, max_time_s) for t, u in rows]) if rows else \
        np.zeros((0, nb_steps, channels), np.int64)
    return counts, labels


def load_dataset(path: str | Path, spatial_bin: int | None = None, nb_steps: int | None = None,
                 max_time_s: float | None = None, time_step_ms: float | None = None,
                 channels: int | None = None, n_classes: int | None = None) -> Dataset:
    """Read a labelled dataset; all options default as the module docstring says."""
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: no such file")
    if path.is_dir():
        raise InputDataError(f"{path}: is a directory; give a .npz or .h5 file (`silifc train` also reads "
                             "folders of WAV files: Speech Commands or one folder per label)")
    for name, value in (("spatial_bin", spatial_bin), ("nb_steps", nb_steps), ("channels", channels)):
        if value is not None and value < 1:
            raise InputDataError(f"{name} must be >= 1, got {value}")
    suffix = path.suffix.lower()
    defaults = ModelConfig()
    if suffix == ".npz":
        counts, labels = read_npz(path, "the spike counts under 'inputs' and the class indices under 'labels'")
        spatial_bin = spatial_bin or 1
        if np.ndim(counts) == 3 and nb_steps is not None and counts.shape[1] != nb_steps:
            raise InputDataError(f"{path}: samples have {counts.shape[1]} steps, not --nb-steps {nb_steps}")
    elif suffix in (".h5", ".hdf5"):
        spatial_bin = spatial_bin or defaults.spatial_bin
        nb_steps = nb_steps or defaults.nb_steps
        max_time_s = max_time_s or defaults.max_time_s
        counts, labels = _read_hdf5(path, nb_steps, max_time_s, channels, spatial_bin)
    elif suffix == ".npy":
        raise InputDataError(f"{path}: a .npy array has no labels; save counts and labels together with "
                             "numpy.savez(path, inputs=counts, labels=labels)")
    else:
        raise InputDataError(f"{path}: unknown dataset type {suffix!r}; use .npz (inputs, labels) or SHD/SSC-style .h5")
    counts, labels = check_dataset(counts, labels, n_classes, str(path))
    mask = check_mask(_read_mask(path), counts, str(path)) if suffix == ".npz" else None
    if channels is not None and suffix == ".npz" and counts.shape[2] != channels:
        raise InputDataError(f"{path}: samples have {counts.shape[2]} channels, not --channels {channels}")
    if counts.shape[2] % spatial_bin:
        raise InputDataError(f"{path}: {counts.shape[2]} channels cannot be summed in groups of "
                             f"spatial_bin={spatial_bin}")
    if spatial_bin > 1:
        counts = counts.reshape(*counts.shape[:2], counts.shape[2] // spatial_bin, spatial_bin).sum(axis=-1)
    steps = counts.shape[1]
    if time_step_ms is None:
        time_step_ms = 1000.0 * max_time_s / (steps - 1) if max_time_s and steps > 1 else defaults.time_step_ms
    if max_time_s is None:
        max_time_s = max(steps - 1, 1) * time_step_ms / 1000.0
    io = ModelConfig(spatial_bin=spatial_bin, time_step_ms=float(time_step_ms), nb_steps=steps,
                     max_time_s=float(max_time_s))
    return Dataset(counts=counts, labels=labels, io=io, source=str(path), mask=mask)


def _read_mask(path: Path):
    """The optional `mask` [N, T] of an .npz (stream training: the steps where the loss is taken)."""
    with np.load(path, allow_pickle=False) as data:
        return data["mask"] if "mask" in data else None

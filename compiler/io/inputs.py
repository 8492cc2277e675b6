"""Spike input files -> integer count arrays [B, T, n_inputs] for a given network.

Accepted files:
  .npy  array [T, C] or [B, T, C] of non-negative integer event counts
  .npz  key `inputs` (or the only array) like .npy; optional `labels` [B]
  .h5 / .hdf5  SHD/SSC layout: `spikes/times` (seconds), `spikes/units` (one
        variable-length array per sample), optional `labels`; binned in time as the
        authors' loader does (edges linspace(0, max_time, nb_steps), bin = digitize).
C is either the raw channel count (spatial_bin x n_inputs, summed in groups of
spatial_bin like the authors' loader) or n_inputs (already binned).
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputDataError
from ..ir import ModelConfig


@dataclass(frozen=True, eq=False)
class SpikeInput:
    counts: np.ndarray            # [B, T, n_inputs] int64 event counts per network input
    labels: np.ndarray | None     # [B] int64, when the file has them
    source: str


def bin_events(times: np.ndarray, units: np.ndarray, n_channels: int, nb_steps: int,
               max_time_s: float) -> np.ndarray:
    """(time, unit) events of one sample -> [nb_steps, n_channels] counts, as the authors bin:
    bin k = digitize(t, linspace(0, max_time, nb_steps)), so bin 0 stays empty; events at
    or past max_time would land outside and are dropped."""
    edges = np.linspace(0.0, max_time_s, nb_steps)
    bins = np.digitize(times, edges)
    keep = (bins < nb_steps) & (units >= 0) & (units < n_channels)
    out = np.zeros((nb_steps, n_channels), dtype=np.int64)
    np.add.at(out, (bins[keep], units[keep].astype(np.int64)), 1)
    return out


def spatial_binning(counts: np.ndarray, n_inputs: int, spatial_bin: int, source: str) -> np.ndarray:
    channels = counts.shape[-1]
    if channels == n_inputs:
        return counts
    if channels == n_inputs * spatial_bin:
        return counts.reshape(*counts.shape[:-1], n_inputs, spatial_bin).sum(axis=-1)
    raise InputDataError(
        f"{source}: samples have {channels} channels, but the model takes {n_inputs} inputs "
        f"(or {n_inputs * spatial_bin} raw channels with spatial_bin={spatial_bin}); "
        "set spatial_bin in the model's .silifc.toml or with --spatial-bin")


MAX_COUNT = 0xFFFF                # events on one channel in one step: the harness's uint16 count, far above any model's limit


def _where(index: tuple) -> str:
    return "sample {}, step {}, channel {}".format(*index) if len(index) == 3 else f"index {list(index)}"


def check_counts(array, source: str, single_sample_ok: bool = True) -> np.ndarray:
    """Non-negative whole event counts as int64 [B, T, C] ([T, C] is one sample when allowed),
    with at least one sample, step and channel, each count at most MAX_COUNT."""
    array = np.asarray(array)
    if array.ndim == 2 and single_sample_ok:
        array = array[None]
    if array.ndim != 3:
        wanted = "[T, C] or [B, T, C]" if single_sample_ok else "[samples, steps, channels]"
        raise InputDataError(f"{source}: expected an array {wanted}, got shape {list(array.shape)}")
    empty = [name for name, size in zip(("samples", "steps", "channels"), array.shape) if size == 0]
    if empty:
        raise InputDataError(f"{source}: no {' and no '.join(empty)} (shape {list(array.shape)} = "
                             "[samples, steps, channels]); give at least one sample of at least one step")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), array.shape))
            raise InputDataError(f"{source}: spike counts must be whole numbers; found {float(array[where])!r} at "
                                 f"{_where(where)} ({int(bad.sum())} such value(s))")
    elif array.dtype.kind not in "iub":
        raise InputDataError(f"{source}: spike counts must be numbers, got dtype {array.dtype}")
    if array.dtype.kind != "b":
        low, high = array.min(), array.max()      # compared before any cast: uint64 2^64-1 is not -1
        if low < 0 or high > MAX_COUNT:
            bad_value = low if low < 0 else high
            where = tuple(int(i) for i in np.unravel_index(int(array.argmin() if low < 0 else array.argmax()),
                                                          array.shape))
            what = "negative" if low < 0 else f"above {MAX_COUNT:,}"
            raise InputDataError(f"{source}: spike count {int(bad_value)} at {_where(where)} is {what}; counts must be "
                                 f"non-negative numbers of events of one channel in one step, at most {MAX_COUNT:,}")
    return array.astype(np.int64)


def check_host_memory(samples: int, steps: int, widths, what: str) -> None:
    """Refuse a reference run that would need more than half this machine's memory: samples x
    steps x (inputs + neurons) values, float64 currents of the widest layer included."""
    widths = [int(w) for w in widths]
    need = int(samples) * int(steps) * (8 * widths[0] + 16 * max(widths[1:], default=0) + sum(widths[1:]))
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > have // 2:
        raise InputDataError(
            f"{what}: {samples:,} samples x {steps:,} steps through layers {' -> '.join(map(str, widths))} would "
            f"need about {need / 2**30:,.1f} GiB of host memory (this machine has {have / 2**30:,.1f} GiB); use "
            "fewer samples or steps (--nb-steps, a shorter input) or a smaller model")


def check_event_limit(counts, limit: int, source: str = "input") -> None:
    """Refuse counts above the model's events-per-input-and-step limit (QuantSynapses.max_input_count
    of its first layer: the largest count for which the input currents provably fit int32)."""
    counts = np.asarray(counts)
    if counts.size and counts.max() > limit:
        where = tuple(int(i) for i in np.unravel_index(int(counts.argmax()), counts.shape))
        place = "sample {}, step {}, input {}".format(*where) if len(where) == 3 else f"index {list(where)}"
        raise InputDataError(
            f"{source}: {int(counts.max())} events on one input in one step ({place}); this model accepts at most "
            f"{limit} (its first layer's input currents are proven to fit int32 up to that count; "
            f"<PREFIX>_MAX_EVENT_COUNT in the firmware). Bin the events more finely (a shorter --time-step-ms "
            f"or a smaller --spatial-bin) so that fewer fall into one step and input")


def read_npz(path: Path, what: str = "the spike counts under 'inputs'"):
    """(counts array, labels or None) of an .npz: key `inputs`, else its only array besides `labels`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.keys())
            others = [k for k in keys if k not in ("labels", "mask")]
            if "inputs" in data:
                array = data["inputs"]
            elif len(others) == 1:
                array = data[others[0]]
            else:
                raise InputDataError(f"{path}: .npz has keys {keys}; put {what}")
            labels = data["labels"] if "labels" in data else None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputDataError(f"{path}: cannot read it as an .npz archive ({exc}); write it with "
                             "numpy.savez(path, inputs=counts[, labels=labels])") from None
    return array, labels


def read_hdf5_events(path: Path):
    """([(times, units) per sample], labels or None) of an SHD/SSC-layout HDF5 file."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "spikes" not in handle or "times" not in handle["spikes"] or "units" not in handle["spikes"]:
                raise InputDataError(f"{path}: HDF5 file lacks spikes/times and spikes/units (SHD/SSC layout)")
            times, units = handle["spikes"]["times"], handle["spikes"]["units"]
            if len(times) != len(units):
                raise InputDataError(f"{path}: {len(times)} rows of spike times but {len(units)} rows of units")
            rows = [(np.asarray(times[i], dtype=np.float64), np.asarray(units[i], dtype=np.int64))
                    for i in range(len(times))]
            labels = np.asarray(handle["labels"][:]) if "labels" in handle else None
    except OSError as exc:
        raise InputDataError(f"{path}: not a readable HDF5 file ({exc})") from None
    for index, (t, u) in enumerate(rows):
        if t.shape != u.shape:
            raise InputDataError(f"{path}: sample {index} has {t.size} spike times but {u.size} units")
        if u.size and u.min() < 0:
            raise InputDataError(f"{path}: sample {index} has negative unit indices")
    return rows, labels


def check_labels(labels, n_samples: int, n_classes: int | None, where: str,
                 classes_hint: str = "the model has that many outputs") -> np.ndarray:
    """[n_samples] integer class indices in 0..n_classes-1 (any when n_classes is None)."""
    if labels is None:
        raise InputDataError(f"{where}: no labels; training needs a 'labels' array (one class index per sample)")
    labels = np.asarray(labels)
    if labels.shape != (n_samples,):
        raise InputDataError(f"{where}: {labels.size} labels (shape {list(labels.shape)}) for "
                             f"{n_samples} samples; need one label per sample")
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        bad = labels[labels != np.round(labels)]
        raise InputDataError(f"{where}: labels must be integer class indices, found {float(bad[0])!r} "
                             f"({bad.size} such label(s))")
    if labels.dtype.kind not in "iuf":
        raise InputDataError(f"{where}: labels must be integer class indices, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if (labels < 0).any():
        raise InputDataError(f"{where}: labels must be >= 0, found {int(labels.min())} (sample "
                             f"{int(labels.argmin())})")
    if n_classes is not None and labels.max() >= n_classes:
        raise InputDataError(f"{where}: label {int(labels.max())} out of range for {n_classes} classes "
                             f"(labels must be 0..{n_classes - 1}); {classes_hint}")
    return labels


def check_dataset(counts, labels, n_classes: int | None, where: str = "data"):
    """Validate [N, T, C] non-negative integer counts and [N] labels in 0..n_classes-1."""
    shape = list(np.shape(counts))
    if len(shape) == 3 and min(shape) < 1:
        raise InputDataError(f"{where}: no samples, steps or channels (shape {shape})")
    counts = check_counts(counts, where, single_sample_ok=False)
    return counts, check_labels(labels, counts.shape[0], n_classes, where, classes_hint="set --classes")


def check_events(times: np.ndarray, units: np.ndarray, n_channels: int, source: str, sample: int) -> None:
    """Refuse (time, unit) events that binning would drop or misplace: times that are not finite
    or negative, unit indices outside 0..n_channels-1."""
    if times.size and not np.isfinite(times).all():
        raise InputDataError(f"{source}: sample {sample} has spike times that are NaN or infinite")
    if times.size and times.min() < 0:
        raise InputDataError(f"{source}: sample {sample} has a negative spike time ({float(times.min()):g} s); "
                             "times are seconds from the start of the sample (binning would put it in step 0)")
    if units.size and units.max() >= n_channels:
        outside = int((units >= n_channels).sum())
        raise InputDataError(f"{source}: sample {sample} has unit index {int(units.max())} ({outside} of its "
                             f"{units.size} events at or above {n_channels}), but the model reads {n_channels} raw "
                             "channels (its inputs x spatial_bin); set spatial_bin in the model's .silifc.toml or "
                             "with --spatial-bin, or use the model the data was made for")


def load_input(path: str | Path, n_inputs: int, config: ModelConfig, n_classes: int | None = None) -> SpikeInput:
    """Spike counts [B, T, n_inputs] (and labels, checked against n_classes when given) of a file."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputDataError(f"{path}: no such file")
    if path.is_dir():
        raise InputDataError(f"{path}: is a folder; give a .npy, .npz or .h5 file")
    suffix = path.suffix.lower()
    labels = None
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise InputDataError(f"{path}: cannot read it as a .npy array ({exc})") from None
    elif suffix == ".npz":
        array, labels = read_npz(path)
    elif suffix in (".h5", ".hdf5"):
        rows, labels = read_hdf5_events(path)
        raw_channels = n_inputs * config.spatial_bin
        for index, (t, u) in enumerate(rows):
            check_events(t, u, raw_channels, source, index)
        if not rows:
            raise InputDataError(f"{path}: no samples (spikes/times has no rows)")
        check_host_memory(len(rows), config.nb_steps, (raw_channels,), source)
        array = np.stack([bin_events(t, u, raw_channels, config.nb_steps, config.max_time_s) for t, u in rows])
    else:
        raise InputDataError(f"{path}: unknown input type {suffix!r}; use .npy, .npz or .h5")
    counts = spatial_binning(check_counts(array, source), n_inputs, config.spatial_bin, source)
    if labels is not None:
        labels = check_labels(labels, counts.shape[0], n_classes, source)
    return SpikeInput(counts=counts, labels=labels, source=source)


def random_input(n_inputs: int, n_samples: int = 8, steps: int = 300, rate: float = 0.02,
                 spatial_bin: int = 5, seed: int = 0) -> np.ndarray:
    """Bernoulli(rate) events on n_inputs * spatial_bin raw channels, binned: the calibration default."""
    rng = np.random.default_rng(seed)
    raw = rng.random((n_samples, steps, n_inputs * spatial_bin)) < rate
    raw[:, 0] = False             # bin 0 is always empty with the authors' binning
    return raw.reshape(n_samples, steps, n_inputs, spatial_bin).sum(axis=-1).astype(np.int64)


def check_mask(mask, counts, where: str):
    """None, or a 0/1 mask [N, T] matching counts [N, T, C] with at least one step per sample."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != counts.shape[:2]:
        raise InputDataError(f"{where}: mask shape {list(mask.shape)} does not match the samples' "
                             f"[N, T] = {list(counts.shape[:2])}")
    if mask.dtype.kind not in "biu" or mask.size and (mask.min() < 0 or mask.max() > 1):
        raise InputDataError(f"{where}: mask must hold 0/1 integers (the steps where the loss is taken)")
    empty = np.nonzero(mask.sum(axis=1) == 0)[0]
    if empty.size:
        raise InputDataError(f"{where}: sample {int(empty[0])} has an all-zero mask ({empty.size} such samples); "
                             "every sample needs at least one marked step")
    return mask.astype(np.uint8)

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


def check_counts(array, source: str, single_sample_ok: bool = True) -> np.ndarray:
    """Non-negative whole event counts as int64 [B, T, C] ([T, C] is one sample when allowed)."""
    array = np.asarray(array)
    if array.ndim == 2 and single_sample_ok:
        array = array[None]
    if array.ndim != 3:
        wanted = "[T, C] or [B, T, C]" if single_sample_ok else "[samples, steps, channels]"
        raise InputDataError(f"{source}: expected an array {wanted}, got shape {list(array.shape)}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise InputDataError(f"{source}: spike counts must be whole numbers, found fractional or NaN values")
    elif array.dtype.kind not in "iub":
        raise InputDataError(f"{source}: spike counts must be numbers, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if (array < 0).any():
        raise InputDataError(f"{source}: spike counts must be non-negative")
    return array


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
    except (ValueError, OSError) as exc:
        raise InputDataError(f"{path}: cannot read ({exc})") from None
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


def check_labels(labels, n_samples: int, n_classes: int | None, where: str) -> np.ndarray:
    """[n_samples] integer class indices in 0..n_classes-1 (any when n_classes is None)."""
    if labels is None:
        raise InputDataError(f"{where}: no labels; training needs a 'labels' array (one class index per sample)")
    labels = np.asarray(labels)
    if labels.shape != (n_samples,):
        raise InputDataError(f"{where}: {labels.size} labels (shape {list(labels.shape)}) for "
                             f"{n_samples} samples; need one label per sample")
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise InputDataError(f"{where}: labels must be integer class indices")
    if labels.dtype.kind not in "iuf":
        raise InputDataError(f"{where}: labels must be integer class indices, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if (labels < 0).any():
        raise InputDataError(f"{where}: labels must be >= 0, found {int(labels.min())}")
    if n_classes is not None and labels.max() >= n_classes:
        raise InputDataError(f"{where}: label {int(labels.max())} out of range for {n_classes} classes "
                             f"(labels must be 0..{n_classes - 1}); set --classes")
    return labels


def check_dataset(counts, labels, n_classes: int | None, where: str = "data"):
    """Validate [N, T, C] non-negative integer counts and [N] labels in 0..n_classes-1."""
    shape = list(np.shape(counts))
    if len(shape) == 3 and min(shape) < 1:
        raise InputDataError(f"{where}: no samples, steps or channels (shape {shape})")
    counts = check_counts(counts, where, single_sample_ok=False)
    return counts, check_labels(labels, counts.shape[0], n_classes, where)


def load_input(path: str | Path, n_inputs: int, config: ModelConfig) -> SpikeInput:
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputDataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    labels = None
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputDataError(f"{path}: cannot read ({exc})") from None
    elif suffix == ".npz":
        array, labels = read_npz(path)
        labels = None if labels is None else labels.astype(np.int64)
    elif suffix in (".h5", ".hdf5"):
        rows, labels = read_hdf5_events(path)
        raw_channels = n_inputs * config.spatial_bin
        array = np.stack([bin_events(t, u, raw_channels, config.nb_steps, config.max_time_s) for t, u in rows])
        labels = None if labels is None else labels.astype(np.int64)
    else:
        raise InputDataError(f"{path}: unknown input type {suffix!r}; use .npy, .npz or .h5")
    counts = spatial_binning(check_counts(array, source), n_inputs, config.spatial_bin, source)
    if labels is not None and labels.shape != (counts.shape[0],):
        raise InputDataError(f"{path}: {labels.shape[0] if labels.ndim else 1} labels for {counts.shape[0]} samples")
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

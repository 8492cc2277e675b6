from __future__ import annotations

import h5py
import numpy as np
import pytest

from silifc.errors import InputDataError
from silifc.io.inputs import bin_events, load_input
from silifc.ir import ModelConfig

pytestmark = pytest.mark.unit
CONFIG = ModelConfig()


def write_shd(path, samples, labels):
    """A tiny SHD/SSC-style file: spikes/times and spikes/units as variable-length rows."""
    with h5py.File(path, "w") as handle:
        group = handle.create_group("spikes")
        times = group.create_dataset("times", (len(samples),), dtype=h5py.vlen_dtype(np.float32))
        units = group.create_dataset("units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16))
        for index, (t, u) in enumerate(samples):
            times[index] = np.asarray(t, np.float32)
            units[index] = np.asarray(u, np.uint16)
        handle.create_dataset("labels", data=np.asarray(labels, np.uint16))
    return path


def test_bin_events_follows_authors_rule():
    edges_step = 1.2 / 299
    counts = bin_events(np.array([0.0, 0.5 * edges_step, edges_step * 1.01, 1.25]), np.array([3, 3, 4, 5]), 10, 300, 1.2)
    assert counts[1, 3] == 2          # t = 0 lands in bin 1: bin 0 is always empty
    assert counts[2, 4] == 1
    assert counts.sum() == 3          # t >= max_time is dropped
    assert counts[0].sum() == 0


def test_npy_npz_and_binning(tmp_path):
    raw = np.zeros((2, 5, 700), np.uint8)
    raw[0, 1, 0:5] = 1
    np.save(tmp_path / "a.npy", raw)
    np.savez(tmp_path / "b.npz", inputs=raw, labels=np.array([3, 4]))
    a = load_input(tmp_path / "a.npy", 140, CONFIG)
    b = load_input(tmp_path / "b.npz", 140, CONFIG)
    assert a.counts.shape == (2, 5, 140) and a.counts[0, 1, 0] == 5
    assert np.array_equal(a.counts, b.counts) and b.labels.tolist() == [3, 4]
    already_binned = load_input(tmp_path / "a.npy", 700, ModelConfig(spatial_bin=1))
    assert already_binned.counts.shape == (2, 5, 700)


def test_hdf5_input(tmp_path):
    path = write_shd(tmp_path / "tiny.h5", [([0.01, 0.02], [0, 699]), ([0.5], [10])], [7, 1])
    spikes = load_input(path, 140, CONFIG)
    assert spikes.counts.shape == (2, 300, 140)
    assert spikes.counts[0].sum() == 2 and spikes.counts[0, :, 139].sum() == 1
    assert spikes.labels.tolist() == [7, 1]


@pytest.mark.parametrize("make,needle", [
    (lambda p: np.save(p / "x.npy", np.zeros((2, 3, 17))), "17 channels"),
    (lambda p: np.save(p / "x.npy", -np.ones((2, 3, 140))), "non-negative"),
    (lambda p: np.save(p / "x.npy", np.full((2, 3, 140), 0.5)), "whole numbers"),
    (lambda p: np.save(p / "x.npy", np.zeros(5)), "expected an array"),
    (lambda p: (p / "x.npy").write_text("nope"), "cannot read"),
    (lambda p: (p / "x.csv").write_text("1,2"), "unknown input type"),
])
def test_bad_inputs(tmp_path, make, needle):
    make(tmp_path)
    path = next(tmp_path.iterdir())
    with pytest.raises(InputDataError) as info:
        load_input(path, 140, CONFIG)
    assert needle in str(info.value)

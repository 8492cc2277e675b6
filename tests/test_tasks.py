"""The timing task: deterministic, balanced, and class information only in relative timing."""
from __future__ import annotations

import numpy as np
import pytest

from silifc.errors import ConfigError
from silifc.io.inputs import load_input
from silifc.ir import ModelConfig
from silifc.train.tasks import TimingTask, class_patterns, main, make_timing_task, write_timing_task

pytestmark = pytest.mark.unit

SMALL = TimingTask(n_groups=3, group_size=4, steps=30, n_classes=4, max_offset=10, min_distance=4, tail=8,
                   n_train=120, n_test=40, seed=3)


def test_deterministic_and_seeded():
    a = make_timing_task(SMALL)
    b = make_timing_task(SMALL)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    c = make_timing_task(TimingTask(**{**SMALL.__dict__, "seed": 4}))
    assert not np.array_equal(a[0], c[0])


def test_shapes_balance_and_values():
    train_x, train_y, test_x, test_y = make_timing_task(SMALL)
    assert train_x.shape == (120, 30, 12) and test_x.shape == (40, 30, 12)
    assert train_x.dtype == np.int64 and train_x.min() >= 0
    assert np.bincount(train_y, minlength=4).tolist() == [30] * 4
    assert train_x[:, 0].sum() == 0          # step 0 stays empty, as with the authors' binning


def test_patterns_are_distinct_ordered_and_spread():
    patterns = class_patterns(SMALL)
    assert patterns.shape == (4, 3)
    assert (patterns.min(axis=1) == 0).all() and patterns.max() <= SMALL.max_offset
    assert (np.diff(patterns, axis=1) >= 0).all()           # same group order in every class
    for i in range(4):
        for j in range(i):
            assert np.abs(patterns[i] - patterns[j]).sum() >= SMALL.min_distance


def test_every_group_bursts_once_at_the_class_offsets():
    """Noise-free, full bursts, no jitter: each group fires all its channels at exactly one
    step, and the bursts' times relative to the first group are the class pattern."""
    task = TimingTask(**{**SMALL.__dict__, "noise_rate": 0.0, "burst_prob": 1.0, "burst_prob_min": 1.0,
                         "jitter": 0, "burst_steps": 1})
    x, y, _, _ = make_timing_task(task)
    patterns = class_patterns(task)
    per_group = x.reshape(len(x), task.steps, task.n_groups, task.group_size)
    assert (per_group.sum(axis=(1, 3)) == task.group_size).all()     # same count in every group and class
    times = per_group.sum(axis=3).argmax(axis=1)                       # [N, groups]
    assert np.array_equal(times - times[:, :1], patterns[y] - patterns[y, :1])
    onsets = times[:, 0]
    assert len(np.unique(onsets)) > 5                                  # absolute time carries no class


def test_counts_per_group_do_not_depend_on_the_class():
    x, y, _, _ = make_timing_task(TimingTask(**{**SMALL.__dict__, "n_train": 2000}))
    per_group = x.reshape(len(x), SMALL.steps, SMALL.n_groups, SMALL.group_size).sum(axis=(1, 3))
    means = np.array([per_group[y == c].mean(axis=0) for c in range(SMALL.n_classes)])
    assert np.abs(means - per_group.mean(axis=0)).max() < 0.6           # ~ sampling noise only


def test_distractors_add_bursts():
    plain = make_timing_task(SMALL)[0].sum()
    busy = make_timing_task(TimingTask(**{**SMALL.__dict__, "distractors": 2}))[0].sum()
    assert busy > 1.5 * plain


def test_written_files_are_cached_and_readable(tmp_path):
    train_path, test_path = write_timing_task(tmp_path, SMALL)
    stamp = train_path.stat().st_mtime_ns
    again = write_timing_task(tmp_path, SMALL)
    assert again[0].stat().st_mtime_ns == stamp
    loaded = load_input(test_path, SMALL.n_inputs, ModelConfig(spatial_bin=1))
    assert loaded.counts.shape == (40, 30, 12) and loaded.labels.shape == (40,)
    write_timing_task(tmp_path, TimingTask(**{**SMALL.__dict__, "seed": 9}))
    assert train_path.stat().st_mtime_ns != stamp or not np.array_equal(
        np.load(train_path)["inputs"], make_timing_task(SMALL)[0])


@pytest.mark.parametrize("bad", [dict(n_classes=1), dict(max_offset=40), dict(burst_prob=1.5),
                                 dict(n_classes=40, min_distance=30)])
def test_bad_parameters(bad):
    with pytest.raises(ConfigError):
        class_patterns(TimingTask(**{**SMALL.__dict__, **bad}))


def test_command_line_reads_false_as_false(tmp_path):
    """`--same-order False` used to parse as True (bool('False')); the files must differ from the default task's."""
    main([str(tmp_path / "default")])
    main([str(tmp_path / "mixed"), "--same-order", "False"])
    default = np.load(tmp_path / "default" / "timing_train.npz")["patterns"]
    mixed = np.load(tmp_path / "mixed" / "timing_train.npz")["patterns"]
    assert np.array_equal(default, class_patterns(TimingTask()))
    assert np.array_equal(mixed, class_patterns(TimingTask(same_order=False)))
    assert not np.array_equal(default, mixed)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "bad"), "--same-order", "maybe"])

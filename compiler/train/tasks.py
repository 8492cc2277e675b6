"""A small, deterministic spike classification task in which synaptic delays matter.

`timing` task (docs/training.md): the input channels form groups; in every sample each
group emits exactly one short burst of spikes, and the classes differ **only** in the
relative timing of the groups' bursts (a fixed offset pattern per class). Every class
has the same number of bursts per group, the same burst shape and the same background
noise, so the spike count of every channel carries no class information; the absolute
onset is random, so the time of any single burst carries none either. A neuron can only
tell the classes apart by relating the times of bursts in different groups.

A layer with per-synapse delays does this directly: delaying group g by
(max offset - offset of g) makes the bursts of one class arrive together, and a single
threshold detects the coincidence. Without delays a neuron has to hold a trace of an
early burst in its state until the later ones arrive (offsets are up to `max_offset`
steps, against membrane time constants of a few steps at initialisation).

Generation is vectorised numpy, seeded, and takes well under a second for the default
sizes; `write_timing_task` stores it as `.npz` files that every silifc command reads.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class TimingTask:
    n_groups: int = 4              # channel groups
    group_size: int = 8            # channels per group (inputs = n_groups * group_size)
    steps: int = 64                # time steps per sample
    n_classes: int = 8
    max_offset: int = 15           # class offsets are 0..max_offset steps (15: fits 4-bit firmware delays)
    min_distance: int = 8          # patterns differ by at least this much (L1 over groups)
    same_order: bool = True        # all classes burst in the same group order: only the intervals differ
    burst_steps: int = 1           # a burst lasts this many steps
    burst_prob: float = 0.7        # each channel of a bursting group fires with this probability per burst step
    burst_prob_min: float = 0.7    # ... drawn per sample and group in [burst_prob_min, burst_prob] (burst size varies)
    jitter: int = 1                # each group's burst moves by up to +-jitter steps per sample
    noise_rate: float = 0.02       # background Bernoulli events per channel and step
    distractors: int = 0           # extra bursts per group at random times (same shape, unrelated to the class)
    tail: int = 16                 # the class pattern ends at least this many steps before the last step
    n_train: int = 2400
    n_test: int = 600
    seed: int = 0

    def __post_init__(self):
        for name in ("n_groups", "group_size", "steps", "n_classes", "burst_steps", "n_train", "n_test"):
            if getattr(self, name) < 1:
                raise ConfigError(f"timing task: {name} must be >= 1, got {getattr(self, name)}")
        if self.n_classes < 2:
            raise ConfigError("timing task: needs at least 2 classes")
        span = self.max_offset + 2 * self.jitter + self.burst_steps + self.tail
        if span + 2 > self.steps:
            raise ConfigError(f"timing task: offsets ({self.max_offset}) + jitter + burst + tail ({span} steps) "
                              f"do not fit in {self.steps} steps")
        if not 0 <= self.burst_prob_min <= self.burst_prob <= 1 or not 0 <= self.noise_rate < 1:
            raise ConfigError("timing task: burst_prob and noise_rate must be probabilities")

    @property
    def n_inputs(self) -> int:
        return self.n_groups * self.group_size


def class_patterns(task: TimingTask) -> np.ndarray:
    """[n_classes, n_groups] burst offsets in steps, each pattern with its earliest group at 0.

    Drawn from the task's seed; any two patterns differ by >= min_distance steps (sum over
    groups), so the classes are separable given the timing, and by nothing else."""
    rng = np.random.default_rng([task.seed, 1])
    patterns: list[np.ndarray] = []
    for _ in range(20000):
        offsets = rng.integers(0, task.max_offset + 1, task.n_groups)
        if task.same_order:
            offsets = np.sort(offsets)
        offsets -= offsets.min()
        if offsets.max() < task.max_offset // 2:
            continue                                   # keep every class spread out in time
        if all(np.abs(offsets - p).sum() >= task.min_distance for p in patterns):
            patterns.append(offsets)
            if len(patterns) == task.n_classes:
                return np.stack(patterns)
    raise ConfigError(f"timing task: cannot find {task.n_classes} patterns {task.min_distance} steps apart "
                      f"with offsets up to {task.max_offset}; lower min_distance or raise max_offset")


def _samples(task: TimingTask, patterns: np.ndarray, n: int, rng: np.random.Generator):
    labels = np.arange(n) % task.n_classes                  # balanced classes
    rng.shuffle(labels)
    span = task.max_offset + 2 * task.jitter + task.burst_steps + task.tail
    onset = rng.integers(1, task.steps - span + 1, n)       # step 0 stays quiet (as the authors' binning)
    jitter = rng.integers(-task.jitter, task.jitter + 1, (n, task.n_groups))
    start = onset[:, None] + task.jitter + patterns[labels] + jitter          # [n, groups]
    counts = (rng.random((n, task.steps, task.n_inputs)) < task.noise_rate).astype(np.int64)
    counts[:, 0] = 0
    prob = rng.uniform(task.burst_prob_min, task.burst_prob, (n, 1, task.n_groups, 1))
    fires = rng.random((n, task.burst_steps, task.n_groups, task.group_size)) < prob
    sample, step, group, member = np.nonzero(fires)
    time = start[sample, group] + step
    np.add.at(counts, (sample, time, group * task.group_size + member), 1)
    if task.distractors:
        last = task.steps - task.burst_steps
        when = rng.integers(1, last + 1, (n, task.distractors, task.n_groups))
        prob = rng.uniform(task.burst_prob_min, task.burst_prob, (n, task.distractors, 1, task.n_groups, 1))
        fires = rng.random((n, task.distractors, task.burst_steps, task.n_groups, task.group_size)) < prob
        sample, extra, step, group, member = np.nonzero(fires)
        np.add.at(counts, (sample, when[sample, extra, group] + step, group * task.group_size + member), 1)
    return counts, labels.astype(np.int64)


def make_timing_task(task: TimingTask = TimingTask()):
    """-> (train_inputs [N, T, C] int64, train_labels [N], test_inputs, test_labels)."""
    patterns = class_patterns(task)
    rng = np.random.default_rng([task.seed, 2])
    train = _samples(task, patterns, task.n_train, rng)
    test = _samples(task, patterns, task.n_test, rng)
    return (*train, *test)


def write_timing_task(directory: str | Path, task: TimingTask = TimingTask()) -> tuple[Path, Path]:
    """Write `timing_train.npz` and `timing_test.npz` (keys inputs, labels, plus the task's
    parameters and class patterns) unless files of the same task are already there."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    params = np.array(repr(dataclasses.astuple(task)))
    paths = directory / "timing_train.npz", directory / "timing_test.npz"
    if all(p.exists() for p in paths):
        try:
            if all(str(np.load(p, allow_pickle=False)["task"]) == str(params) for p in paths):
                return paths
        except (OSError, KeyError, ValueError):
            pass
    train_x, train_y, test_x, test_y = make_timing_task(task)
    patterns = class_patterns(task)
    for path, x, y in ((paths[0], train_x, train_y), (paths[1], test_x, test_y)):
        np.savez_compressed(path, inputs=x.astype(np.uint8), labels=y, patterns=patterns, task=params)
    return paths


def _parse_bool(text: str) -> bool:
    """An option value that is a truth value (bool("False") would be True)."""
    value = text.strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def main(argv=None) -> int:
    """python -m silifc.train.tasks DIR [--seed N]: write the timing task's train/test files."""
    parser = argparse.ArgumentParser(prog="python -m silifc.train.tasks", description=main.__doc__)
    parser.add_argument("directory")
    for f in dataclasses.fields(TimingTask):
        kind = _parse_bool if isinstance(f.default, bool) else type(f.default)
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default,
                            metavar="true|false" if kind is _parse_bool else None)
    args = parser.parse_args(argv)
    task = TimingTask(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TimingTask)})
    for path in write_timing_task(args.directory, task):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

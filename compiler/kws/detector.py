"""The keyword detector: the specification of runtime_c/frontend/slf_detect.h.

It keeps a leaky sum of each step's class probabilities and reports a keyword that leads
and crosses a threshold, with a refractory period and re-arming (docs/kws.md, "Detector").
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..reference import fixedpoint as fx

PROB_ONE = 1 << fx.OUTPUT_FRAC_BITS      # Q16 probability 1.0, the largest softmax value
MAX_SHIFT = 14                           # SLF_DETECT_MAX_SHIFT
NONE = -1                                # SLF_DETECT_NONE


@dataclass(frozen=True)
class DetectorConfig:
    """The detector's settings in physical units (docs/kws.md, "Tuning")."""

    # Defaults: tuned for the bundled model on streams of validation voices (bench/kws.py tune).
    shift: int = 7               # leaky sum over 2^shift steps (128 steps = 512 ms)
    on: float = 0.12             # detect a leading keyword once its average probability reaches this
    off: float = 0.08            # a detected keyword re-arms once its average falls below this
    hold_ms: float = 300.0       # refractory period after a detection

    def __post_init__(self):
        if not 0 <= self.shift <= MAX_SHIFT:
            raise ConfigError(f"detector shift must be 0..{MAX_SHIFT}, got {self.shift}")
        if not 0 < self.on <= 1 or not 0 <= self.off <= self.on:
            raise ConfigError(f"detector thresholds need 0 <= off <= on <= 1, got on={self.on}, off={self.off}")
        if self.hold_ms < 0:
            raise ConfigError(f"detector hold_ms must be >= 0, got {self.hold_ms}")

    def params(self, classes: int, keywords: int, step_ms: float) -> "DetectorParams":
        scale = PROB_ONE << self.shift
        return DetectorParams(classes=classes, keywords=keywords, shift=self.shift,
                              on=max(1, round(self.on * scale)), off=round(self.off * scale),
                              hold_steps=round(self.hold_ms / step_ms))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DetectorParams:
    """The integers of `slf_detect_params` (same names, same ranges)."""

    classes: int
    keywords: int
    shift: int
    on: int                      # acc units: Q16 probability * 2^shift
    off: int
    hold_steps: int

    def __post_init__(self):
        if not 1 <= self.classes <= fx.MAX_CLASSES or not 1 <= self.keywords <= self.classes:
            raise ConfigError(f"detector: need 1 <= keywords <= classes <= {fx.MAX_CLASSES}, "
                              f"got {self.keywords} keywords of {self.classes} classes")
        if not 0 <= self.shift <= MAX_SHIFT or not 1 <= self.on < 2 ** 32 or not 0 <= self.off <= self.on:
            raise ConfigError(f"detector: shift 0..{MAX_SHIFT}, 1 <= on < 2^32 and 0 <= off <= on needed, "
                              f"got shift={self.shift} on={self.on} off={self.off}")
        if not 0 <= self.hold_steps <= 0xFFFF:
            raise ConfigError(f"detector: hold_steps must be 0..65535, got {self.hold_steps}")

    def c_fields(self) -> list[tuple[str, object]]:
        """(member, value) of `slf_detect_params` in declaration order."""
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]


class Detector:
    """The specification of slf_detect_step_q16 (one step per call; state carried)."""

    def __init__(self, params: DetectorParams):
        self.params = params
        self.acc = np.zeros(params.classes, np.int64)
        self.hold = 0
        self.last = NONE
        self.idle = True

    def step(self, p) -> int:
        """p: this step's Q16 probabilities [classes]. Returns the detected keyword or NONE."""
        P = self.params
        self.acc = (self.acc - (self.acc >> P.shift) + np.asarray(p, np.int64)) & 0xFFFFFFFF   # uint32 as in C
        if self.hold > 0:
            self.hold -= 1
        if self.last >= 0 and self.acc[self.last] < P.off:
            self.last = NONE
        best = int(self.acc.argmax())                 # lowest index on ties, as the C loop
        detected = NONE
        if self.hold == 0 and best < P.keywords and best != self.last and self.acc[best] >= P.on:
            detected = best
            self.last = best
            self.hold = P.hold_steps
        self.idle = self.hold == 0 and not bool((self.acc[:P.keywords] >= P.off).any())
        return detected

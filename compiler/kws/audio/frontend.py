"""Integer audio front end: 16 kHz PCM16 -> spike counts per band per time step.

This module is the specification of `runtime_c/frontend/` (`slf_frontend_step_s16`):
the C computes the same integers, bit for bit (tests/test_audio_frontend_c.py).
docs/audio.md explains the design; in short, per step of `step_samples` samples:

1. d[n] = (x[n] - x[n-2]) * 2^S, pre[n] = d[n] * 2^30 + 2^29      shared by all bands
2. per band, per sample (resonator with Q2.30 poles; 64-bit accumulator, one rounding):
       y[n] = (pre[n] + na1 * y[n-1] + na2 * y[n-2]) >> 30
            = d[n] + ((na1 * y[n-1] + na2 * y[n-2] + 2^29) >> 30)
   E = sum y[n]^2 over the step (int64; |y| <= peak_bound, proven for all int16 input)
3. env += (E - env) >> env_shift                          leaky integrator of the power
4. L = log2(env) in Q6 (CLZ + 64-entry table) + log_gain  ~ log2(mean band power in LSB^2)
5. floor (Q14): a minimum tracker of L (rises by >> floor_rise_shift, falls by
   >> floor_fall_shift); the first step sets it to L
   D = max(0, L - max(floor >> 8, min_level) - offset)   drive above the noise floor
   (uses the floor of the previous step: onsets see the old floor)
6. integrate-and-fire: charge += D; n = min(charge // threshold, max_count);
   charge -= n * threshold; charge = min(charge, threshold - 1)  ->  counts[band] = n

Everything is int64 numpy arithmetic with floor (arithmetic) right shifts, written in
the C's order. Constants come from `FrontEndConfig` through `design()`; the floats are
only used there, once, to build integer tables.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError
from .wav import SAMPLE_RATE

ALGORITHM_VERSION = 1          # bump when the computation changes (data set caches key on it)
COEF_FRAC_BITS = 30           # poles -a1, -a2 in Q2.30 (|a1| < 2)
LOG_FRAC_BITS = 6             # log2 of power in Q6: 64 units per octave of power (3.01 dB)
LOG_TABLE_BITS = 6            # mantissa bits that index the log2 table
FLOOR_FRAC_BITS = 8           # extra fraction bits of the floor tracker (Q14 log2)
MAX_STEP_SAMPLES = 160        # SLF_FRONTEND_MAX_STEP_SAMPLES (an int64 stack buffer in the C)
MAX_BANDS = 255
MAX_INPUT_SHIFT = 12
PEAK_LIMIT = 1 << 29          # |y| < 2^29 keeps the accumulator pre + 2 products inside int64
ENERGY_LIMIT = 1 << 62        # sum of y^2 over a step (and env) stay below this
_ROUND = 1 << (COEF_FRAC_BITS - 1)
_DB_PER_OCTAVE = 10.0 * math.log10(2.0)   # of power


def log2_table() -> np.ndarray:
    """round(64 * log2(1 + i/64)) for i = 0..63: the fraction of log2 from the 6 bits
    below the leading one (values 0..63)."""
    i = np.arange(1 << LOG_TABLE_BITS, dtype=np.float64)
    return np.round(np.log2(1.0 + i / (1 << LOG_TABLE_BITS)) * (1 << LOG_FRAC_BITS)).astype(np.int64)


LOG2_TABLE = log2_table()
LOG2_TABLE.setflags(write=False)


def log2_q6(value) -> np.ndarray:
    """floor(log2 v) * 64 + table[6 bits below the leading one], for 0 <= v < 2^63.

    v = 0 gives 0 (as v = 1). The C finds the leading one with CLZ."""
    v = np.maximum(np.asarray(value, dtype=np.int64), 1)
    # frexp: v ~ m * 2^e, m in [0.5, 1). Above 2^53 the conversion may round v up to the
    # next power of two, so correct the estimate once.
    msb = np.frexp(v.astype(np.float64))[1].astype(np.int64) - 1
    msb = msb - ((np.int64(1) << msb) > v)
    index = np.where(msb >= LOG_TABLE_BITS, v >> np.maximum(msb - LOG_TABLE_BITS, 0),
                     v << np.maximum(LOG_TABLE_BITS - msb, 0)) & ((1 << LOG_TABLE_BITS) - 1)
    return (msb << LOG_FRAC_BITS) + LOG2_TABLE[index]


def _mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_inverse(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def db_to_log_units(db: float) -> int:
    """A level difference in dB -> Q6 log2-of-power units (64 per 3.01 dB)."""
    return int(round(db / _DB_PER_OCTAVE * (1 << LOG_FRAC_BITS)))


@dataclass(frozen=True)
class FrontEndConfig:
    """Design parameters (floats allowed); `design()` turns them into integer constants.

    Levels: the front end's log level L is log2 of the mean band power per sample in
    PCM LSB^2 (a sine of amplitude A at a band's centre gives A^2 / 2). `min_level_dbfs`
    is the level, relative to a full-scale sine (amplitude 32768), of the quietest band
    power that can spike: bands below it never do.
    """

    sample_rate: int = SAMPLE_RATE
    step_samples: int = 64            # 4 ms at 16 kHz: one network time step (even, <= 160)
    bands: int = 32
    f_min_hz: float = 100.0           # lower edge of the lowest band (mel spacing)
    f_max_hz: float = 7000.0          # upper edge of the highest band
    bandwidth_scale: float = 1.0      # band -3 dB width = scale * mel spacing of the centres
    env_shift: int = 1                # envelope smoothing: time constant ~ 2^env_shift steps
    floor_rise_shift: int = 8         # noise floor rises with time constant ~ 2^8 steps (1 s)
    floor_fall_shift: int = 2         # ... and falls with ~ 2^2 steps (16 ms)
    min_level_dbfs: float = -80.0     # absolute floor (see above)
    offset_db: float = 6.0            # drive starts this far above the floor
    db_per_spike: float = 8.0         # drive per spike per step (dB above floor + offset)
    max_count: int = 15               # cap of the count per band per step (uint8)

    def __post_init__(self):
        def bad(message):
            raise ConfigError(f"front end: {message}")

        for name in ("sample_rate", "step_samples", "bands", "env_shift", "floor_rise_shift",
                     "floor_fall_shift", "max_count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                bad(f"{name} must be an integer, got {value!r}")
        for name in ("f_min_hz", "f_max_hz", "bandwidth_scale", "min_level_dbfs", "offset_db", "db_per_spike"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                bad(f"{name} must be a finite number, got {value!r}")
        if self.sample_rate <= 0:
            bad(f"sample_rate must be positive, got {self.sample_rate}")
        if not (2 <= self.step_samples <= MAX_STEP_SAMPLES and self.step_samples % 2 == 0):
            bad(f"step_samples must be even and in 2..{MAX_STEP_SAMPLES}, got {self.step_samples}")
        if not 1 <= self.bands <= MAX_BANDS:
            bad(f"bands must be in 1..{MAX_BANDS}, got {self.bands}")
        if not 0 < self.f_min_hz < self.f_max_hz < self.sample_rate / 2:
            bad(f"need 0 < f_min_hz < f_max_hz < sample_rate/2, got {self.f_min_hz}, {self.f_max_hz}")
        if not 0 < self.bandwidth_scale <= 4:
            bad(f"bandwidth_scale must be in (0, 4], got {self.bandwidth_scale}")
        for name in ("env_shift", "floor_rise_shift", "floor_fall_shift"):
            if not 0 <= getattr(self, name) <= 15:
                bad(f"{name} must be in 0..15, got {getattr(self, name)}")
        if not -150 <= self.min_level_dbfs <= 0:
            bad(f"min_level_dbfs must be in -150..0, got {self.min_level_dbfs}")
        if not 0 <= self.offset_db <= 60:
            bad(f"offset_db must be in 0..60, got {self.offset_db}")
        if not 0.1 <= self.db_per_spike <= 200:
            bad(f"db_per_spike must be in 0.1..200, got {self.db_per_spike}")
        if not 1 <= self.max_count <= 255:
            bad(f"max_count must be in 1..255 (uint8 counts), got {self.max_count}")

    @property
    def step_ms(self) -> float:
        return 1000.0 * self.step_samples / self.sample_rate

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "FrontEndConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"front end: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)

    def digest(self) -> str:
        """sha256 of the settings (stable JSON): names a front end in caches and datasets."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class FrontEndConstants:
    """The integers the C needs, in the order of `slf_frontend_params` (see `c_fields`).

    Arrays are read-only int64 numpy arrays holding values of the C type named in
    `c_fields`. `center_hz`, `bandwidth_hz` and `peak_bound` are for documentation."""

    bands: int
    step_samples: int
    input_shift: int              # S: d = (x[n] - x[n-2]) * 2^S
    env_shift: int
    floor_rise_shift: int
    floor_fall_shift: int
    max_count: int
    min_level: int                # Q6 log2 of power (mean band power in LSB^2)
    offset: int                   # Q6 log2 units
    threshold: int                # Q6 log2 units of drive per spike, >= 1
    neg_a1: np.ndarray            # [bands] Q2.30: -a1
    neg_a2: np.ndarray            # [bands] Q2.30: -a2
    log_gain: np.ndarray          # [bands] Q6: -log2(peak gain^2 * 4^S * step_samples)
    center_hz: np.ndarray         # [bands] float64
    bandwidth_hz: np.ndarray      # [bands] float64
    peak_bound: int               # proven bound on |y| (all inputs in int16)

    def __post_init__(self):
        for field in ("neg_a1", "neg_a2", "log_gain", "center_hz", "bandwidth_hz"):
            array = np.array(getattr(self, field))
            array.setflags(write=False)
            object.__setattr__(self, field, array)

    def c_fields(self) -> list[tuple[str, str, object]]:
        """(member, C type, value) of `slf_frontend_params` in declaration order: what a
        code generator needs to fill the struct. Array members give the element type and
        a tuple of Python ints."""
        ints = lambda a: tuple(int(v) for v in a)   # noqa: E731
        return [
            ("bands", "uint16_t", self.bands),
            ("step_samples", "uint16_t", self.step_samples),
            ("input_shift", "uint8_t", self.input_shift),
            ("env_shift", "uint8_t", self.env_shift),
            ("floor_rise_shift", "uint8_t", self.floor_rise_shift),
            ("floor_fall_shift", "uint8_t", self.floor_fall_shift),
            ("max_count", "uint8_t", self.max_count),
            ("min_level", "int32_t", self.min_level),
            ("offset", "int32_t", self.offset),
            ("threshold", "uint32_t", self.threshold),
            ("neg_a1", "int32_t", ints(self.neg_a1)),
            ("neg_a2", "int32_t", ints(self.neg_a2)),
            ("log_gain", "int32_t", ints(self.log_gain)),
        ]

    def digest(self) -> str:
        """sha256 over the integer constants: equal digests compute equal counts."""
        h = hashlib.sha256()
        for name, ctype, value in self.c_fields():
            h.update(f"{name}:{ctype}:{value!r};".encode())
        return h.hexdigest()


def _impulse_l1(neg_a1: np.ndarray, neg_a2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L1 norms of the impulse responses of (1 - z^-2)/A(z) and 1/A(z) for the quantized
    poles, in float64, summed until the pole radius r gives r^n < 1e-30 (the tail is far
    below the 0.1 % margin `design` adds)."""
    a1 = -neg_a1.astype(np.float64) / (1 << COEF_FRAC_BITS)
    a2 = -neg_a2.astype(np.float64) / (1 << COEF_FRAC_BITS)
    radius = np.sqrt(np.maximum(a2, 0.0))
    if np.any(radius >= 1.0):
        raise ConfigError("front end: a band filter is unstable after quantization; narrow the band range")
    length = int(min(200000, max(64, math.ceil(np.max(np.log(1e-30) / np.log(np.maximum(radius, 1e-3)))))))
    rec1 = np.zeros_like(a1)                            # 1/A impulse response at n-1 and n-2
    rec2 = np.zeros_like(a1)
    l1_rec = np.zeros_like(a1)
    l1 = np.zeros_like(a1)
    for n in range(length):
        rec = (1.0 if n == 0 else 0.0) - a1 * rec1 - a2 * rec2
        l1_rec += np.abs(rec)
        l1 += np.abs(rec - rec2)                        # (1 - z^-2) applied
        rec1, rec2 = rec, rec1
    return l1, l1_rec


@functools.lru_cache(maxsize=32)
def design(config: FrontEndConfig) -> FrontEndConstants:
    """Band filters and integer constants for a config (deterministic: float64 design,
    rounded once)."""
    fs = float(config.sample_rate)
    edges = _mel_inverse(np.linspace(_mel(config.f_min_hz), _mel(config.f_max_hz), config.bands + 2))
    center = edges[1:-1]
    bandwidth = (edges[2:] - edges[:-2]) / 2.0 * config.bandwidth_scale
    w0 = 2.0 * np.pi * center / fs
    # RBJ band-pass (constant 0 dB peak) with bandwidth in Hz via Q = fc / bw.
    alpha = np.sin(w0) * bandwidth / (2.0 * center)
    a0 = 1.0 + alpha
    one = 1 << COEF_FRAC_BITS
    neg_a1 = np.round(2.0 * np.cos(w0) / a0 * one).astype(np.int64)
    neg_a2 = np.round(-(1.0 - alpha) / a0 * one).astype(np.int64)
    if np.any(np.abs(neg_a1) >= 1 << 31) or np.any(np.abs(neg_a2) >= 1 << 31):
        raise ConfigError("front end: a pole coefficient does not fit Q2.30")

    # Peak gain of (1 - z^-2)/A(z) at the centre, for the quantized poles.
    a1 = -neg_a1 / one
    a2 = -neg_a2 / one
    z1 = np.exp(-1j * w0)
    peak_gain = np.abs((1.0 - z1 ** 2) / (1.0 + a1 * z1 + a2 * z1 ** 2))

    l1, l1_rec = _impulse_l1(neg_a1, neg_a2)
    # |y| <= L1(h) * 32768 * 2^S + L1(1/A) * 1/2 (each rounding adds at most 1/2), with a
    # small relative margin for the float64 evaluation of the norms. The largest S whose
    # bound keeps y, the accumulator and the energy in range gives the most precision.
    shift = None
    for s in range(MAX_INPUT_SHIFT, -1, -1):
        bound = int(math.ceil(float(np.max(l1 * 32768.0 * (1 << s) + l1_rec * 0.5)) * 1.001)) + 2
        if bound < PEAK_LIMIT and bound * bound * config.step_samples < ENERGY_LIMIT:
            shift = s
            break
    if shift is None:
        raise ConfigError(f"front end: these bands can overflow the 64-bit energy with step_samples="
                          f"{config.step_samples}; use fewer samples per step or wider bands")

    scale = peak_gain ** 2 * 4.0 ** shift * config.step_samples
    log_gain = np.round(-np.log2(scale) * (1 << LOG_FRAC_BITS)).astype(np.int64)
    min_power = (32768.0 * 10.0 ** (config.min_level_dbfs / 20.0)) ** 2 / 2.0
    min_level = int(round(math.log2(min_power) * (1 << LOG_FRAC_BITS)))
    return FrontEndConstants(
        bands=config.bands, step_samples=config.step_samples, input_shift=shift,
        env_shift=config.env_shift, floor_rise_shift=config.floor_rise_shift,
        floor_fall_shift=config.floor_fall_shift, max_count=config.max_count,
        min_level=min_level, offset=db_to_log_units(config.offset_db),
        threshold=max(1, db_to_log_units(config.db_per_spike)),
        neg_a1=neg_a1, neg_a2=neg_a2, log_gain=log_gain,
        center_hz=center, bandwidth_hz=bandwidth, peak_bound=bound)


def as_pcm16(pcm) -> np.ndarray:
    """Validate PCM samples (any integer dtype within int16, or int16 itself) -> int64."""
    array = np.asarray(pcm)
    if array.dtype.kind not in "iu":
        raise ValueError(f"PCM samples must be integers (int16), got dtype {array.dtype}; "
                         "convert floats with np.round(x * 32767).astype(np.int16)")
    array = array.astype(np.int64)
    if array.size and (array.min() < -32768 or array.max() > 32767):
        raise ValueError("PCM samples must lie in the int16 range -32768..32767")
    return array


class FrontEnd:
    """Streaming front end: state carries across `process` calls.

    `process(pcm)` takes int16 samples, [n] (one stream) or [B, n] (B independent
    streams, same length), and returns the counts of every step completed so far:
    uint8 [T, bands] or [B, T, bands]. Samples short of a whole step wait for the next
    call, so any chunking of a signal gives the same counts as one call.
    """

    def __init__(self, config: FrontEndConfig | None = None):
        self.config = config if config is not None else FrontEndConfig()
        self.constants = design(self.config)
        self._batch: int | None = None
        self._single = False
        self.reset()

    def reset(self) -> None:
        """Back to the power-on state (what `slf_frontend_init` sets)."""
        self._state = None
        self._pending = None
        self._batch = None

    @property
    def pending_samples(self) -> int:
        """Samples received but not yet part of a completed step."""
        return 0 if self._pending is None else int(self._pending.shape[1])

    def _new_state(self, batch: int) -> dict:
        shape = (batch, self.constants.bands)
        return {
            "x1": np.zeros(batch, np.int64), "x2": np.zeros(batch, np.int64),   # x[n-1], x[n-2]
            "y1": np.zeros(shape, np.int64), "y2": np.zeros(shape, np.int64),   # y[n-1], y[n-2]
            "env": np.zeros(shape, np.int64), "floor": np.zeros(shape, np.int64),
            "charge": np.zeros(shape, np.int64), "started": False,
        }

    def process(self, pcm) -> np.ndarray:
        samples = as_pcm16(pcm)
        single = samples.ndim == 1
        if single:
            samples = samples[None]
        if samples.ndim != 2:
            raise ValueError(f"PCM must be [n] or [B, n], got shape {list(np.shape(pcm))}")
        if self._state is None:
            self._batch, self._single = samples.shape[0], single
            self._state = self._new_state(samples.shape[0])
            self._pending = np.zeros((samples.shape[0], 0), np.int64)
        elif samples.shape[0] != self._batch or single != self._single:
            raise ValueError(f"this FrontEnd streams {'one signal' if self._single else f'{self._batch} signals'}; "
                             "call reset() before changing the batch shape")
        samples = np.concatenate([self._pending, samples], axis=1)
        step = self.constants.step_samples
        n_steps = samples.shape[1] // step
        counts = np.zeros((self._batch, n_steps, self.constants.bands), np.uint8)
        for t in range(n_steps):
            counts[:, t] = self._step(samples[:, t * step:(t + 1) * step])
        self._pending = samples[:, n_steps * step:]
        return counts[0] if single else counts

    def _step(self, x: np.ndarray) -> np.ndarray:
        c, s = self.constants, self._state
        # 1. the numerator 1 - z^-2 and the rounding term, shared by all bands (the C: one
        #    pass into a stack buffer of int64).
        history = np.concatenate([s["x2"][:, None], s["x1"][:, None], x], axis=1)
        d = (history[:, 2:] - history[:, :-2]) << c.input_shift
        pre = (d << COEF_FRAC_BITS) + _ROUND
        s["x2"], s["x1"] = x[:, -2].copy(), x[:, -1].copy()

        # 2. resonators: y[n] = (pre[n] + na1 y[n-1] + na2 y[n-2]) >> 30; energy = sum y^2.
        y1, y2 = s["y1"], s["y2"]
        na1, na2 = c.neg_a1, c.neg_a2
        energy = np.zeros_like(y1)
        for n in range(c.step_samples):
            y = (pre[:, n:n + 1] + na1 * y1 + na2 * y2) >> COEF_FRAC_BITS
            energy += y * y
            y1, y2 = y, y1
        s["y1"], s["y2"] = y1, y2
        if energy.max(initial=0) >= ENERGY_LIMIT:
            raise AssertionError("front end energy overflow: peak_bound is wrong")

        # 3. envelope: leaky integrator of the power (arithmetic shift as in the C).
        s["env"] = s["env"] + ((energy - s["env"]) >> c.env_shift)

        # 4. log2 of the power, Q6.
        level = log2_q6(s["env"]) + c.log_gain

        # 5. noise floor (Q14) and drive.
        level_fine = level << FLOOR_FRAC_BITS
        if not s["started"]:
            s["floor"] = level_fine.copy()
            s["started"] = True
        floor = np.maximum(s["floor"] >> FLOOR_FRAC_BITS, c.min_level)
        drive = np.maximum(level - floor - c.offset, 0)
        diff = level_fine - s["floor"]
        s["floor"] = s["floor"] + np.where(diff > 0, diff >> c.floor_rise_shift, diff >> c.floor_fall_shift)

        # 6. integrate-and-fire encoder.
        charge = s["charge"] + drive
        count = np.minimum(charge // c.threshold, c.max_count)
        charge = np.minimum(charge - count * c.threshold, c.threshold - 1)
        s["charge"] = charge
        return count.astype(np.uint8)


def frontend_counts(pcm, config: FrontEndConfig | None = None) -> np.ndarray:
    """Counts of a whole signal from the power-on state (a fresh FrontEnd, one call)."""
    return FrontEnd(config).process(pcm)

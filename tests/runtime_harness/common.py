"""What every kernel family's cases share: the driver's binary protocol, random values at the
edges of their formats, the case base class and the result check.

The C driver (driver.c + one driver_<family>.c per kernel family) replays a case file through the
kernels and writes every result back; each case encodes one record and parses and checks its own
results. Expected values come from compiler/reference/int_ref.py and fixedpoint.py (the
specification), never from a re-implementation, except where int_ref has no per-kernel entry point
(the synthetic inputs of the long runs).

Parameters are drawn to hit the edges of their formats: Q31 decays 0 and 2^31 - 1, negative
couplings, zero and full-scale multipliers, shifts 1 / 31 / 32 / 62, int32 extremes of states,
biases and accumulators (saturating currents), ties in the decision.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from silifc.reference import fixedpoint as fx

MAGIC = 0x43464C53
VERSION = 1
END_MARK = 0xE0D

# Record opcodes (driver.h), one table for every family so that they never collide.
OP_ACCUMULATE, OP_SILIF, OP_CSILIF, OP_READOUT, OP_DECISION, OP_LONGRUN, OP_LAYER_CHECK, OP_SYNAPSE_ERRORS, \
    OP_DELAY_CHECK, OP_LANES16_CHECK, OP_NEURON_ERRORS, OP_DECISION_ERRORS, OP_DELAY_U8_CHECK, OP_LIF = range(1, 15)

# slf_status values
OK, ERR_NULL, ERR_SHAPE, ERR_INDEX, ERR_CAPACITY, ERR_PARAM = 0, -1, -2, -3, -4, -5

I32_MIN, I32_MAX = fx.INT32_MIN, fx.INT32_MAX
I16_MIN, I16_MAX = fx.INT16_MIN, fx.INT16_MAX
Q31_MAX = fx.Q31_LIMIT          # largest |Q31 constant| in the neuron kernels' contracts
EXP_MULT = 1549082005            # what quantize._quantize_readout always produces (log2 e, normalised)
STANDARD_SEED = 20240611
STANDARD_PER_KERNEL = 1000


# ---------------------------------------------------------------- encoding helpers

def words(values) -> np.ndarray:
    """int64-able values -> uint32 words (two's complement)."""
    return (np.asarray(values, dtype=np.int64).ravel() & 0xFFFFFFFF).astype(np.uint32)


def packed(values, dtype) -> np.ndarray:
    """Pack a small-int array as `dtype` bytes, padded with zeros to whole words."""
    raw = np.asarray(values).astype(dtype).tobytes()
    raw += b"\0" * (-len(raw) % 4)
    return np.frombuffer(raw, dtype=np.uint32)


def as_i32(words_) -> np.ndarray:
    return np.asarray(words_, dtype=np.uint32).view(np.int32).astype(np.int64)


def wrap32(values) -> np.ndarray:
    """int64 -> the int32 the C's wrapping arithmetic holds."""
    return ((np.asarray(values, dtype=np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def wrap16(values) -> np.ndarray:
    """int64 -> sext16(x mod 2^16): what a 16-bit lane holds of a sum."""
    return ((np.asarray(values, dtype=np.int64) + (1 << 15)) & 0xFFFF) - (1 << 15)


class Reader:
    def __init__(self, data: np.ndarray):
        self.data = data
        self.pos = 0

    def word(self) -> int:
        if self.pos >= self.data.size:
            raise EOFError("result stream ended early")
        self.pos += 1
        return int(self.data[self.pos - 1])

    def i32(self) -> int:
        w = self.word()
        return w - (1 << 32) if w & 0x80000000 else w

    def i32s(self, n: int) -> np.ndarray:
        if self.pos + n > self.data.size:
            raise EOFError("result stream ended early")
        out = as_i32(self.data[self.pos:self.pos + n])
        self.pos += n
        return out


def hash32(x):
    """lowbias32, as driver.c's hash32 (numpy uint32 arithmetic wraps)."""
    x = np.asarray(x, dtype=np.uint32)
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint32(16))
        x = x * np.uint32(0x7FEB352D)
        x = x ^ (x >> np.uint32(15))
        x = x * np.uint32(0x846CA68B)
        x = x ^ (x >> np.uint32(16))
    return x


# ---------------------------------------------------------------- random values at the edges

def pick(rng, n, choices, p_edge=0.3, low=I32_MIN, high=I32_MAX):
    """n int64 values: uniform in [low, high], each replaced by one of `choices` with p_edge."""
    values = rng.integers(low, high, size=n, endpoint=True, dtype=np.int64)
    edge = rng.random(n) < p_edge
    values[edge] = rng.choice(np.asarray(choices, dtype=np.int64), size=int(edge.sum()))
    return values


def q31(rng, n, sign="any"):
    edges = {"any": [0, Q31_MAX, -Q31_MAX, 1, -1, 1 << 30],
             "pos": [0, Q31_MAX, 1, Q31_MAX - 1, 1 << 30],
             "neg": [0, -Q31_MAX, -1, -(1 << 30)]}[sign]
    low, high = {"any": (-Q31_MAX, Q31_MAX), "pos": (0, Q31_MAX), "neg": (-Q31_MAX, 0)}[sign]
    return pick(rng, n, edges, 0.3, low, high)


def state_values(rng, n, scale_bits=None):
    """int32 states: full range with extremes, or mostly within +-2^scale_bits."""
    if scale_bits is None:
        return pick(rng, n, [I32_MIN, I32_MAX, 0, -1, 1], 0.2)
    return pick(rng, n, [I32_MIN, I32_MAX, 0], 0.05, -(1 << scale_bits), 1 << scale_bits)


def input_scale(rng, n):
    """(mult, bias) per neuron over their whole contract, plus realistic ones."""
    mult = pick(rng, n, [0, I32_MAX, 1 << 30, 1], 0.3, 0, I32_MAX)
    realistic = rng.random(n) < 0.5
    mult[realistic] = rng.integers(1, 1 << 20, size=int(realistic.sum()))
    bias = state_values(rng, n, None if rng.random() < 0.5 else 26)
    return mult, bias


def accumulators(rng, n, mult, bias):
    """Synaptic accumulators for which acc * mult + bias fits int32 (the kernels' contract):
    small sums, anywhere in the allowed range, and its two ends."""
    safe = np.where(mult > 0, mult, 1)
    low = np.where(mult > 0, -((bias - I32_MIN) // safe), I32_MIN)
    high = np.where(mult > 0, (I32_MAX - bias) // safe, I32_MAX)
    kind = rng.integers(3)
    if kind == 0:
        acc = rng.integers(-3000, 3000, size=n, endpoint=True)
    elif kind == 1:
        acc = (low + (high - low) * rng.random(n)).astype(np.int64)
    else:
        acc = np.where(rng.random(n) < 0.5, low, high)
    return np.clip(acc, low, high)


# ---------------------------------------------------------------- driver limits

@dataclass(frozen=True)
class Limits:
    """Sizes the driver was built for (driver.c RECORD_WORDS, MAX_NEURONS, MAX_EVENTS)."""

    max_n: int = 200              # layer width / n_out (driver MAX_NEURONS 256)
    max_in: int = 120             # n_in of accumulation cases
    max_events: int = 40          # items per step of the generic accumulation cases
    driver_events: int = 512      # driver MAX_EVENTS: the longest list a step may carry
    record_bytes: int = 96 * 1024  # driver RECORD_WORDS * 4


DEFAULT_LIMITS = Limits()
SMALL_LIMITS = Limits(max_n=40, max_in=24, max_events=24, driver_events=48, record_bytes=4 * 1024)  # SMALL_DRIVER


class TooBig(Exception):
    """A generated record exceeds the driver's buffer: draw another case."""


# ---------------------------------------------------------------- case base class

@dataclass
class Case:
    op: int
    label: str                    # kernel name (for per-kernel counts and messages)
    payload: np.ndarray = field(repr=False)

    def record(self) -> np.ndarray:
        return np.concatenate([words([self.op, self.payload.size]), self.payload])

    def check(self, reader: Reader) -> list[str]:     # pragma: no cover - overridden
        raise NotImplementedError


def compare(errors, what, got, want):
    got = np.asarray(got, dtype=np.int64)
    want = np.asarray(want, dtype=np.int64)
    if got.shape != want.shape or not np.array_equal(got, want):
        where = np.flatnonzero(got.ravel() != want.ravel())[:4] if got.shape == want.shape else "shape"
        errors.append(f"{what}: got {got.ravel()[:8].tolist()} want {want.ravel()[:8].tolist()} (at {where})")


def encode(cases: list[Case]) -> bytes:
    body = [case.record() for case in cases]
    return words([MAGIC, VERSION, len(cases)]).tobytes() + np.concatenate(body).tobytes()


@dataclass
class Report:
    counts: dict                   # label -> cases run
    failures: list                 # (label, index, messages)

    def summary(self, limit: int = 10) -> str:
        lines = [f"{len(self.failures)} failing case(s)"]
        for label, index, messages in self.failures[:limit]:
            lines.append(f"  {label} case {index}: " + "; ".join(messages[:3]))
        return "\n".join(lines)


def check_results(cases: list[Case], data: bytes) -> Report:
    reader = Reader(np.frombuffer(data[: len(data) // 4 * 4], dtype=np.uint32))
    counts: dict = {}
    failures = []
    for index, case in enumerate(cases):
        try:
            op = reader.word()
            if op != case.op:
                raise EOFError(f"result for op {op}, expected {case.op}")
            messages = case.check(reader)
            mark = reader.word()
            if mark != END_MARK:
                messages.append(f"end marker {mark:#x}")
        except EOFError as exc:
            failures.append((case.label, index, [str(exc)]))
            break
        counts[case.label] = counts.get(case.label, 0) + 1
        if messages:
            failures.append((case.label, index, messages))
    return Report(counts, failures)


def draw(make):
    """make() until it returns a case that fits the driver's buffers."""
    while True:
        try:
            return make()
        except TooBig:
            continue


class BatteryCase(Case):
    """A family's fixed battery of invalid calls (run_errors in driver_<family>.c): every status it
    reports must equal `expected`, and nothing may have been written (the driver reports guard checks
    as 1s among the statuses)."""

    def __init__(self, op, label, expected):
        super().__init__(op, label, np.zeros(0, np.uint32))
        self.expected = list(expected)

    def check(self, reader):
        errors = []
        compare(errors, "statuses", reader.i32s(len(self.expected)), self.expected)
        return errors

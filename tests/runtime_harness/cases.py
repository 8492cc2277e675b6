"""Randomized cases for the C runtime, with the integer reference's expected results.

Each case is encoded as one record of the driver's binary protocol (driver.c) and knows
how to parse and check its own results. Expected values come from compiler/int_ref.py
and compiler/fixedpoint.py (the specification), never from a re-implementation, except
where int_ref has no per-kernel entry point (the synthetic inputs of the long runs).

Parameters are drawn to hit the edges of their formats: Q31 decays 0 and 2^31 - 1,
negative couplings, zero and full-scale multipliers, shifts 1 / 31 / 32 / 62, int32
extremes of states, biases and accumulators (saturating currents), ties in the decision.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from silifc.reference import fixedpoint as fx
from silifc.reference import int_ref
from silifc.passes.quantize import LANES16_LIMIT, subset_sum_bound
from silifc.ir import QuantSynapses

MAGIC = 0x43464C53
VERSION = 1
END_MARK = 0xE0D

OP_ACCUMULATE, OP_SILIF, OP_CSILIF, OP_READOUT, OP_DECISION, OP_LONGRUN, OP_LAYER_CHECK, OP_ERRORS, \
    OP_DELAY_CHECK, OP_LANES16_CHECK = range(1, 11)

# slf_status values
OK, ERR_NULL, ERR_SHAPE, ERR_INDEX, ERR_CAPACITY, ERR_PARAM = 0, -1, -2, -3, -4, -5

I32_MIN, I32_MAX = fx.INT32_MIN, fx.INT32_MAX
Q31_MAX = fx.Q31_LIMIT          # largest |Q31 constant| in the neuron kernels' contracts

# Accumulation kernel variants: (events?, delay mode, int16?) -> bits of `kind` in driver.c
DELAY_MODES = ("none", "axonal", "synaptic")
ACCUMULATE_KERNELS = {
    f"slf_accumulate_{'events' if ev else 'spikes'}_s{16 if wide else 8}{'' if mode == 'none' else '_' + ('axonal' if mode == 'axonal' else 'delayed')}":
        (ev | (DELAY_MODES.index(mode) << 1) | (wide << 3))
    for wide in (0, 1) for mode in DELAY_MODES for ev in (0, 1)
}
LANES16 = 0x10                  # slf_accumulate_spikes_s8_lanes16: spikes, int8, no delays, 16-bit lanes
ACCUMULATE_KERNELS["slf_accumulate_spikes_s8_lanes16"] = LANES16


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


# ---------------------------------------------------------------- synaptic accumulation

def _bound_columns(rng, n_in, n_out):
    """[n_in, n_out] int8 weights whose every column has positive and negative sums of exactly
    LANES16_LIMIT (258 x 127 + 1 and 255 x -128 - 127, in a random order per column), or, for
    some columns, less (entries shrunk towards 0). n_in >= 515."""
    base = np.array([127] * 258 + [1] + [-128] * 255 + [-127] + [0] * (n_in - 515), np.int64)
    weights = np.stack([rng.permutation(base) for _ in range(n_out)], axis=1)
    shrink = rng.random(n_out) < 0.3
    weights[:, shrink] = (weights[:, shrink] * rng.random((n_in, int(shrink.sum())))).astype(np.int64)
    return weights


class AccumulateCase(Case):
    """Several steps of accumulate (one kernel variant) + take, against int_ref.DelayRing.

    The 16-bit lane kernel (LANES16) gets lists of distinct indices (its contract: 0/1 spikes),
    ascending as the update kernels write them or in any order, with weights inside its
    subset-sum bound; some cases put every column's bound at exactly LANES16_LIMIT and spike all
    of one sign, and a few break the contract on purpose (repeated indices whose sums leave
    int16) to check the defined, wrapped result: slot += wrap16(int_ref's sum)."""

    def __init__(self, rng, label, kind, lim: Limits = DEFAULT_LIMITS):
        events = bool(kind & 1)
        mode = DELAY_MODES[(kind >> 1) & 3]
        wide = bool((kind >> 3) & 1)
        lanes = kind == LANES16
        qmax = 32767 if wide else 127
        n_in = min(int(rng.choice([1, 2, 3, rng.integers(1, 40), rng.integers(1, 120)])), lim.max_in)
        n_out = min(int(rng.choice([1, 7, 8, 9, 16, 35, rng.integers(1, 70), rng.integers(1, 200)])), lim.max_n)
        regime = "contract"
        if lanes and lim.driver_events >= 300:
            regime = str(rng.choice(["contract", "bound", "wrap"], p=[0.8, 0.13, 0.07]))
        if regime == "bound":
            n_in, n_out = 515 + int(rng.integers(0, 3)), int(rng.choice([int(rng.integers(1, 8)), 8, 35,
                                                                          int(rng.integers(9, 41))]))
        elif regime == "wrap":
            n_in = int(rng.integers(1, 9))
        depth = {"none": int(rng.integers(1, 4)), "axonal": int(rng.integers(1, 21)),
                 "synaptic": int(rng.integers(1, 17))}[mode]
        head = int(rng.integers(depth))
        steps = int(rng.integers(1, 5))

        style = rng.integers(4)
        if regime == "bound":
            weights = _bound_columns(rng, n_in, n_out)
        elif regime == "wrap":
            weights = rng.choice([-qmax - 1, -qmax, qmax], size=(n_in, n_out))
        elif style == 0:
            weights = rng.integers(-qmax - 1, qmax, size=(n_in, n_out), endpoint=True)
        elif style == 1:
            weights = rng.choice([-qmax - 1, -qmax, qmax, 0], size=(n_in, n_out))
        else:
            weights = rng.integers(-qmax, qmax, size=(n_in, n_out), endpoint=True)
            weights[rng.random(n_in) < 0.2, :] = 0          # silent presynaptic columns
            weights[:, rng.random(n_out) < 0.2] = 0         # zero-weight rows (postsynaptic)

        delays = None
        delay_words = np.zeros(0, np.uint32)
        poisoned = np.zeros(n_in, bool)                     # inputs whose axonal delay is >= depth
        if mode == "axonal":
            axonal = rng.integers(depth, size=n_in)
            stored = axonal.copy()
            if rng.random() < 0.2:
                bad = int(rng.integers(n_in))
                poisoned[bad] = True
                stored[bad] = rng.integers(depth, 256)
            delays = np.repeat(axonal[:, None], n_out, axis=1)
            delay_words = packed(stored, np.uint8)
        elif mode == "synaptic":
            delays = rng.integers(depth, size=(n_in, n_out))
            if rng.random() < 0.2:
                delays[:] = depth - 1                       # the longest delay everywhere
            padded = np.zeros((n_in, n_out + (n_out & 1)), np.int64)
            padded[:, :n_out] = delays
            if n_out & 1:
                padded[:, n_out] = rng.integers(16, size=n_in)   # the unused nibble: any value
            delay_words = packed(padded[:, 0::2] | (padded[:, 1::2] << 4), np.uint8)
        initial = (rng.integers(-1000, 1000, size=(depth, n_out)) if rng.random() < 0.5
                   else np.zeros((depth, n_out), np.int64))

        synapses = QuantSynapses(weight_bits=16 if wide else 8, weights=weights, mult=np.zeros(n_out),
                                 bias=np.zeros(n_out), delays=delays, max_input_count=255)
        ring = int_ref.DelayRing(depth, n_out)
        ring.slots[:] = initial
        step_words = []
        self.expected = []
        self.n_out, self.depth, self.lanes = n_out, depth, lanes
        if lanes and regime != "wrap":
            assert subset_sum_bound(weights) <= LANES16_LIMIT
        for t in range(steps):
            n_items = min(int(rng.choice([0, 1, 2, 3, rng.integers(0, 12), rng.integers(0, 40)])), lim.max_events)
            index = rng.integers(n_in, size=n_items)
            if regime == "wrap":                           # repeats: sums far outside int16
                index = rng.integers(n_in, size=int(rng.integers(3, lim.driver_events + 1)))
            elif regime == "bound" and t < 2:              # every input of one sign of a column: its bound
                column = weights[:, int(rng.integers(n_out))]
                index = rng.permutation(np.flatnonzero(column > 0 if t == 0 else column < 0))
            elif lanes:                                    # distinct, ascending or in any order, up to all
                n_items = int(rng.choice([n_items, n_in, int(rng.integers(0, n_in + 1))]))
                n_items = min(n_items, n_in, lim.driver_events)
                index = rng.permutation(n_in)[:n_items]
                if rng.random() < 0.5:
                    index = np.sort(index)
            n_items = index.size
            if events:
                counts = rng.choice([1, 1, 1, 2, 3, 255, 0, int(rng.integers(256))], size=n_items)
            else:
                counts = np.ones(n_items, np.int64)
            if n_items and rng.random() < 0.04:
                index[rng.integers(n_items)] = n_in + int(rng.integers(3))   # out of range
            invalid = bool((index >= n_in).any()) or bool(poisoned[index[index < n_in]].any())
            step = head + t                                 # int_ref's slot is step % depth
            if not invalid:
                before = ring.slots.copy()
                ring.accumulate(step, zip(index.tolist(), counts.tolist()), synapses)
                if lanes:
                    delta = ring.slots - before
                    if regime != "wrap":                    # the proof: the exact sums fit int16
                        assert np.array_equal(wrap16(delta), delta)
                    ring.slots = before + wrap16(delta)
            self.expected.append((ERR_INDEX if invalid else OK, wrap32(ring.take(step))))
            step_words.append(words([n_items]))
            step_words.append(words(index | (counts << 16)) if events else packed(index, np.uint16))
        self.final_head = (head + steps) % depth
        self.final_slots = wrap32(ring.slots)
        weight_words = packed(weights, np.int16 if wide else np.int8)
        payload = np.concatenate([words([kind, n_in, n_out, depth, head, steps]), weight_words, delay_words,
                                  words(initial)] + step_words)
        if payload.size * 4 > lim.record_bytes:
            raise TooBig
        super().__init__(OP_ACCUMULATE, label, payload)

    def check(self, reader):
        errors = []
        for t, (status, taken) in enumerate(self.expected):
            compare(errors, f"step {t} accumulate status", [reader.i32()], [status])
            if self.lanes:
                compare(errors, f"step {t} lane scratch written within SLF_LANES16_SCRATCH_WORDS",
                        [reader.word()], [1])
            compare(errors, f"step {t} take status", [reader.i32()], [OK])
            compare(errors, f"step {t} taken", reader.i32s(self.n_out), taken)
        compare(errors, "head", [reader.word()], [self.final_head])
        compare(errors, "slots", reader.i32s(self.depth * self.n_out), self.final_slots.ravel())
        compare(errors, "slf_delay_ring_init_s32 zeroes and rewinds", [reader.word()], [1])
        return errors


# ---------------------------------------------------------------- neuron layers

def _layer_size(rng, lim):
    return min(int(rng.choice([1, 2, 5, 8, 9, rng.integers(1, 40), rng.integers(1, 130)])), lim.max_n)


def _threshold(rng, frac_bits_low=8):
    return int(rng.choice([1 << int(rng.integers(frac_bits_low, 29)), 1 << int(rng.integers(frac_bits_low, 29)),
                           0, I32_MAX, -1, int(rng.integers(I32_MIN, I32_MAX))]))


def silif_records(mult, bias, layer):
    """slf_silif_neuron fields in declaration order, one row per neuron."""
    return np.stack([words(v) for v in (mult, bias, layer.k_beta, layer.k_a, layer.jump, layer.k_alpha)], axis=1)


def csilif_records(mult, bias, layer):
    return np.stack([words(v) for v in (mult, bias, layer.k_re, layer.k_im)], axis=1)


def readout_records(mult, bias, layer):
    return np.stack([words(v) for v in (mult, bias, layer.k_alpha)], axis=1)


class SiLIFCase(Case):
    """Several steps of slf_silif_update_q31 against int_ref.input_current + silif_update."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = _layer_size(rng, lim)
        steps = int(rng.integers(1, 5))
        threshold = _threshold(rng)
        mult, bias = input_scale(rng, n)
        layer = SimpleNamespace(threshold=threshold, k_alpha=q31(rng, n, "pos"), k_beta=q31(rng, n, "pos"),
                                k_a=q31(rng, n, "pos" if rng.random() < 0.5 else "any"),
                                jump=state_values(rng, n, None if rng.random() < 0.3 else 29))
        scale_bits = None if rng.random() < 0.4 else int(rng.integers(10, 31))
        u = state_values(rng, n, scale_bits)
        w = state_values(rng, n, scale_bits)
        s = (u > threshold).astype(np.int64)          # the state invariant: s is the previous spike
        synapses = SimpleNamespace(mult=mult, bias=bias)
        payload = [words([n, threshold, steps]), silif_records(mult, bias, layer).ravel(), words(u), words(w),
                   words(s)]
        self.n = n
        self.expected = []
        for _ in range(steps):
            acc = accumulators(rng, n, mult, bias)
            payload.append(words(acc))
            current = int_ref.input_current(acc, synapses)
            u, w, s = int_ref.silif_update(u, w, s, current, layer)
            self.expected.append((u, w, s))
        super().__init__(OP_SILIF, "slf_silif_update_q31", np.concatenate(payload))

    def check(self, reader):
        errors = []
        for t, states in enumerate(self.expected):
            compare(errors, f"step {t} status", [reader.i32()], [OK])
            for name, want in zip(("u", "w"), states[:2]):
                compare(errors, f"step {t} {name}", reader.i32s(self.n), want)
            _check_spikes(errors, reader, t, states[2], self.n)
        return errors


def _check_spikes(errors, reader, t, s, n):
    compare(errors, f"step {t} spiked", reader.i32s(n), s)
    count = reader.word()
    compare(errors, f"step {t} spike list", reader.i32s(count), np.flatnonzero(s))
    compare(errors, f"step {t} input slot cleared", [reader.word()], [1])


class CSiLIFCase(Case):
    """Several steps of slf_csilif_update_q31 against int_ref.input_current + csilif_update."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = _layer_size(rng, lim)
        steps = int(rng.integers(1, 5))
        threshold = _threshold(rng, 7)
        mult, bias = input_scale(rng, n)
        k_re = q31(rng, n, "any")
        k_im = q31(rng, n, "any")                      # negative k_im included
        rotation = rng.random(n) < 0.4                 # |decay| close to 1: a rotation
        angle = rng.uniform(-np.pi, np.pi, size=int(rotation.sum()))
        k_re[rotation] = np.round(np.cos(angle) * Q31_MAX).astype(np.int64)
        k_im[rotation] = np.round(np.sin(angle) * Q31_MAX).astype(np.int64)
        scale_bits = None if rng.random() < 0.4 else int(rng.integers(10, 31))
        zr = state_values(rng, n, scale_bits)
        zi = state_values(rng, n, scale_bits)
        s = (zr > threshold).astype(np.int64)
        synapses = SimpleNamespace(mult=mult, bias=bias)
        layer = SimpleNamespace(threshold=threshold, k_re=k_re, k_im=k_im)
        payload = [words([n, threshold, steps]), csilif_records(mult, bias, layer).ravel(), words(zr), words(zi),
                   words(s)]
        self.n = n
        self.expected = []
        for _ in range(steps):
            acc = accumulators(rng, n, mult, bias)
            payload.append(words(acc))
            current = int_ref.input_current(acc, synapses)
            zr, zi, s = int_ref.csilif_update(zr, zi, s, current, layer)
            self.expected.append((zr, zi, s))
        super().__init__(OP_CSILIF, "slf_csilif_update_q31", np.concatenate(payload))

    def check(self, reader):
        errors = []
        for t, states in enumerate(self.expected):
            compare(errors, f"step {t} status", [reader.i32()], [OK])
            for name, want in zip(("zr", "zi"), states[:2]):
                compare(errors, f"step {t} {name}", reader.i32s(self.n), want)
            _check_spikes(errors, reader, t, states[2], self.n)
        return errors


class ReadoutCase(Case):
    """Several steps of slf_readout_update_q31 against int_ref.readout_update."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = min(int(rng.choice([1, 2, 35, rng.integers(1, 128)])), lim.max_n)
        steps = int(rng.integers(1, 5))
        mult, bias = input_scale(rng, n)
        layer = SimpleNamespace(k_alpha=q31(rng, n, "pos" if rng.random() < 0.5 else "any"))
        u = state_values(rng, n, None if rng.random() < 0.4 else int(rng.integers(10, 31)))
        synapses = SimpleNamespace(mult=mult, bias=bias)
        payload = [words([n, steps, 1549082005, 40]), readout_records(mult, bias, layer).ravel(), words(u)]
        self.n = n
        self.expected = []
        for _ in range(steps):
            acc = accumulators(rng, n, mult, bias)
            payload.append(words(acc))
            u = int_ref.readout_update(u, int_ref.input_current(acc, synapses), layer)
            self.expected.append(u)
        super().__init__(OP_READOUT, "slf_readout_update_q31", np.concatenate(payload))

    def check(self, reader):
        errors = []
        for t, u in enumerate(self.expected):
            compare(errors, f"step {t} status", [reader.i32()], [OK])
            compare(errors, f"step {t} u", reader.i32s(self.n), u)
        return errors


# ---------------------------------------------------------------- decision

EXP_MULT = 1549082005            # what quantize._quantize_readout always produces (log2 e, normalised)


def reference_softmax_defined(u, exp_mult, exp_shift) -> bool:
    """fixedpoint.softmax_q16 forms d * exp_mult + 2^(exp_shift-1) in int64, which wraps for
    d close to 2^32 with exp_mult close to 2^31 and exp_shift >= 34 (never with EXP_MULT).
    The C computes it in uint64; compare only where the reference is defined."""
    spread = int(np.max(u)) - int(np.min(u))
    return spread * exp_mult + (1 << (exp_shift - 1)) < (1 << 63)


class DecisionCase(Case):
    """Steps of slf_softmax_q16 + slf_accumulate_decision_q16, then slf_decide_s32."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n = min(int(rng.choice([1, 2, 3, 35, 127, rng.integers(1, 128)])), lim.max_n)
        steps = int(rng.integers(1, 4))
        exp_mult = int(rng.choice([EXP_MULT, EXP_MULT, 0, Q31_MAX, 1 << 30, int(rng.integers(0, Q31_MAX))]))
        exp_shift = int(rng.choice([40, int(rng.integers(22, 43)), 1, 31, 32, 62, int(rng.integers(1, 63))]))
        kind = rng.integers(4)
        if kind == 0:
            total = np.zeros(n, np.int64)
        elif kind == 1:
            total = rng.integers(0, I32_MAX, size=n, endpoint=True)
        else:
            total = I32_MAX - rng.integers(0, 70000, size=n)   # saturates within a few steps
        layer = SimpleNamespace(exp_mult=exp_mult, exp_shift=exp_shift)
        payload = [words([n, exp_mult, exp_shift, steps]), words(total)]
        self.n = n
        self.expected = []
        for _ in range(steps):
            style = rng.integers(5)
            if style == 0:
                u = rng.integers(-(1 << 28), 1 << 28, size=n)
            elif style == 1:
                u = rng.integers(-5000, 5000, size=n)
            elif style == 2:
                u = np.full(n, int(rng.integers(I32_MIN, I32_MAX)), np.int64)   # all tied
                u[rng.random(n) < 0.3] -= rng.integers(0, 1 << 20)
                u = np.clip(u, I32_MIN, I32_MAX)
            elif style == 3:
                u = pick(rng, n, [I32_MIN, I32_MAX, 0], 0.3)
            else:
                u = rng.integers(-(1 << 24), 1 << 24, size=n) + rng.integers(-3, 4, size=n)
            while not reference_softmax_defined(u, exp_mult, exp_shift):
                u = u >> 1
            payload.append(words(u))
            p = fx.softmax_q16(u, exp_mult, exp_shift)
            total = int_ref.accumulate_decision(total, u, layer)
            self.expected.append((p, total))
        self.decision = int(int_ref.decide(total))
        super().__init__(OP_DECISION, "slf_accumulate_decision_q16", np.concatenate(payload))

    def check(self, reader):
        errors = []
        for t, (p, total) in enumerate(self.expected):
            compare(errors, f"step {t} softmax status", [reader.i32()], [OK])
            compare(errors, f"step {t} p", reader.i32s(self.n), p)
            compare(errors, f"step {t} accumulate status", [reader.i32()], [OK])
            compare(errors, f"step {t} total", reader.i32s(self.n), total)
        compare(errors, "decide status", [reader.i32()], [OK])
        compare(errors, "decision", [reader.word()], [self.decision])
        return errors


# ---------------------------------------------------------------- long runs

class LongRunCase(Case):
    """`steps` steps of one layer with hash-generated accumulators, looped inside the driver.

    The driver reports the state every `segment` steps and a spike count and checksum per
    segment. The reference then replays all segments at once (vectorised over segments),
    each from the driver's own snapshot at its start: equal end states for every segment
    and a zero first snapshot prove, by induction, that every one of the `steps`
    transitions equals int_ref's."""

    MODELS = ("silif", "csilif", "readout")

    def __init__(self, rng, model, steps, segment, n=8, acc_shift=0):
        assert steps % segment == 0
        seed = int(rng.integers(1 << 32))
        self.model, self.n, self.steps, self.segment = model, n, steps, segment
        self.seed, self.acc_shift = seed, acc_shift
        # Half the layer gets the raw accumulators (states saturate), half small currents; every
        # current fits int32 for any accumulator (acc >> acc_shift, |acc| <= 2^31), as the contract asks.
        mult = np.where(np.arange(n) < n // 2, 1, 0).astype(np.int64)
        bias = np.where(mult == 1, 0, rng.integers(-(1 << 20), 1 << 20, size=n)).astype(np.int64)
        self.synapses = SimpleNamespace(mult=mult, bias=bias)
        if model == "silif":
            threshold = 1 << int(rng.integers(16, 27))
            k_alpha = q31(rng, n, "pos")
            self.layer = SimpleNamespace(threshold=threshold, k_alpha=k_alpha, k_beta=q31(rng, n, "pos"),
                                         k_a=q31(rng, n, "pos"), jump=rng.integers(0, 1 << 28, size=n))
            records = silif_records(mult, bias, self.layer).ravel()
            head = [0, n, steps, segment, seed, acc_shift, threshold]
        elif model == "csilif":
            threshold = 1 << int(rng.integers(16, 27))
            angle = rng.uniform(-np.pi, np.pi, size=n)
            radius = 1.0 - rng.choice([0.0, 1e-9, 1e-4, 0.1], size=n)
            k_re = np.round(radius * np.cos(angle) * Q31_MAX).astype(np.int64)
            k_im = np.round(radius * np.sin(angle) * Q31_MAX).astype(np.int64)
            self.layer = SimpleNamespace(threshold=threshold, k_re=k_re, k_im=k_im)
            records = csilif_records(mult, bias, self.layer).ravel()
            head = [1, n, steps, segment, seed, acc_shift, threshold]
        else:
            k_alpha = q31(rng, n, "pos")
            self.layer = SimpleNamespace(k_alpha=k_alpha, exp_mult=EXP_MULT, exp_shift=int(rng.integers(30, 43)))
            records = np.concatenate([words([EXP_MULT, self.layer.exp_shift]),
                                      readout_records(mult, bias, self.layer).ravel()])
            head = [2, n, steps, segment, seed, acc_shift, 0]
        super().__init__(OP_LONGRUN, f"long run {model}", np.concatenate([words(head), records]))

    def inputs(self, t):
        """The driver's synthetic accumulators for steps t [K] -> [K, n]."""
        i = np.arange(self.n, dtype=np.uint64)
        x = (np.uint64(self.seed) ^ ((t[:, None].astype(np.uint64) * np.uint64(self.n) + i) & np.uint64(0xFFFFFFFF)))
        return hash32(x.astype(np.uint32)).view(np.int32).astype(np.int64) >> self.acc_shift

    def check(self, reader):
        errors = []
        n, segments = self.n, self.steps // self.segment
        snaps, sums = [], []
        for k in range(segments + 1):
            if k:
                sums.append((reader.word(), reader.word()))
            if self.model == "readout":
                snaps.append((reader.i32s(n), reader.i32s(n)))
            else:
                cells = reader.i32s(2 * n).reshape(n, 2)
                snaps.append((cells[:, 0], cells[:, 1], reader.i32s(n)))
        compare(errors, "final status", [reader.i32()], [OK])
        compare(errors, "initial state", np.concatenate(snaps[0]), np.zeros(len(snaps[0]) * n))
        state = [np.stack([s[j] for s in snaps[:-1]]) for j in range(len(snaps[0]))]
        count = np.zeros(segments, np.int64)
        checksum = np.zeros(segments, np.uint64)
        index = np.arange(n, dtype=np.uint64)
        for local in range(self.segment):
            t = np.arange(segments, dtype=np.int64) * self.segment + local
            current = int_ref.input_current(self.inputs(t), self.synapses)
            if self.model == "silif":
                state = list(int_ref.silif_update(*state, current, self.layer))
            elif self.model == "csilif":
                state = list(int_ref.csilif_update(*state, current, self.layer))
            else:
                u = int_ref.readout_update(state[0], current, self.layer)
                state = [u, int_ref.accumulate_decision(state[1], u, self.layer)]
            if self.model != "readout":
                fired = state[2].astype(bool)
                count += fired.sum(axis=1)
                label = t.astype(np.uint64)[:, None] * np.uint64(n) + index + np.uint64(1)
                checksum += np.where(fired, label, np.uint64(0)).sum(axis=1, dtype=np.uint64)
        for j in range(len(state)):
            compare(errors, f"segment end states[{j}]", state[j], np.stack([s[j] for s in snaps[1:]]))
        if self.model != "readout":
            got = np.array(sums, dtype=np.int64).reshape(segments, 2)
            compare(errors, "spike counts", got[:, 0], count)
            compare(errors, "spike checksums", got[:, 1], (checksum & np.uint64(0xFFFFFFFF)).astype(np.int64))
        self.summary = {"spikes": int(count.sum()),
                        "saturated": int(sum((np.abs(np.asarray(s[0])) >= I32_MAX).sum() for s in snaps)),
                        "totals_saturated": int((snaps[-1][1] == I32_MAX).sum()) if self.model == "readout" else 0}
        return errors


# ---------------------------------------------------------------- validation functions and errors

class LayerCheckCase(Case):
    """slf_*_layer_check on valid records and on records with one field out of contract."""

    def __init__(self, rng, kind, lim: Limits = DEFAULT_LIMITS):
        n = min(int(rng.choice([1, 2, 8, rng.integers(1, 60)])), lim.max_n)
        mult, bias = input_scale(rng, n)
        count = (3, 2, 1)[kind]                        # Q31 constants per record
        q = [q31(rng, n, "pos") for _ in range(count)]
        exp_mult, exp_shift = EXP_MULT, 40
        expected = OK
        if rng.random() < 0.6:
            expected = ERR_PARAM
            i = int(rng.integers(n))
            what = rng.integers(4 if kind == 2 else 2 if kind == 1 else 3)
            if what == 0:
                mult[i] = -int(rng.integers(1, 1 << 31))
            elif what == 1:
                q[int(rng.integers(count))][i] = int(rng.choice([I32_MIN, I32_MAX, -I32_MAX, Q31_MAX + 1]))
            elif what == 2 and kind == 0:                # SiLIF decays (k_alpha, k_beta) must be >= 0
                q[int(rng.choice([0, 1]))][i] = -int(rng.integers(1, Q31_MAX + 1))
            elif what == 2:
                exp_mult = -int(rng.integers(1, 1 << 31))
            else:
                exp_shift = int(rng.choice([0, 63]))
        if kind == 0:
            k_alpha, k_beta, k_a, jump = q[0], q[1], q[2], state_values(rng, n)   # jump: any int32
            layer = SimpleNamespace(k_alpha=k_alpha, k_beta=k_beta, k_a=k_a, jump=jump)
            payload = [words([0, n]), silif_records(mult, bias, layer).ravel()]
        elif kind == 1:
            payload = [words([1, n]), csilif_records(mult, bias, SimpleNamespace(k_re=q[0], k_im=-q[1])).ravel()]
        else:
            payload = [words([2, n, exp_mult, exp_shift]),
                       readout_records(mult, bias, SimpleNamespace(k_alpha=q[0])).ravel()]
        self.expected = expected
        label = ("slf_silif_layer_check", "slf_csilif_layer_check", "slf_readout_layer_check")[kind]
        super().__init__(OP_LAYER_CHECK, label, np.concatenate(payload))

    def check(self, reader):
        errors = []
        compare(errors, "status", [reader.i32()], [self.expected])
        return errors


class Lanes16CheckCase(Case):
    """slf_lanes16_weights_check_s8 against the compiler's quantize.subset_sum_bound."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n_out = int(rng.choice([0, 1, 3, 8, int(rng.integers(1, 13))]))
        n_in = int(rng.choice([0, 1, int(rng.integers(1, 60)), int(rng.integers(250, 700))]))
        weights = rng.integers(-128, 128, size=(n_in, n_out))
        if n_out and rng.random() < 0.7:                   # one column's sums at the bound, or one over
            positive, negative = (int(v) for v in rng.choice([LANES16_LIMIT - 1, LANES16_LIMIT, LANES16_LIMIT + 1,
                                                               1000], size=2))
            column = np.array([127] * (positive // 127) + [positive % 127]
                              + [-128] * (negative // 128) + [-(negative % 128)], np.int64)
            if column.size > n_in:
                weights = np.concatenate([weights, np.zeros((column.size - n_in, n_out), np.int64)])
                n_in = column.size
            weights[:, int(rng.integers(n_out))] = rng.permutation(np.pad(column, (0, n_in - column.size)))
        self.expected = OK if subset_sum_bound(weights) <= LANES16_LIMIT else ERR_PARAM
        payload = np.concatenate([words([n_in, n_out]), packed(weights, np.int8)])
        if payload.size * 4 > lim.record_bytes:
            raise TooBig
        super().__init__(OP_LANES16_CHECK, "slf_lanes16_weights_check_s8", payload)

    def check(self, reader):
        errors = []
        compare(errors, "status", [reader.i32()], [self.expected])
        return errors


class DelayCheckCase(Case):
    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n_in, n_out = min(int(rng.integers(1, 30)), lim.max_in), min(int(rng.integers(1, 40)), lim.max_n)
        depth = int(rng.integers(1, 17))
        limit = depth if rng.random() < 0.5 else 16
        delays = rng.integers(limit, size=(n_in, n_out + (n_out & 1)))
        if n_out & 1:
            delays[:, -1] = 15                          # the unused nibble is not checked
        self.expected = OK if delays[:, :n_out].max() < depth else ERR_INDEX
        super().__init__(OP_DELAY_CHECK, "slf_synaptic_delays_check",
                         np.concatenate([words([n_in, n_out, depth]),
                                         packed(delays[:, 0::2] | (delays[:, 1::2] << 4), np.uint8)]))

    def check(self, reader):
        errors = []
        compare(errors, "status", [reader.i32()], [self.expected])
        return errors


ERROR_BATTERY = [ERR_INDEX, ERR_INDEX, ERR_INDEX, ERR_INDEX, ERR_INDEX, ERR_SHAPE, ERR_SHAPE, ERR_SHAPE, ERR_NULL,
                 ERR_NULL, ERR_SHAPE, ERR_SHAPE,
                 ERR_INDEX, ERR_NULL, ERR_NULL, ERR_CAPACITY, ERR_SHAPE, ERR_NULL, OK,   # 16-bit lanes, its check
                 1, ERR_CAPACITY, ERR_SHAPE, ERR_NULL, ERR_SHAPE, ERR_SHAPE, OK, 1,
                 ERR_SHAPE, ERR_SHAPE, ERR_SHAPE, ERR_NULL, ERR_PARAM]


class ErrorsCase(Case):
    def __init__(self):
        super().__init__(OP_ERRORS, "invalid arguments", np.zeros(0, np.uint32))

    def check(self, reader):
        errors = []
        compare(errors, "statuses", reader.i32s(len(ERROR_BATTERY)), ERROR_BATTERY)
        return errors


# ---------------------------------------------------------------- case sets, files, results

def kernel_cases(seed: int, per_kernel: int, lim: Limits = DEFAULT_LIMITS) -> list[Case]:
    """`per_kernel` randomized cases for every kernel and validation function, within `lim`."""
    rng = np.random.default_rng(seed)

    def draw(make):
        while True:
            try:
                return make()
            except TooBig:
                continue

    cases: list[Case] = []
    for label, kind in ACCUMULATE_KERNELS.items():
        cases += [draw(lambda: AccumulateCase(rng, label, kind, lim)) for _ in range(per_kernel)]
    for make in (SiLIFCase, CSiLIFCase, ReadoutCase, DecisionCase, DelayCheckCase):
        cases += [make(rng, lim) for _ in range(per_kernel)]
    cases += [draw(lambda: Lanes16CheckCase(rng, lim)) for _ in range(per_kernel)]
    for kind in range(3):
        cases += [LayerCheckCase(rng, kind, lim) for _ in range(per_kernel)]
    cases.append(ErrorsCase())
    return cases


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


STANDARD_SEED = 20240611
STANDARD_PER_KERNEL = 1000


@functools.lru_cache(maxsize=None)
def standard_cases() -> list[Case]:
    """The suite every build runs (host, sanitizers, firmware): 1000 cases per kernel, ~4 s to draw."""
    return kernel_cases(STANDARD_SEED, STANDARD_PER_KERNEL)


@functools.lru_cache(maxsize=None)
def small_cases(per_kernel: int) -> list[Case]:
    """Cases that fit the small driver (build.SMALL_DRIVER) of 16-32 KB boards."""
    return kernel_cases(STANDARD_SEED + 1, per_kernel, SMALL_LIMITS)


# What each label covers: the decision cases run slf_softmax_q16, slf_accumulate_decision_q16 and
# slf_decide_s32; every accumulation case also runs slf_delay_ring_take_s32 after each step and
# slf_delay_ring_init_s32 at its end.
KERNELS = (*ACCUMULATE_KERNELS, "slf_silif_update_q31", "slf_csilif_update_q31", "slf_readout_update_q31",
           "slf_accumulate_decision_q16", "slf_synaptic_delays_check", "slf_lanes16_weights_check_s8",
           "slf_silif_layer_check",
           "slf_csilif_layer_check", "slf_readout_layer_check")

"""Cases of the synaptic kernels (include/slf_synapses.h): event-driven accumulation with and
without delays, the 16-bit lane kernel, the delay ring, and their one-time checks, against
int_ref.DelayRing and the quantizer's bounds. C side: driver_synapses.c."""
from __future__ import annotations

import numpy as np

from silifc.ir import QuantSynapses
from silifc.passes.quantize import LANES16_LIMIT, subset_sum_bound
from silifc.reference import int_ref

from .common import (DEFAULT_LIMITS, ERR_CAPACITY, ERR_INDEX, ERR_NULL, ERR_PARAM, ERR_SHAPE, OK, OP_ACCUMULATE,
                     OP_DELAY_CHECK, OP_DELAY_U8_CHECK, OP_LANES16_CHECK, OP_SYNAPSE_ERRORS, BatteryCase, Case,
                     Limits, TooBig, compare, draw, packed, words, wrap16, wrap32)

# Accumulation kernel variants: (events?, delay mode, int16?) -> bits of `kind` in driver_synapses.c
DELAY_MODES = ("none", "axonal", "synaptic", "synaptic_u8")
_SUFFIX = {"none": "", "axonal": "_axonal", "synaptic": "_delayed", "synaptic_u8": "_delayed_u8"}
ACCUMULATE_KERNELS = {
    f"slf_accumulate_{'events' if ev else 'spikes'}_s{16 if wide else 8}{_SUFFIX[mode]}":
        (ev | (DELAY_MODES.index(mode) << 1) | (wide << 3))
    for wide in (0, 1) for mode in DELAY_MODES for ev in (0, 1)
}
# ring depths for byte delays: around every power of two the kernels' delay mask changes at
U8_DEPTH_EDGES = (1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 64, 65, 128, 129, 255, 256)
LANES16 = 0x10                  # slf_accumulate_spikes_s8_lanes16: spikes, int8, no delays, 16-bit lanes
LANES16_EVENTS = 0x11           # slf_accumulate_events_s8_lanes16: events, int8, no delays, exact for any weights
ACCUMULATE_KERNELS["slf_accumulate_spikes_s8_lanes16"] = LANES16
ACCUMULATE_KERNELS["slf_accumulate_events_s8_lanes16"] = LANES16_EVENTS


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
        lanes = kind == LANES16                            # sums modulo 2^16 (its contract bounds them)
        event_lanes = kind == LANES16_EVENTS               # exact: chunks of <= 255 column additions
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
                 "synaptic": int(rng.integers(1, 17)),
                 "synaptic_u8": int(rng.choice([int(rng.integers(1, 17)), int(rng.integers(17, 257)),
                                                int(rng.choice(U8_DEPTH_EDGES))]))}[mode]
        if mode == "synaptic_u8":                          # room for the ring in the driver's record
            n_out = max(1, min(n_out, lim.record_bytes // 8 // depth))
        head = int(rng.integers(depth))
        steps = int(rng.integers(1, 5))

        style = rng.integers(4)
        if regime == "bound":
            weights = _bound_columns(rng, n_in, n_out)
        elif regime == "wrap":
            weights = rng.choice([-qmax - 1, -qmax, qmax], size=(n_in, n_out))
        elif event_lanes and style == 3 and rng.random() < 0.5:   # extreme weights: the chunk bound is tight
            weights = rng.choice([-qmax - 1, qmax], size=(n_in, n_out))
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
        elif mode == "synaptic_u8":
            delays = rng.integers(depth, size=(n_in, n_out))
            if rng.random() < 0.2:
                delays[:] = depth - 1                       # the longest delay everywhere
            stored = delays.copy()
            if depth < 256 and rng.random() < 0.15:
                # Bytes >= depth (not checked per synapse) have a defined slot inside the ring:
                # (head + (d & mask)) mod depth, mask = P - 1, P the power of two >= depth.
                mask = (1 << (depth - 1).bit_length()) - 1
                bad = rng.random((n_in, n_out)) < 0.3
                stored[bad] = rng.integers(depth, 256, size=int(bad.sum()))
                delays = np.where(bad, stored & mask, delays)
            delay_words = packed(stored, np.uint8)
        initial = (rng.integers(-1000, 1000, size=(depth, n_out)) if rng.random() < 0.5
                   else np.zeros((depth, n_out), np.int64))

        synapses = QuantSynapses(weight_bits=16 if wide else 8, weights=weights, mult=np.zeros(n_out),
                                 bias=np.zeros(n_out), delays=delays, max_input_count=255)
        ring = int_ref.DelayRing(depth, n_out)
        ring.slots[:] = initial
        step_words = []
        self.expected = []
        self.n_out, self.depth, self.lanes = n_out, depth, lanes or event_lanes
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
            if event_lanes and rng.random() < 0.3:        # totals around the batch (24) and chunk (240) sizes
                n_items = min(int(rng.integers(1, 12)), lim.max_events)
                one_input = rng.random() < 0.5
                index = np.full(n_items, int(rng.integers(n_in))) if one_input else rng.integers(n_in, size=n_items)
                counts = rng.choice([1, 2, 23, 24, 25, 119, 120, 121, 239, 240, 241, 255], size=n_items)
            elif events:
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


class DelayU8CheckCase(Case):
    """slf_synaptic_delays_u8_check: every byte < depth (depth up to 256)."""

    def __init__(self, rng, lim: Limits = DEFAULT_LIMITS):
        n_in, n_out = min(int(rng.integers(1, 30)), lim.max_in), min(int(rng.integers(1, 40)), lim.max_n)
        depth = int(rng.choice([int(rng.integers(1, 257)), int(rng.choice(U8_DEPTH_EDGES))]))
        delays = rng.integers(depth, size=(n_in, n_out))
        if rng.random() < 0.5:                              # one byte out of range
            delays[int(rng.integers(n_in)), int(rng.integers(n_out))] = int(rng.integers(depth, 257))
        delays = np.minimum(delays, 255)
        self.expected = OK if delays.max() < depth else ERR_INDEX
        super().__init__(OP_DELAY_U8_CHECK, "slf_synaptic_delays_u8_check",
                         np.concatenate([words([n_in, n_out, depth]), packed(delays, np.uint8)]))

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


# The statuses run_errors in driver_synapses.c reports (1 = the guard words around every buffer held).
ERROR_BATTERY = [ERR_INDEX, ERR_INDEX, ERR_INDEX, ERR_INDEX, ERR_INDEX, ERR_SHAPE, ERR_SHAPE, ERR_SHAPE, ERR_NULL,
                 ERR_NULL, ERR_SHAPE, ERR_SHAPE,
                 ERR_INDEX, ERR_NULL, ERR_NULL, ERR_CAPACITY, ERR_SHAPE,                # 16-bit lanes (spikes)
                 ERR_INDEX, ERR_NULL, ERR_NULL, ERR_CAPACITY, ERR_SHAPE, ERR_NULL, OK,   # (events), the check
                 ERR_INDEX, ERR_NULL, ERR_SHAPE, ERR_NULL, ERR_SHAPE, OK,               # byte delays, check
                 1, ERR_SHAPE, ERR_SHAPE]                                               # guards; ring take, init


# Kernel and check functions every suite covers; each accumulation case also runs
# slf_delay_ring_take_s32 after each step and slf_delay_ring_init_s32 at its end.
KERNELS = (*ACCUMULATE_KERNELS, "slf_synaptic_delays_check", "slf_synaptic_delays_u8_check",
           "slf_lanes16_weights_check_s8")


def cases(rng, per_kernel: int, lim: Limits = DEFAULT_LIMITS) -> list[Case]:
    """`per_kernel` randomized cases for every kernel and check function, within `lim`."""
    out: list[Case] = []
    for label, kind in ACCUMULATE_KERNELS.items():
        out += [draw(lambda: AccumulateCase(rng, label, kind, lim)) for _ in range(per_kernel)]
    out += [DelayCheckCase(rng, lim) for _ in range(per_kernel)]
    out += [DelayU8CheckCase(rng, lim) for _ in range(per_kernel)]
    out += [draw(lambda: Lanes16CheckCase(rng, lim)) for _ in range(per_kernel)]
    out.append(BatteryCase(OP_SYNAPSE_ERRORS, "invalid arguments (synapses)", ERROR_BATTERY))
    return out

"""Cases of the decision kernels (include/slf_decision.h): integer softmax, decision accumulation
and argmax, against fixedpoint.softmax_q16 and int_ref. C side: driver_decision.c."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from silifc.reference import fixedpoint as fx
from silifc.reference import int_ref

from .common import (DEFAULT_LIMITS, ERR_NULL, ERR_SHAPE, EXP_MULT, I32_MAX, I32_MIN, OK, OP_DECISION,
                     OP_DECISION_ERRORS, Q31_MAX, BatteryCase, Case, Limits, compare, pick, words)


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


# The statuses run_errors in driver_decision.c reports.
ERROR_BATTERY = [ERR_SHAPE, ERR_SHAPE, ERR_SHAPE, ERR_NULL]

# A decision case runs slf_softmax_q16, slf_accumulate_decision_q16 and slf_decide_s32.
KERNELS = ("slf_accumulate_decision_q16",)


def cases(rng, per_kernel: int, lim: Limits = DEFAULT_LIMITS) -> list[Case]:
    return [DecisionCase(rng, lim) for _ in range(per_kernel)] + [
        BatteryCase(OP_DECISION_ERRORS, "invalid arguments (decision)", ERROR_BATTERY)]

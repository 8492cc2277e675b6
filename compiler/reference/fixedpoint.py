"""Integer primitives shared by the quantizer and the integer reference.

Each function is written as the C runtime computes it (int64 intermediates,
round-half-up by adding half an LSB before an arithmetic right shift, saturation to
int32 at the end of an equation). docs/fixed-point.md explains the formats.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import OUTPUT_FRAC_BITS  # noqa: F401  (re-exported: the readout's output format)

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
Q31_ONE = 1 << 31
ROUND32 = 1 << 31                 # rounding constant for >> 32
Q31_LIMIT = (1 << 31) - 2        # largest |Q31 constant|: keeps the runtime's rounded-product sums in int64

EXP_FRAC_BITS = 16                # argument of 2^-t in the softmax: Q16
EXP_TABLE_BITS = 6                # 2^-f for f in [0, 1) from 64 intervals + linear interpolation
EXP_VALUE_BITS = 24               # exp values are Q24 (1.0 = 2^24); <= 127 classes keep the sum < 2^31
EXP_MAX_SHIFT = 31                # 2^-t with t >= 31 is 0 in Q24 anyway; clamps the shift count
RECIPROCAL_BITS = 46              # r = 2^46 // sum(exp): Q22-ish reciprocal of a Q24 sum
MAX_CLASSES = 127


def sat32(x):
    """Saturate int64 values to int32 (what the C does once per equation)."""
    return np.clip(x, INT32_MIN, INT32_MAX).astype(np.int64)


def mul_r32(x, k):
    """round(x * k / 2^32), half up, for int32 x and k: what SMMULR computes.

    With a Q31 constant k this is half the Q31 product x*k/2^31; `dmac` doubles it back.
    """
    return (np.asarray(x, dtype=np.int64) * np.asarray(k, dtype=np.int64) + ROUND32) >> 32


def mul_w16(x, k):
    """(x * k) >> 16, floor, for int32 x and int16 k: what SMULWB/SMULWT (and SMLAWB's product)
    compute. With a Q15 constant k this is half the Q15 product x*k/2^15."""
    return (np.asarray(x, dtype=np.int64) * np.asarray(k, dtype=np.int64)) >> 16


def dmac(c, *pairs):
    """sat32(c + sat32(2 * sum(mul_r32(x, k)))): c plus the Q31 products x*k/2^31.

    Each product is rounded on its own (SMMULR, then SMMLAR/SMMLSR add the next one in
    the high word), the doubled sum saturates, then the addend c (QDADD). The state's
    least significant bit of a product is therefore always 0: one bit of precision is
    given up for 2 instructions per product instead of 5 (docs/fixed-point.md).
    """
    h = sum(mul_r32(x, k) for x, k in pairs)
    return sat32(np.asarray(c, dtype=np.int64) + sat32(2 * h))


def wrap32(x):
    """x modulo 2^32 as a signed int32 (the runtime's plain ADD/SUB/MLA/MLS)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def rescale(acc, mult, shift):
    """round(acc * mult / 2^shift) with int32 acc, mult in [0, 2^31), 1 <= shift <= 62."""
    acc = np.asarray(acc, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    return (acc * mult + (np.int64(1) << (shift - 1))) >> shift


Q15_ONE = 1 << 15
INT16_MIN = -(1 << 15)
INT16_MAX = (1 << 15) - 1


def to_q15(values) -> np.ndarray:
    """Float -> round(value * 2^15) (unclamped int64; callers clamp to their field's range)."""
    return np.round(np.asarray(values, dtype=np.float64) * Q15_ONE).astype(np.int64)


def to_q31(values) -> np.ndarray:
    """Float in [-1, 1] -> Q31 int, clamped to +-(2^31 - 2) (1.0: a time constant of 2^30 steps)."""
    scaled = np.round(np.asarray(values, dtype=np.float64) * Q31_ONE)
    return np.clip(scaled, -Q31_LIMIT, Q31_LIMIT).astype(np.int64)


def to_mult_shift(value: float) -> tuple[int, int]:
    """A positive real as mult * 2^-shift with mult in [2^30, 2^31) (31 significant bits).

    0 gives (0, 1). Raises ValueError when the shift would leave [1, 62].
    """
    if value == 0:
        return 0, 1
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"scale {value!r} must be positive and finite")
    mantissa, exponent = math.frexp(value)          # value = mantissa * 2^exponent, mantissa in [0.5, 1)
    shift = 31 - exponent
    mult = int(round(mantissa * Q31_ONE))
    if mult == Q31_ONE:                             # rounding carried into the next power of two
        mult //= 2
        shift -= 1
    if not 1 <= shift <= 62:
        raise ValueError(f"scale {value!r} needs shift {shift}, outside 1..62")
    return mult, shift


def exp2_table() -> np.ndarray:
    """2^-(i/64) in Q24 for i = 0..64 (65 entries; the last is exactly 2^23)."""
    steps = np.arange((1 << EXP_TABLE_BITS) + 1, dtype=np.float64)
    return np.round(np.exp2(-steps / (1 << EXP_TABLE_BITS)) * (1 << EXP_VALUE_BITS)).astype(np.int64)


EXP2_TABLE = exp2_table()
EXP2_TABLE.setflags(write=False)


def exp2_neg_q16(t):
    """2^-t in Q24 for t >= 0 in Q16: table over the fraction with linear interpolation,
    then a right shift by the integer part. Relative error < 2e-5 (interpolation of a
    convex curve: slightly above the true value)."""
    t = np.minimum(np.asarray(t, dtype=np.int64), EXP_MAX_SHIFT << EXP_FRAC_BITS)
    whole = t >> EXP_FRAC_BITS
    frac = t & ((1 << EXP_FRAC_BITS) - 1)
    interp_bits = EXP_FRAC_BITS - EXP_TABLE_BITS    # 10 bits between table entries
    index = frac >> interp_bits
    within = frac & ((1 << interp_bits) - 1)
    upper = EXP2_TABLE[index]
    lower = EXP2_TABLE[index + 1]
    value = upper - (((upper - lower) * within + (1 << (interp_bits - 1))) >> interp_bits)
    return value >> whole


def softmax_q16(u, exp_mult: int, exp_shift: int):
    """Integer softmax over the last axis of int32 states u -> Q16 probabilities.

    d = max(u) - u >= 0 (uint32 in C); t = d * log2(e) / 2^F_out in Q16 via (exp_mult, exp_shift);
    e = 2^-t in Q24; p = e * (2^46 // sum(e)) rounded >> 30.
    """
    u = np.asarray(u, dtype=np.int64)
    d = u.max(axis=-1, keepdims=True) - u
    t = rescale(d, exp_mult, exp_shift)
    e = exp2_neg_q16(t)
    total = e.sum(axis=-1, keepdims=True)           # >= 2^24: the largest state gives 2^0
    reciprocal = (np.int64(1) << RECIPROCAL_BITS) // total
    shift = RECIPROCAL_BITS + EXP_VALUE_BITS - (EXP_VALUE_BITS + OUTPUT_FRAC_BITS)  # 30
    return (e * reciprocal + (np.int64(1) << (shift - 1))) >> shift

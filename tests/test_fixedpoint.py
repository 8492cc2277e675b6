"""Integer primitives: formats, rounding, saturation and the exp/softmax approximation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from silifc.reference import fixedpoint as fx

pytestmark = pytest.mark.unit


def test_q31_keeps_decays_near_one():
    k = fx.to_q31([1.0, 1 - 2.0 ** -20, 0.0, -1.0, 1e-21])
    assert k.tolist() == [2**31 - 2, 2**31 - 2**11, 0, -(2**31 - 2), 0]


def test_sat32_bounds():
    assert fx.sat32(np.array([2**40, -(2**40), 5])).tolist() == [fx.INT32_MAX, fx.INT32_MIN, 5]


def test_mul_r32_rounds_half_up():
    # 3 * 0.25 = 0.75 -> 1 ; 2 * 0.25 = 0.5 -> 1 ; -2 * 0.25 = -0.5 -> 0 (floor(x + 0.5))
    quarter = 1 << 30                                # 0.5 in Q31 = 0.25 after the >> 32
    assert fx.mul_r32([3, 2, -2, -3], quarter).tolist() == [1, 1, 0, -1]


def test_dmac_doubles_rounded_products_then_adds_saturating():
    half = 1 << 30
    # 0.5 * 8 + 0.5 * 4 = 6, plus 10
    assert int(fx.dmac(10, (8, half), (4, half))) == 16
    # halves round up before the doubling: 0.5 * 6 = 3 is 2 * round(1.5) = 4 (error <= 1 LSB per product)
    assert int(fx.dmac(0, (6, half))) == 4
    # each product rounded on its own: r32(1, half) = 0 twice -> 0, not 1
    assert int(fx.dmac(0, (1, half), (1, half))) == 0
    # the doubled sum saturates before the addend, as QDADD does
    big = fx.Q31_LIMIT
    assert int(fx.dmac(-5, (fx.INT32_MAX, big), (fx.INT32_MAX, big))) == fx.INT32_MAX - 5
    assert int(fx.dmac(5, (fx.INT32_MIN, big), (fx.INT32_MIN, big))) == fx.INT32_MIN + 5


def test_wrap32_is_modulo_2_to_32():
    assert fx.wrap32([2**31, -(2**31) - 1, 5]).tolist() == [fx.INT32_MIN, fx.INT32_MAX, 5]


@pytest.mark.parametrize("value", [1e-9, 0.0123, 0.5, 1.0, 3.7, 12345.678, 2.0**29])
def test_mult_shift_represents_value(value):
    mult, shift = fx.to_mult_shift(value)
    assert 2**30 <= mult < 2**31
    assert abs(mult * 2.0**-shift - value) <= value * 2.0**-30


def test_mult_shift_rejects_out_of_range():
    with pytest.raises(ValueError):
        fx.to_mult_shift(2.0**40)
    with pytest.raises(ValueError):
        fx.to_mult_shift(-1.0)
    assert fx.to_mult_shift(0.0) == (0, 1)


def test_rescale_rounds():
    mult, shift = fx.to_mult_shift(0.25)
    assert fx.rescale(np.array([2, 6, -6]), mult, shift).tolist() == [1, 2, -1]


def test_exp2_accuracy():
    t = np.arange(0, 20 << 16, 997)
    approx = fx.exp2_neg_q16(t) / 2.0**24
    exact = np.exp2(-t / 2.0**16)
    assert np.all(np.abs(approx - exact) <= 2e-5 * exact + 2.0**-24)
    assert int(fx.exp2_neg_q16(0)) == 1 << 24
    assert int(fx.exp2_neg_q16(40 << 16)) == 0


def test_softmax_q16_matches_float_softmax():
    rng = np.random.default_rng(0)
    frac_bits = 24
    mult, shift = fx.to_mult_shift(math.log2(math.e) * 2.0 ** (16 - frac_bits))
    for _ in range(200):
        u_float = rng.normal(0, 3, 35)
        u = np.round(u_float * 2**frac_bits).astype(np.int64)
        p = fx.softmax_q16(u, mult, shift) / 2.0**16
        e = np.exp(u / 2**frac_bits - (u / 2**frac_bits).max())
        assert np.abs(p - e / e.sum()).max() < 1e-4
        assert abs(p.sum() - 1) < 35 * 2.0**-16


def test_softmax_handles_extreme_spread():
    u = np.array([fx.INT32_MAX, fx.INT32_MIN, 0])
    mult, shift = fx.to_mult_shift(math.log2(math.e) * 2.0 ** (16 - 20))
    p = fx.softmax_q16(u, mult, shift)
    assert p.tolist() == [1 << 16, 0, 0]


def test_mul_w16_floors_and_stays_within_2_to_30():
    # SMULWB/SMULWT: the top 32 bits of the 48-bit product, i.e. floor((x * k) / 2^16)
    assert fx.mul_w16(3, 1 << 15).tolist() == 1 and fx.mul_w16(-3, 1 << 14).tolist() == -1
    assert fx.mul_w16(-1, 1).tolist() == -1                       # floor, not toward zero
    assert fx.mul_w16(fx.INT32_MIN, fx.INT16_MIN).tolist() == 1 << 30
    assert fx.mul_w16(fx.INT32_MIN, fx.INT16_MAX).tolist() == -(1 << 30) + (1 << 15)
    assert fx.mul_w16(fx.INT32_MAX, fx.INT16_MAX).tolist() == (1 << 30) - (1 << 15) - 1


def test_to_q15_rounds_to_nearest():
    assert fx.to_q15([1.0, -1.0, 0.5, 1 / 3, -0.0095]).tolist() == [32768, -32768, 16384, 10923, -311]

"""The SiLIF constants of the 16-byte record (docs/fixed-point.md): rounding, the documented
one-LSB clamps, the uint16 mult (fewer fractional bits, or a refusal naming the neuron) and F <= 28."""
from __future__ import annotations

import numpy as np
import pytest

from silifc.errors import QuantizationError, QuantizationWarning
from silifc.ir import FoldedSiLIF
from silifc.passes.quantize import (MIN_FRAC_BITS, SILIF_MAX_FRAC_BITS, SILIF_MULT_MAX, _quantize_silif,
                                    fit_synapses, quantize_synapses)
from silifc.reference import fixedpoint as fx


def _layer(n=4, scale=0.1, **values):
    rng = np.random.default_rng(3)
    fields = dict(weight=rng.uniform(-scale, scale, (n, 6)), bias=np.zeros(n), alpha=np.full(n, 0.9),
                  beta=np.full(n, 0.99), a_hat=np.full(n, 0.5), b_hat=np.full(n, 1.0))
    fields.update({k: np.asarray(v, dtype=np.float64) for k, v in values.items()})
    return FoldedSiLIF(**fields)


def _quantize(layer, frac_bits=20):
    syn = quantize_synapses(layer.weight, layer.bias, None, frac_bits, 8, "layer0")
    return _quantize_silif(layer, frac_bits, syn, "layer0")


def test_constants_round_to_nearest_and_clamp_at_the_field_ends():
    layer = _layer(alpha=[0.0, 1.0, 0.5, 1 - 0.0095], beta=[1.0, 0.0, 0.5, 1 - 2e-8],
                   a_hat=[1.0, 0.0, 0.5, 1 / 3], b_hat=[2.0, 0.0, 1.0, 0.3])
    q = _quantize(layer)
    assert q.k_leak.tolist() == [-32768, 0, -16384, round(-0.0095 * 32768)]     # alpha = 0: -(1 - alpha) = -1 fits
    assert q.k_a.tolist() == [32767, 0, 16384, round(32768 / 3)]                 # a_hat = 1 is stored as 32767
    assert q.jump.tolist() == [32767, 0, 16384, round(0.3 * 16384)]             # b_hat = 2 is stored as 32767
    assert q.k_beta.tolist() == [fx.Q31_LIMIT, 0, 1 << 30, round((1 - 2e-8) * 2 ** 31)]   # beta stays Q31
    assert q.threshold == 1 << 20


def test_a_value_outside_its_field_names_the_layer_and_neuron():
    with pytest.raises(QuantizationError, match=r"layer0: neuron 2's coupling a_hat is 1\.5"):
        _quantize(_layer(a_hat=[0.5, 0.5, 1.5, 0.5]))
    with pytest.raises(QuantizationError, match=r"layer0: neuron 1's leak"):
        _quantize(_layer(alpha=[0.5, 1.5, 0.5, 0.5]))


def test_state_format_above_28_fractional_bits_is_refused():
    syn = quantize_synapses(_layer(scale=1e-4).weight, np.zeros(4), None, SILIF_MAX_FRAC_BITS + 1, 8, "layer1")
    with pytest.raises(QuantizationError, match="layer1: .*29 fractional bits; SiLIF allows at most 28"):
        _quantize_silif(_layer(scale=1e-4), SILIF_MAX_FRAC_BITS + 1, syn, "layer1")
    q = _quantize(_layer(scale=1e-4), SILIF_MAX_FRAC_BITS)
    assert q.threshold << 2 == 1 << 30                                            # 4 * thr fits int32


def test_mult_above_16_bits_lowers_the_state_format_with_a_warning():
    layer = _layer(scale=2.0)                       # mult = ceil(2 / 127 * 2^F): 2^F <= ~4.2e6 fits 65535
    with pytest.warns(QuantizationWarning, match=r"layer0: neuron \d+'s weight scale is [\d,]+ state LSBs per "
                                                 r"weight LSB at 24 fractional bits, above the SiLIF record's 65,535"):
        bits, syn = fit_synapses(layer.weight, layer.bias, None, 24, 8, 1, "layer0", max_mult=SILIF_MULT_MAX)
    assert bits < 24 and syn.mult.max() <= SILIF_MULT_MAX
    assert quantize_synapses(layer.weight, layer.bias, None, bits + 1, 8, "layer0").mult.max() > SILIF_MULT_MAX


def test_mult_that_never_fits_16_bits_is_refused():
    layer = _layer(scale=1e5)
    with pytest.raises(QuantizationError, match=rf"layer0: neuron \d+'s weight scale is [\d,]+ .* stays above the "
                                                rf"SiLIF record's 65,535 \(16 bits\) down to {MIN_FRAC_BITS} "):
        fit_synapses(layer.weight, layer.bias, None, 20, 8, 1, "layer0", max_mult=SILIF_MULT_MAX)


@pytest.mark.parametrize("field,value,message", [("k_leak", 1, "Q15 k_leak = 1"), ("k_a", -1, "Q15 k_a = -1"),
                                                   ("jump", 32768, "adaptation jump .* = 32768"),
                                                   ("mult", 65536, "SiLIF weight scale .* = 65536")])
def test_check_quantized_refuses_records_outside_their_fields(field, value, message):
    from dataclasses import replace

    from silifc.io.checkpoint import parse_state_dict
    from silifc.io.inputs import random_input
    from silifc.passes.check import check_quantized
    from silifc.passes.fold import fold_network
    from silifc.passes.quantize import quantize_network
    from synthetic import random_state_dict

    folded = fold_network(parse_state_dict(random_state_dict((12, 10, 4), ("silif",), seed=5)))
    q = quantize_network(folded, calibration=random_input(12, 2, 20, 0.1, 1, seed=2))
    check_quantized(q)
    layer = q.hidden[0]
    if field == "mult":
        layer = replace(layer, synapses=replace(layer.synapses, mult=np.full(layer.synapses.n_out, value)))
    else:
        layer = replace(layer, **{field: np.full(layer.synapses.n_out, value)})
    with pytest.raises(QuantizationError, match=message):
        check_quantized(replace(q, hidden=(layer,)))

"""The checked model: what every stage may assume about a network, refused with a message
(what, where, by how much, what to do) when it does not hold.

The pipeline (silifc.pipeline.STAGES) calls these at its stage boundaries, so no path
leads from bad data to generated C or a "bit-exact" report:

* `check_network` (after load): every layer has at least one neuron and at most
  MAX_LAYER_WIDTH (the runtime counts and indexes neurons and inputs in uint16), and the
  classes fit the integer softmax.
* `check_folded` (after fold): every folded constant is finite and inside the range its
  integer format holds: decays and couplings in [0, 1] (SiLIF), complex decays in [-1, 1]
  (C-SiLIF), readout decays in [0, 1], weights and biases finite.
* `check_quantized` (after quantize): every integer the generated C stores fits its C type
  (int8/int16 weights, int32 scales, biases and thresholds, Q31 constants within
  +-(2^31 - 2), the softmax's mult/shift), and the first layer accepts at least one event.
"""
from __future__ import annotations

import numpy as np

from ..errors import CheckpointError, QuantizationError
from ..ir import LAYER_KINDS, LIF_KINDS, MAX_LAYER_WIDTH, WEIGHT_QMAX, FoldedNetwork, Network, QuantNetwork
from ..reference import fixedpoint as fx
from .quantize import MAX_FRAC_BITS, MIN_FRAC_BITS, SILIF_MAX_FRAC_BITS, SILIF_MULT_MAX, SILIF_THRESHOLD_MAX

# Folded constants that become Q31 or state-format integers: the range each must lie in.
FOLDED_RANGES = {
    "silif": {"alpha": (0.0, 1.0), "beta": (0.0, 1.0), "a_hat": (0.0, 1.0), "b_hat": (0.0, 2.0)},
    "csilif": {"decay_re": (-1.0, 1.0), "decay_im": (-1.0, 1.0)},
    "readout": {"alpha": (0.0, 1.0)},
    # LIF family (NIR): decays are Q31 (fixedpoint.to_q31 holds [-1, 1]); the state-format
    # constants only need to be finite (the quantizer sizes the format to hold them).
    **{kind: {"beta": (-1.0, 1.0), "alpha": (-1.0, 1.0), "leak": (-np.inf, np.inf), "threshold": (-np.inf, np.inf),
              "v_reset": (-np.inf, np.inf), "recurrent": (-np.inf, np.inf)} for kind in LIF_KINDS},
}
# Where the folded constants come from, for the message (spec sections 3-5 and 7).
_ORIGINS = {
    "silif": "alpha = exp(-exp(alpha) * exp(dt)), beta = exp(-exp(beta) * exp(dt)); weights scaled by "
             "(1 - alpha) and batch norm",
    "csilif": "decay = exp((-exp(log_log_alpha) + i alpha_img) * exp(log_dt)); weights scaled by b and batch norm",
    "readout": "alpha clamped to [e^-1/5, e^-1/25]; weights scaled by (1 - alpha) and batch norm",
    **{kind: "the NIR node's tau, r, v_leak, v_threshold and dt through the dialect's discretization (docs/nir.md)"
       for kind in LIF_KINDS},
}


def _layer_name(index: int, count: int) -> str:
    return f"snn.{index} ({'readout' if index == count - 1 else 'hidden layer ' + str(index)})"


def check_network(network: Network) -> Network:
    """Refuse empty or too wide layers and too many classes (see the module docstring)."""
    where = network.source or "model"
    layers = network.layers
    if network.n_inputs < 1:
        raise CheckpointError(f"{where}: snn.0.W.weight has no input columns (shape "
                              f"{list(layers[0].weight.shape)}); the network needs at least one input")
    for index, layer in enumerate(layers):
        width = layer.weight.shape[0]
        name = _layer_name(index, len(layers))
        if width < 1:
            raise CheckpointError(f"{where}: {name} has no neurons (snn.{index}.W.weight has shape "
                                  f"{list(layer.weight.shape)}); every layer needs at least one neuron")
        if width > MAX_LAYER_WIDTH or layer.weight.shape[1] > MAX_LAYER_WIDTH:
            raise CheckpointError(f"{where}: {name} is {layer.weight.shape[1]} -> {width}; the C runtime counts and "
                                  f"indexes neurons and inputs in 16 bits (at most {MAX_LAYER_WIDTH:,} per layer), "
                                  "and no Cortex-M memory holds such a layer. Use narrower layers")
    if network.n_classes > fx.MAX_CLASSES:
        raise CheckpointError(f"{where}: the readout has {network.n_classes} classes; the integer softmax supports at "
                              f"most {fx.MAX_CLASSES}")
    return network


def _first_bad(values: np.ndarray, low: float, high: float):
    """(flat index, value) of the first value that is not finite or outside [low, high], or None."""
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if not bad.any():
        return None
    index = int(np.flatnonzero(bad)[0])
    return index, float(values.reshape(-1)[index]), int(bad.sum())


def check_folded(folded: FoldedNetwork) -> FoldedNetwork:
    """Refuse folded constants that are not finite or outside their format's range."""
    where = folded.source or "model"
    layers = folded.layers
    for index, layer in enumerate(layers):
        name = _layer_name(index, len(layers))
        checks = [(field, low, high) for field, (low, high) in FOLDED_RANGES[layer.kind].items()]
        checks += [("weight", -np.inf, np.inf), ("bias", -np.inf, np.inf)]
        for field, low, high in checks:
            if getattr(layer, field, None) is None:          # a LIF kind without a current, reset value, ...
                continue
            values = np.asarray(getattr(layer, field), dtype=np.float64)
            found = _first_bad(values, low, high)
            if found is None:
                continue
            flat, value, count = found
            neuron = flat // values.shape[1] if values.ndim == 2 else flat
            problem = "not finite" if not np.isfinite(value) else f"outside [{low:g}, {high:g}]"
            stored = f"the checkpoint's snn.{index}.* values" if layer.kind not in LIF_KINDS else \
                f"the NIR node {layer.name or index}'s parameters"
            raise QuantizationError(
                f"{where}: {name} ({LAYER_KINDS[layer.kind].title}): folded {field} of neuron {neuron} is {value!r} "
                f"({problem}; {count} value(s) of this layer). The stored parameters overflow when folded "
                f"({_ORIGINS[layer.kind]}): check {stored} (a diverged training run, "
                "or a parameter stored in the wrong unit)")
    return folded


def _check_ints(where: str, values, low: int, high: int, what: str) -> None:
    values = np.asarray(values)
    if values.size and (values.min() < low or values.max() > high):
        bad = values.min() if values.min() < low else values.max()
        raise QuantizationError(f"{where}: {what} = {int(bad)} does not fit its integer format [{low}, {high}] "
                                "(an internal error of the quantizer: please report it with the model)")


def check_quantized(quantized: QuantNetwork) -> QuantNetwork:
    """Every integer of the quantized network fits the C type the generated code stores it in."""
    where = quantized.source or "model"
    layers = quantized.layers
    q31 = (-fx.Q31_LIMIT, fx.Q31_LIMIT)
    for index, layer in enumerate(layers):
        name = f"{where}: {_layer_name(index, len(layers))}"
        syn = layer.synapses
        qmax = WEIGHT_QMAX.get(syn.weight_bits)
        if qmax is None:
            raise QuantizationError(f"{name}: weight width {syn.weight_bits} bits; only 8 and 16 exist")
        _check_ints(name, syn.weights, -qmax, qmax, f"an int{syn.weight_bits} weight")
        _check_ints(name, syn.mult, 0, fx.INT32_MAX, "a weight scale (mult)")
        _check_ints(name, syn.bias, fx.INT32_MIN, fx.INT32_MAX, "a bias")
        if syn.delays is not None:
            _check_ints(name, syn.delays, 0, 255, "a delay")
        if not MIN_FRAC_BITS <= layer.frac_bits <= MAX_FRAC_BITS:
            raise QuantizationError(f"{name}: state format with {layer.frac_bits} fractional bits, outside "
                                    f"[{MIN_FRAC_BITS}, {MAX_FRAC_BITS}]")
        if layer.kind == "silif":      # the 16-byte slf_silif_neuron record (docs/fixed-point.md)
            _check_ints(name, layer.k_beta, 0, fx.Q31_LIMIT, "Q31 k_beta")
            _check_ints(name, layer.k_a, 0, fx.INT16_MAX, "Q15 k_a")
            _check_ints(name, layer.k_leak, fx.INT16_MIN, 0, "Q15 k_leak")
            _check_ints(name, layer.jump, 0, fx.INT16_MAX, "the adaptation jump (threshold/2^14)")
            _check_ints(name, syn.mult, 0, SILIF_MULT_MAX, "a SiLIF weight scale (mult, uint16)")
            _check_ints(name, [layer.frac_bits], MIN_FRAC_BITS, SILIF_MAX_FRAC_BITS, "the SiLIF state format's F")
            _check_ints(name, [layer.threshold], 1, SILIF_THRESHOLD_MAX, "the SiLIF threshold (4 x threshold < 2^31)")
        elif layer.kind == "csilif":
            for field in ("k_re", "k_im"):
                _check_ints(name, getattr(layer, field), *q31, f"Q31 {field}")
        elif layer.kind in LIF_KINDS:
            for field in ("k_beta", "k_alpha"):
                _check_ints(name, getattr(layer, field), *q31, f"Q31 {field}")
            for field in ("leak", "threshold", "reset_to", "reset_sub"):
                if getattr(layer, field, None) is not None:
                    _check_ints(name, getattr(layer, field), fx.INT32_MIN, fx.INT32_MAX, field)
            if layer.recurrent is not None:
                _check_ints(name, layer.recurrent.weights, -qmax, qmax, f"an int{syn.weight_bits} recurrent weight")
        else:
            _check_ints(name, layer.k_alpha, 0, fx.Q31_LIMIT, "Q31 k_alpha")
            _check_ints(name, [layer.exp_mult], 0, fx.INT32_MAX, "the softmax exp_mult")
            _check_ints(name, [layer.exp_shift], 1, 62, "the softmax exp_shift")
        if layer.kind in ("silif", "csilif"):
            _check_ints(name, [layer.threshold], 1, fx.INT32_MAX, "the threshold")
    if layers[0].synapses.max_input_count < 1:
        raise QuantizationError(f"{where}: the first layer's input currents can leave int32 even for one event per "
                                "input and step; the weights are too large for the state range")
    return quantized

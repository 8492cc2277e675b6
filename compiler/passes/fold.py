"""Batch-norm folding and derived neuron constants (float64), spec sections 2-5 and 7; for the
LIF family of NIR graphs, the dialect's discretization with the input gains folded in."""
from __future__ import annotations

import numpy as np

from ..errors import NIRError
from ..io.nir.dialects import get_dialect
from ..ir import (LIF_KINDS, READOUT_ALPHA_MAX, READOUT_ALPHA_MIN, BatchNorm, CSiLIFLayer,
                  FoldedCSiLIF, FoldedLIF, FoldedNetwork, FoldedReadout, FoldedSiLIF, LIFLayer, ModelConfig,
                  Network, ReadoutLayer, SiLIFLayer)


def batchnorm_affine(norm: BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm as y = scale * x + shift (running statistics)."""
    scale = norm.gamma / np.sqrt(norm.running_var + norm.eps)
    shift = norm.beta - scale * norm.running_mean
    return scale, shift


def fold_silif(layer: SiLIFLayer) -> FoldedSiLIF:
    scale, shift = batchnorm_affine(layer.norm)
    dt = np.exp(layer.log_dt)
    alpha = np.exp(-np.exp(layer.log_alpha_rate) * dt)
    beta = np.exp(-np.exp(layer.log_beta_rate) * dt)
    gain = 1.0 - alpha
    return FoldedSiLIF(
        weight=(gain * scale)[:, None] * layer.weight,
        bias=gain * shift,
        alpha=alpha,
        beta=beta,
        # The authors clamp at inference too; many stored values lie outside.
        a_hat=np.clip(layer.a, 0.0, 1.0),
        b_hat=np.clip(layer.b, 0.0, 2.0),
        delays=layer.delays,
    )


def fold_csilif(layer: CSiLIFLayer) -> FoldedCSiLIF:
    scale, shift = batchnorm_affine(layer.norm)
    dt = np.exp(layer.log_dt)
    # Angles reach ~300 rad; float64 keeps cos/sin of them accurate.
    decay = np.exp((-np.exp(layer.log_log_alpha) + 1j * layer.alpha_img) * dt)
    return FoldedCSiLIF(
        weight=(layer.b * scale)[:, None] * layer.weight,
        bias=layer.b * shift,
        decay_re=decay.real,
        decay_im=decay.imag,
        delays=layer.delays,
    )


def fold_readout(layer: ReadoutLayer) -> FoldedReadout:
    scale, shift = batchnorm_affine(layer.norm)
    alpha = np.clip(layer.alpha, READOUT_ALPHA_MIN, READOUT_ALPHA_MAX)
    gain = 1.0 - alpha
    return FoldedReadout(
        weight=(gain * scale)[:, None] * layer.weight,
        bias=gain * shift,
        alpha=alpha,
        delays=layer.delays,
    )


def fold_lif(layer: LIFLayer, config: ModelConfig) -> FoldedLIF:
    """The NIR node's parameters as the dialect discretizes them with step config.nir_dt; its
    input gain (the dialect's, NIR's r and w_in) folded into the weights, recurrent weights and
    bias. The leak stays apart: in the current-based kinds it enters v, not the current."""
    if not config.nir_dialect:
        raise NIRError(f"layer {layer.name!r} ({layer.kind}): the model config names no NIR dialect")
    dynamics = get_dialect(config.nir_dialect).decode(layer.kind, dict(layer.params), config.nir_dt, layer.name)
    gain = dynamics.gain
    return FoldedLIF(
        kind=layer.kind, weight=gain[:, None] * layer.weight, bias=gain * layer.bias, beta=dynamics.beta,
        leak=dynamics.leak, alpha=dynamics.alpha, threshold=dynamics.threshold, reset=dynamics.reset,
        v_reset=dynamics.v_reset, delays=layer.delays,
        recurrent=None if layer.recurrent is None else gain[:, None] * layer.recurrent, name=layer.name)


_FOLDERS = {"silif": fold_silif, "csilif": fold_csilif, "readout": fold_readout}


def fold_layer(layer, config: ModelConfig):
    """One layer; the LIF family's constants also depend on the dialect and step in the config."""
    return fold_lif(layer, config) if layer.kind in LIF_KINDS else _FOLDERS[layer.kind](layer)


def fold_network(network: Network) -> FoldedNetwork:
    """Overflowing parameters become inf/NaN here silently (no numpy warnings): passes.check
    refuses them by name right after."""
    with np.errstate(all="ignore"):
        return _fold_network(network)


def _fold_network(network: Network) -> FoldedNetwork:
    return FoldedNetwork(
        config=network.config,
        hidden=tuple(fold_layer(layer, network.config) for layer in network.hidden),
        readout=fold_layer(network.readout, network.config),
        source=network.source,
        sha256=network.sha256,
    )

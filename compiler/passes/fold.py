"""Batch-norm folding and derived neuron constants (float64), spec sections 2-5 and 7."""
from __future__ import annotations

import numpy as np

from ..ir import (READOUT_ALPHA_MAX, READOUT_ALPHA_MIN, BatchNorm, CSiLIFLayer,
                 FoldedCSiLIF, FoldedNetwork, FoldedReadout, FoldedSiLIF, Network,
                 ReadoutLayer, SiLIFLayer)


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


_FOLDERS = {"silif": fold_silif, "csilif": fold_csilif, "readout": fold_readout}


def fold_network(network: Network) -> FoldedNetwork:
    return FoldedNetwork(
        config=network.config,
        hidden=tuple(_FOLDERS[layer.kind](layer) for layer in network.hidden),
        readout=fold_readout(network.readout),
        source=network.source,
        sha256=network.sha256,
    )

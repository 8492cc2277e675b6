"""The compiler's stages in order, each a pure function of frozen dataclasses:

    load checkpoint -> graph IR -> fold batch norm -> quantize -> plan memory -> emit C

This module strings the front half together for the commands that need it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .passes.fold import fold_network
from .ir import FoldedNetwork, Network
from .passes.quantize import DEFAULT_HEADROOM, QuantNetwork, quantize_network

WEIGHT_CHOICES = {"int8": 8, "int16": 16}


@dataclass(frozen=True, eq=False)
class Model:
    network: Network
    folded: FoldedNetwork
    quantized: QuantNetwork


def load_model(path: str | Path, config_overrides: dict | None = None) -> Network:
    """Either format: native files carry their settings (options override them); the
    authors' state dicts take defaults, the sidecar, then options."""
    from .io.native import load_model as load_either

    return load_either(path, config_overrides)


def prepare(path: str | Path, weights: str = "int8", headroom: float = DEFAULT_HEADROOM,
            calibration: np.ndarray | None = None, config_overrides: dict | None = None) -> Model:
    network = load_model(path, config_overrides)
    folded = fold_network(network)
    quantized = quantize_network(folded, calibration, WEIGHT_CHOICES[weights], headroom)
    return Model(network, folded, quantized)


def run_batched(engine, counts: np.ndarray, batch: int = 32, progress=None):
    """Run `engine(counts_batch)` over sample batches, reporting progress for long inputs."""
    from .reference.results import concat_results

    total = counts.shape[0]
    parts = []
    for start in range(0, total, batch):
        parts.append(engine(counts[start:start + batch]))
        if progress is not None and total > batch:
            progress(min(start + batch, total), total)
    return concat_results(parts)

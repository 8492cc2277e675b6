"""Synaptic input of a whole sequence at once: I[b, t, i] = sum_j W[i, j] x[b, t - d[i, j], j].

Shared by the float and the integer reference. For integer arrays the sum is exact
(int64), so it equals the C runtime's event-driven accumulation in any order, as long
as the accumulator cannot overflow; the quantizer proves that bound per layer.
"""
from __future__ import annotations

import numpy as np


def synaptic_input(x: np.ndarray, weight: np.ndarray, delays: np.ndarray | None = None) -> np.ndarray:
    """x [B, T, in], weight [out, in], delays [out, in] steps or None -> [B, T, out]."""
    if delays is None or not delays.any():
        return x @ weight.T
    batch, steps, _ = x.shape
    out = np.zeros((batch, steps, weight.shape[0]), dtype=np.result_type(x, weight))
    for delay in np.unique(delays):
        delay = int(delay)
        if delay >= steps:
            continue
        masked = np.where(delays == delay, weight, 0)
        out[:, delay:] += x[:, :steps - delay] @ masked.T
    return out

"""Random SiLIF / C-SiLIF networks in the authors' state-dict format, for tests and demos.

Parameter ranges follow the paper checkpoints (docs/silif-spec.md section 8), so the
networks fire at realistic rates; they are not trained and classify nothing.
"""
from __future__ import annotations

import numpy as np


def random_state_dict(widths=(20, 32, 24, 6), kinds=("silif", "silif"), seed: int = 0,
                      max_delay: int = 0) -> dict:
    """widths = (inputs, hidden..., classes); kinds = one neuron type per hidden layer.

    With max_delay > 0 every layer gets random per-synapse delays `snn.<i>.delays` in
    0..max_delay (the native format's extension of the authors' keys)."""
    import torch

    if len(kinds) != len(widths) - 2:
        raise ValueError(f"{len(widths) - 2} hidden layers need {len(widths) - 2} kinds, got {len(kinds)}")
    rng = np.random.default_rng(seed)
    state = {}

    def put(key, values, dtype=torch.float32):
        state[key] = torch.tensor(np.asarray(values), dtype=dtype)

    for index, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        prefix = f"snn.{index}."
        kind = kinds[index] if index < len(kinds) else "readout"
        put(prefix + "W.weight", rng.normal(0.0, 1.5, (n_out, n_in)))
        put(prefix + "norm.weight", rng.uniform(0.5, 3.0, n_out) * np.sqrt(n_in))
        put(prefix + "norm.bias", rng.normal(0.5 if kind != "readout" else 0.0, 1.0, n_out))
        put(prefix + "norm.running_mean", rng.normal(0.0, 1.0, n_out))
        put(prefix + "norm.running_var", rng.uniform(0.5, 2.0, n_out) * n_in)
        put(prefix + "norm.num_batches_tracked", 100, torch.int64)
        if kind == "silif":
            put(prefix + "dt", rng.uniform(np.log(0.001), np.log(0.02), n_out))
            put(prefix + "alpha", rng.uniform(np.log(10.0), np.log(250.0), n_out))
            put(prefix + "beta", rng.uniform(np.log(0.5), np.log(10.0), n_out))
            put(prefix + "a", rng.uniform(-0.2, 1.1, n_out))
            put(prefix + "b", rng.uniform(-0.2, 2.1, n_out))
        elif kind == "csilif":
            put(prefix + "log_dt", rng.uniform(np.log(0.01), np.log(2.0), n_out))
            put(prefix + "log_log_alpha", rng.uniform(-4.0, 1.0, n_out))
            put(prefix + "alpha_img", rng.uniform(0.0, 8.0, n_out))
            put(prefix + "b", rng.uniform(-0.5, 2.0, n_out))
        else:
            put(prefix + "alpha", rng.uniform(0.75, 1.05, n_out))
        if max_delay:
            put(prefix + "delays", rng.integers(0, max_delay + 1, (n_out, n_in)), torch.int64)
    return state

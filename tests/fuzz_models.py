"""Random models and inputs for the differential fuzzing harness (tests/test_fuzz.py).

A case is a small JSON-able dict (what hypothesis draws and shrinks, and what a saved
regression case in tests/data/fuzz_regressions/ holds); `case_model` and `case_input`
turn it into an authors'-format state dict and event counts, deterministically.

    {"kinds": ["silif", "csilif"],          # hidden layers (1-3), then the readout
     "widths": [n_in, h1, h2, classes],     # 1-300 each, classes 2-50
     "delays": [0, 3, 0],                   # per layer: max synaptic delay (0: none; > 15 is refused)
     "extremes": [["beta_near_one"], [], ["negative_gamma"]],   # per layer, see EXTREMES
     "weights": "int8", "seed": 7,
     "input": {"samples": 3, "steps": 12, "rate": 0.2, "max_count": 4, "seed": 1}}
"""
from __future__ import annotations

import numpy as np

from synthetic import random_state_dict

# Parameter extremes per neuron kind: name -> edit of the layer's parameters (numpy arrays).
EXTREMES = {
    "silif": {
        "beta_near_one": lambda p, r: p.__setitem__("beta", np.full_like(p["beta"], -40.0)),     # 1 - beta < 2^-30
        "alpha_zero": lambda p, r: p.__setitem__("alpha", np.full_like(p["alpha"], 30.0)),        # e^-(e^30 dt) = 0
        "clamped_ab": lambda p, r: (p.__setitem__("a", r.choice([-5.0, 7.0], p["a"].shape)),
                                    p.__setitem__("b", r.choice([-3.0, 9.0], p["b"].shape))),
        "tiny_dt": lambda p, r: p.__setitem__("dt", np.full_like(p["dt"], -30.0)),
    },
    "csilif": {
        "huge_angle": lambda p, r: p.__setitem__("alpha_img", r.uniform(1e5, 1e7, p["alpha_img"].shape)),
        "decay_zero": lambda p, r: p.__setitem__("log_log_alpha", np.full_like(p["log_log_alpha"], 30.0)),
        "decay_one": lambda p, r: p.__setitem__("log_log_alpha", np.full_like(p["log_log_alpha"], -40.0)),
        "overflowing_dt": lambda p, r: (p.__setitem__("log_dt", np.full_like(p["log_dt"], 1000.0)),
                                        p.__setitem__("log_log_alpha", np.full_like(p["log_log_alpha"], -1000.0))),
    },
    "readout": {
        "alpha_out_of_range": lambda p, r: p.__setitem__("alpha", r.choice([-1.0, 2.0], p["alpha"].shape)),
    },
    "any": {
        "negative_gamma": lambda p, r: p.__setitem__("norm.weight", -np.abs(p["norm.weight"])),
        "huge_weights": lambda p, r: p.__setitem__("W.weight", p["W.weight"] * 1e6),
        "zero_weights": lambda p, r: p.__setitem__("W.weight", np.zeros_like(p["W.weight"])),
        "sparse_weights": lambda p, r: p.__setitem__("W.weight", p["W.weight"] * (r.random(p["W.weight"].shape) < 0.1)),
    },
}


def extremes_for(kind: str) -> list[str]:
    return sorted(EXTREMES[kind]) + sorted(EXTREMES["any"])


def case_model(case: dict) -> dict:
    """The case's state dict (torch tensors, the authors' keys plus snn.<i>.delays)."""
    import torch

    widths, kinds = tuple(case["widths"]), tuple(case["kinds"])
    state = random_state_dict(widths=widths, kinds=kinds, seed=case["seed"])
    rng = np.random.default_rng(case["seed"] + 1)
    for index, (extremes, max_delay) in enumerate(zip(case["extremes"], case["delays"])):
        kind = kinds[index] if index < len(kinds) else "readout"
        prefix = f"snn.{index}."
        params = {key[len(prefix):]: value.numpy().astype(np.float64) for key, value in state.items()
                  if key.startswith(prefix) and value.dtype.is_floating_point}
        for name in extremes:
            (EXTREMES[kind].get(name) or EXTREMES["any"][name])(params, rng)
        for name, values in params.items():
            state[prefix + name] = torch.tensor(values, dtype=torch.float32)
        if max_delay:
            n_out, n_in = widths[index + 1], widths[index]
            state[prefix + "delays"] = torch.tensor(rng.integers(0, max_delay + 1, (n_out, n_in)), dtype=torch.int64)
    return state


def case_input(case: dict, n_inputs: int) -> np.ndarray:
    """[samples, steps, n_inputs] counts: Bernoulli(rate) events times 1..max_count (a max_count above
    the model's event limit tests that both the reference and the firmware path refuse it)."""
    spec = case["input"]
    rng = np.random.default_rng(spec["seed"])
    shape = (spec["samples"], spec["steps"], n_inputs)
    fired = rng.random(shape) < spec["rate"]
    return (fired * rng.integers(1, spec["max_count"] + 1, shape)).astype(np.int64)

"""IR of spiking networks imported from NIR: a chain of neuron populations.

Each population has feed-forward synapses from the previous population (or the network
input), optional recurrent synapses from its own spikes of the previous step, and one of
six discrete-time neuron kinds. The constants are already discrete (one step): the NIR
dialect (compiler/nir_dialects.py) turned each producer's continuous-time parameters into
them, with every input gain folded into the weights. docs/nir.md tables the dialects.

One step of population k, float64 (compiler/spiking_ref.py), with s the population's
spikes of the previous step (0/1; s == v > threshold) and x the input of this step:

    drive = W x(t - D) + R s + bias                 (D: per-synapse delays in steps)
    j     = alpha * j + drive                       (current-based kinds only; else j = drive)
    v_r   = v_reset if (reset == "value" and s) else v
    v     = beta * v_r + j + leak - (threshold * s if reset == "subtract" else 0)
    s     = v > threshold                           (strict; spiking kinds only)

Spiking kinds emit s; the non-spiking kinds (li, cubali, i) emit v and may only be the
last population. Every population starts at v = j = s = 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .ir import ModelConfig, frozen_array

SPIKING_KINDS = ("lif", "cubalif", "if")
NON_SPIKING_KINDS = ("li", "cubali", "i")
NEURON_KINDS = SPIKING_KINDS + NON_SPIKING_KINDS
CURRENT_KINDS = ("cubalif", "cubali")          # with a synaptic current state j
RESETS = ("subtract", "value", "none")
KIND_TITLES = {"lif": "LIF", "cubalif": "CubaLIF", "if": "IF", "li": "LI", "cubali": "CubaLI", "i": "I"}


def _array(values, width: int, name: str, dtype=np.float64) -> np.ndarray:
    array = np.broadcast_to(np.asarray(values, dtype=dtype), (width,))
    return frozen_array(array, dtype)


@dataclass(frozen=True, eq=False)
class Population:
    """One neuron population and its input synapses (see the module docstring for the step)."""

    kind: str
    weight: np.ndarray                 # [out, in] feed-forward weights, gains folded in
    bias: np.ndarray                   # [out] constant drive per step
    beta: np.ndarray                   # [out] membrane decay per step (1 for integrators)
    leak: np.ndarray                   # [out] constant added to v per step (decayed v_leak term)
    alpha: np.ndarray | None = None    # [out] current decay per step (current-based kinds)
    threshold: np.ndarray | None = None  # [out] (spiking kinds)
    reset: str = "none"                # "subtract", "value" or "none" (non-spiking kinds)
    v_reset: np.ndarray | None = None  # [out] value after a spike (reset == "value")
    delays: np.ndarray | None = None   # [out, in] steps, None without delays
    recurrent: np.ndarray | None = None  # [out, out] weights of the previous step's own spikes
    name: str = ""                     # NIR node name, for messages

    def __post_init__(self):
        if self.kind not in NEURON_KINDS:
            raise ValueError(f"unknown neuron kind {self.kind!r}; known: {', '.join(NEURON_KINDS)}")
        if self.reset not in RESETS:
            raise ValueError(f"unknown reset {self.reset!r}; known: {', '.join(RESETS)}")
        weight = frozen_array(self.weight)
        if weight.ndim != 2:
            raise ValueError(f"{self.name}: weight must be [out, in], got shape {list(weight.shape)}")
        object.__setattr__(self, "weight", weight)
        width = weight.shape[0]
        for name in ("bias", "beta", "leak", "alpha", "threshold", "v_reset"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _array(value, width, name))
        if self.delays is not None:
            delays = frozen_array(self.delays, np.int64)
            if delays.shape != weight.shape or (delays < 0).any():
                raise ValueError(f"{self.name}: delays must be non-negative integers shaped like the weights")
            object.__setattr__(self, "delays", delays if delays.any() else None)
        if self.recurrent is not None:
            recurrent = frozen_array(self.recurrent)
            if recurrent.shape != (width, width):
                raise ValueError(f"{self.name}: recurrent weights must be [{width}, {width}]")
            object.__setattr__(self, "recurrent", recurrent)
        spiking = self.kind in SPIKING_KINDS
        if spiking and (self.threshold is None or self.reset == "none"):
            raise ValueError(f"{self.name}: a {self.kind} population needs a threshold and a reset")
        if not spiking and (self.reset != "none" or self.recurrent is not None):
            raise ValueError(f"{self.name}: a {self.kind} population does not spike: no reset, no recurrence")
        if (self.alpha is not None) != (self.kind in CURRENT_KINDS):
            raise ValueError(f"{self.name}: alpha is for the current-based kinds {CURRENT_KINDS} only")
        if self.reset == "value" and self.v_reset is None:
            raise ValueError(f"{self.name}: reset to a value needs v_reset")

    @property
    def spiking(self) -> bool:
        return self.kind in SPIKING_KINDS

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    @property
    def max_delay(self) -> int:
        return 0 if self.delays is None else int(self.delays.max())


@dataclass(frozen=True, eq=False)
class SpikingNetwork:
    """A chain of populations; the last one's output (spikes or v) is the network output."""

    config: ModelConfig
    populations: tuple[Population, ...]
    dialect: str = ""                  # the NIR dialect the constants were decoded with
    dt: float = 0.0                    # seconds per step
    source: str = ""
    sha256: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.populations:
            raise ValueError("a spiking network needs at least one population")
        for index, (before, after) in enumerate(zip(self.populations, self.populations[1:])):
            if not before.spiking:
                raise ValueError(f"population {index} ({before.name}, {before.kind}) does not spike but feeds "
                                 "another population")
            if after.n_in != before.n_out:
                raise ValueError(f"population {index + 1} ({after.name}) takes {after.n_in} inputs but "
                                 f"population {index} ({before.name}) has {before.n_out} neurons")

    @property
    def layers(self):
        return self.populations

    @property
    def n_inputs(self) -> int:
        return self.populations[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.populations[-1].n_out

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.n_inputs, *(p.n_out for p in self.populations))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(p.kind for p in self.populations)

    @property
    def max_delay(self) -> int:
        return max(p.max_delay for p in self.populations)

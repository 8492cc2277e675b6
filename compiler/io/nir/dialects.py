"""NIR dialects: how each producer discretizes NIR's continuous-time neuron nodes.

NIR stores continuous-time parameters (tau, r, v_leak, v_threshold, v_reset, w_in); a
producer simulates them with its own time step, decay formula, reset and update order,
and its exporter writes them with its own conventions. A dialect turns one node's stored
parameters into the discrete constants of a FoldedLIF layer (silifc.ir; passes/fold.fold_lif
calls `decode`):

    k     the per-step rate of a time constant        beta = 1 - k (membrane), alpha = 1 - k_syn
    gain  what multiplies the node's input (folded into the weights and bias by the importer)
    leak  the constant added to v per step (k * v_leak)
    reset "subtract" (v - threshold after the leak, snnTorch) or "value" (v = v_reset before
          the next leak, i.e. at once after the spike, Norse and the NIR spec)

docs/nir.md tables each dialect's equations and cites the producer code they come from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import NIRError


@dataclass(frozen=True)
class Dynamics:
    """Discrete constants of one population, before the gain is folded into its synapses."""

    beta: np.ndarray
    gain: np.ndarray
    leak: np.ndarray
    alpha: np.ndarray | None = None
    threshold: np.ndarray | None = None
    reset: str = "none"
    v_reset: np.ndarray | None = None


@dataclass(frozen=True)
class Dialect:
    name: str
    title: str
    default_dt: float | None       # seconds; None: --dt is required
    reset: str                     # reset of the spiking kinds
    tau_is_dt_over_rate: bool      # the exporter writes tau = dt / (1/tau): k = dt * dt / tau
    current_input_scaled: bool     # CubaLIF/CubaLI input enters the current as (dt/tau_syn) * w_in * x
    integrator_gain_dt: bool       # IF/I: v += dt * r * x (Euler) rather than v += r * x
    note: str

    def rate(self, tau: np.ndarray, dt: float, node: str, field: str) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        if not np.all(np.isfinite(tau)) or (tau <= 0).any():
            raise NIRError(f"node {node!r}: {field} must be positive and finite, got {_sample(tau)}")
        k = dt * dt / tau if self.tau_is_dt_over_rate else dt / tau
        if (k > 1).any():
            raise NIRError(f"node {node!r}: {field} = {_sample(tau)} with dt = {dt:g} s gives a per-step decay "
                           f"1 - {float(k.max()):.4g} < 0 in the {self.name} dialect; the time step is longer than "
                           "the time constant. Check --dt (or the dialect)")
        return k

    def decode(self, kind: str, params: dict, dt: float, node: str) -> Dynamics:
        """One NIR neuron node's parameters (numpy arrays, already broadcast) -> Dynamics."""
        p = params
        if kind in ("lif", "li"):
            k = self.rate(p["tau"], dt, node, "tau")
            dynamics = dict(beta=1.0 - k, gain=k * p["r"], leak=k * p["v_leak"])
        elif kind in ("cubalif", "cubali"):
            k_mem = self.rate(p["tau_mem"], dt, node, "tau_mem")
            k_syn = self.rate(p["tau_syn"], dt, node, "tau_syn")
            syn_gain = (k_syn if self.current_input_scaled else 1.0) * p["w_in"]
            dynamics = dict(beta=1.0 - k_mem, alpha=1.0 - k_syn, gain=syn_gain * k_mem * p["r"],
                            leak=k_mem * p["v_leak"])
        elif kind in ("if", "i"):
            gain = (dt if self.integrator_gain_dt else 1.0) * p["r"]
            dynamics = dict(beta=np.ones_like(p["r"]), gain=gain, leak=np.zeros_like(p["r"]))
        else:
            raise NIRError(f"node {node!r}: no discretization of kind {kind!r}")
        if kind in ("lif", "cubalif", "if"):
            dynamics.update(threshold=p["v_threshold"], reset=self.reset,
                            v_reset=p["v_reset"] if self.reset == "value" else None)
        return Dynamics(**{name: np.asarray(value, dtype=np.float64) if isinstance(value, np.ndarray) else value
                           for name, value in dynamics.items()})


def _sample(values: np.ndarray) -> str:
    flat = np.asarray(values).ravel()
    return np.array2string(flat[:4], precision=4) + (" ..." if flat.size > 4 else "")


DIALECTS = {
    "snntorch": Dialect(
        name="snntorch", title="snnTorch 1.0 (Leaky, Synaptic, RLeaky, RSynaptic; default reset)",
        default_dt=1e-4, reset="subtract", tau_is_dt_over_rate=False, current_input_scaled=True,
        integrator_gain_dt=False,
        note="snnTorch's exporter writes tau = dt/(1 - beta) with dt = 1e-4 and r = tau/dt (unit input gain); "
             "its neurons subtract the threshold one step after a spike, after the leak "
             "(reset_mechanism='subtract', reset_delay=True); the file's v_reset (0) is not what snnTorch ran"),
    "norse": Dialect(
        name="norse", title="Norse 1.1 (LIFBoxCell, LIFCell, LIBoxCell, IAFCell)",
        default_dt=1e-3, reset="value", tau_is_dt_over_rate=True, current_input_scaled=False,
        integrator_gain_dt=False,
        note="Norse's exporter writes tau = dt / tau_mem_inv (not 1 / tau_mem_inv), so the per-step rate it "
             "simulated, dt * tau_mem_inv, is dt^2 / tau; input spikes jump the current by w_in * x (no dt/tau_syn factor); "
             "reset to v_reset in the step of the spike"),
    "nir": Dialect(
        name="nir", title="NIR's equations, forward Euler",
        default_dt=None, reset="value", tau_is_dt_over_rate=False, current_input_scaled=True,
        integrator_gain_dt=True,
        note="forward Euler of the documented ODEs: k = dt/tau, current before voltage, reset to v_reset in the "
             "step of the spike"),
}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise NIRError(f"unknown NIR dialect {name!r}; choose one of {', '.join(DIALECTS)} "
                       "(--nir-dialect; docs/nir.md says what each means)") from None

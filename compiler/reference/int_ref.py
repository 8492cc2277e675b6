"""Bit-exact integer reference: the specification of the C runtime.

Every function computes, on int64 numpy arrays, exactly the integers the C kernels
compute (see docs/fixed-point.md). The per-step kernels below mirror runtime_c one to
one; `run_int` strings them together for a whole network. Synaptic input is computed
for the whole sequence with an exact int64 matrix product, which equals the runtime's
event-driven accumulation in any order because the quantizer proved that no
accumulator can leave int32.
"""
from __future__ import annotations

import numpy as np

from . import fixedpoint as fx
from ..io.inputs import check_event_limit
from ..ir import QuantCSiLIF, QuantNetwork, QuantReadout, QuantSiLIF, QuantSynapses
from .results import RunResult
from .synapses import synaptic_input


# ---------------------------------------------------------------- per-step kernels

def input_current(acc, synapses: QuantSynapses):
    """Accumulated weights -> current in the layer's state format: acc * mult + bias, exact.

    The runtime computes it with one MLA (modulo 2^32); the quantizer proved that it fits
    int32 for every accumulator the inputs can produce (QuantSynapses.max_input_count),
    so a value outside int32 here means the proof or its inputs were violated."""
    current = np.asarray(acc, dtype=np.int64) * synapses.mult + synapses.bias
    if current.size and (current.max() > fx.INT32_MAX or current.min() < fx.INT32_MIN):
        raise OverflowError("input current leaves int32: the quantizer's bound does not hold for this input")
    return current


def silif_update(u, w, s, current, layer: QuantSiLIF):
    """One SiLIF step. s is 0/1 and equals u > threshold (the previous spike); returns (u, w, s).
    Order as the authors' code: the adaptation sees the un-reset u; u is reset before the
    leak and uses the new w. -(1 - alpha) is k_alpha - 2^31 (exact in Q31)."""
    reset = fx.wrap32(u - s * layer.threshold)
    w_new = fx.dmac(s * layer.jump, (w, layer.k_beta), (u, layer.k_a))
    u_new = fx.dmac(current, (reset, layer.k_alpha), (w_new, layer.k_alpha - fx.Q31_ONE))
    return u_new, w_new, (u_new > layer.threshold).astype(np.int64)


def csilif_update(zr, zi, s, current, layer: QuantCSiLIF):
    """One C-SiLIF step: z <- decay * (z - 0.5 s) + I, spike when Re z > 0.5 (strict)."""
    reset = fx.wrap32(zr - s * layer.threshold)
    zr_new = fx.dmac(current, (reset, layer.k_re), (zi, -layer.k_im))
    zi_new = fx.dmac(0, (reset, layer.k_im), (zi, layer.k_re))
    return zr_new, zi_new, (zr_new > layer.threshold).astype(np.int64)


def readout_update(u, current, layer: QuantReadout):
    return fx.dmac(current, (u, layer.k_alpha))


def accumulate_decision(total, u, layer: QuantReadout):
    """Add this step's integer softmax (Q16) to the decision accumulators, saturating."""
    return np.minimum(total + fx.softmax_q16(u, layer.exp_mult, layer.exp_shift), fx.INT32_MAX)


def decide(total):
    """Index of the largest accumulator; the lowest index wins a tie (as the C loop does)."""
    return np.asarray(total).argmax(axis=-1)


# ---------------------------------------------------------------- event-driven synapses with delays

class DelayRing:
    """Per-layer ring of int32 accumulators, `depth` slots of `width` (the runtime's layout).

    A spike at step t through a synapse with delay d lands in slot (t + d) % depth.
    At step t the layer reads slot t % depth and clears it. depth = max delay + 1.
    """

    def __init__(self, depth: int, width: int):
        self.depth = depth
        self.slots = np.zeros((depth, width), dtype=np.int64)

    def accumulate(self, step: int, events, synapses: QuantSynapses):
        """events: iterable of (input index, count); adds count * weight column per delay."""
        for index, count in events:
            column = synapses.weights[index]
            if synapses.delays is None:
                self.slots[step % self.depth] += count * column
            else:
                for delay in np.unique(synapses.delays[index]):
                    mask = synapses.delays[index] == delay
                    self.slots[(step + int(delay)) % self.depth, mask] += count * column[mask]

    def take(self, step: int) -> np.ndarray:
        slot = step % self.depth
        acc = self.slots[slot].copy()
        self.slots[slot] = 0
        return acc


# ---------------------------------------------------------------- whole network

def _record(ranges, name, values, frac_bits):
    if values.size:
        peak = float(np.abs(values).max()) / 2 ** frac_bits
        ranges[name] = max(ranges.get(name, 0.0), peak)


HIDDEN_UPDATES = {"silif": silif_update, "csilif": csilif_update}    # one step: (a, b, s, current, layer)
STATE_NAMES = {"silif": ("u", "w"), "csilif": ("zr", "zi")}          # (a, b) as the state ranges name them


def run_hidden(layer, currents, ranges):
    """A hidden layer over a whole sequence from the zero state: currents [B, T, N] -> spikes
    [B, T, N] uint8; the largest |state| of each variable goes into `ranges` (float units)."""
    batch, steps, width = currents.shape
    a, b, s = (np.zeros((batch, width), np.int64) for _ in range(3))
    update, names = HIDDEN_UPDATES[layer.kind], STATE_NAMES[layer.kind]
    spikes = np.zeros((batch, steps, width), np.uint8)
    for t in range(steps):
        a, b, s = update(a, b, s, currents[:, t], layer)
        spikes[:, t] = s
        _record(ranges, names[0], a, layer.frac_bits)
        _record(ranges, names[1], b, layer.frac_bits)
    return spikes


def layer_currents(x, synapses: QuantSynapses):
    """[B, T, in] counts -> [B, T, out] currents in state format (exact int64 accumulation)."""
    delays = None if synapses.delays is None else synapses.delays.T
    acc = synaptic_input(x, synapses.weights.T, delays)
    return input_current(acc, synapses)


def run_int(network: QuantNetwork, counts) -> RunResult:
    """counts [B, T, n_inputs] -> outputs (Q16 sums), decisions and every hidden spike."""
    x = np.asarray(counts, dtype=np.int64)
    check_event_limit(x, network.layers[0].synapses.max_input_count)
    spikes = []
    ranges = {}
    for index, layer in enumerate(network.hidden):
        layer_ranges = ranges.setdefault(f"layer{index}", {})
        currents = layer_currents(x, layer.synapses)
        _record(layer_ranges, "current", currents, layer.frac_bits)
        out = run_hidden(layer, currents, layer_ranges)
        spikes.append(out)
        x = out.astype(np.int64)
    readout = network.readout
    currents = layer_currents(x, readout.synapses)
    readout_ranges = ranges.setdefault("readout", {})
    _record(readout_ranges, "current", currents, readout.frac_bits)
    batch, steps, width = currents.shape
    u = np.zeros((batch, width), np.int64)
    total = np.zeros((batch, width), np.int64)
    for t in range(steps):
        u = readout_update(u, currents[:, t], readout)
        total = accumulate_decision(total, u, readout)
        _record(readout_ranges, "u", u, readout.frac_bits)
    return RunResult(engine="int", outputs=total, decisions=decide(total), spikes=tuple(spikes),
                     output_scale=float(network.output_scale), state_ranges=ranges)

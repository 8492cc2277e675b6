"""Bit-exact integer reference: the specification of the C runtime.

Layers run as the float reference's do (reference/float_ref.py): each maps its input to its
per-step output (spikes, or the state of a non-spiking last layer), and the network's
outputs are the last layer's per-step outputs summed by its kind's output rule (OUTPUT_TOTALS).

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
from ..ir import (CURRENT_KINDS, INTEGRATOR_KINDS, LAYER_KINDS, LIF_KINDS, QuantCSiLIF, QuantLIF, QuantNetwork,
                  QuantReadout, QuantSiLIF, QuantSynapses, layer_names)
from .results import RunResult
from .synapses import synaptic_input


# ---------------------------------------------------------------- per-step kernels

def input_current(acc, synapses: QuantSynapses):
    """Accumulated weights -> current in the layer's state format: acc * mult + bias, exact.

    The runtime computes it with one MLA (modulo 2^32); the quantizer proved that it fits
    int32 for every accumulator the inputs can produce (QuantSynapses.max_input_count),
    so a value outside int32 here means the proof or its inputs were violated."""
    return _within_int32(np.asarray(acc, dtype=np.int64) * synapses.mult + synapses.bias)


def _within_int32(current):
    if current.size and (current.max() > fx.INT32_MAX or current.min() < fx.INT32_MIN):
        raise OverflowError("input current leaves int32: the quantizer's bound does not hold for this input")
    return current


def silif_update(u, w, s, current, layer: QuantSiLIF):
    """One SiLIF step. s is 0/1 and equals u > threshold (the previous spike); returns (u, w, s).
    Order as the authors' code: the adaptation sees the un-reset u; u is reset before the
    leak and uses the new w. The leak is one Q15 constant, k_leak = -(1 - alpha):
    alpha*reset - (1 - alpha)*w' + I is written reset + I - (1 - alpha)*(reset + w')
    (docs/fixed-point.md, "Update equations"; every intermediate fits int32 there)."""
    thr = layer.threshold
    reset = fx.wrap32(u - s * thr)
    # modulo 2^32 as the runtime computes them; exact inside the records' contract (|each term| < 2^30,
    # 4 * thr < 2^31), so the wraps only define what out-of-contract constants give
    h_w = fx.wrap32(fx.mul_r32(w, layer.k_beta) + fx.mul_w16(u, layer.k_a))
    jump = fx.mul_w16(s * fx.wrap32(4 * np.int64(thr)), layer.jump)
    w_new = fx.sat32(jump + fx.sat32(2 * h_w))
    x = fx.sat32(reset + w_new)
    c = fx.sat32(reset + current)
    u_new = fx.sat32(c + fx.sat32(2 * fx.mul_w16(x, layer.k_leak)))
    return u_new, w_new, (u_new > thr).astype(np.int64)


def csilif_update(zr, zi, s, current, layer: QuantCSiLIF):
    """One C-SiLIF step: z <- decay * (z - 0.5 s) + I, spike when Re z > 0.5 (strict)."""
    reset = fx.wrap32(zr - s * layer.threshold)
    zr_new = fx.dmac(current, (reset, layer.k_re), (zi, -layer.k_im))
    zi_new = fx.dmac(0, (reset, layer.k_im), (zi, layer.k_re))
    return zr_new, zi_new, (zr_new > layer.threshold).astype(np.int64)


def lif_update(v, j, s, current, layer: QuantLIF):
    """One LIF-family step (the specification of slf_lif_update_q31; docs/fixed-point.md, "LIF-family
    neurons"). s is 0/1 and equals v > threshold (the previous spike); returns (v, j, s):
        j   = dmac(I, (j, k_alpha))            current-based kinds; else j = I
        v_r = reset_to where s                 reset "value"; else v
        c   = sat32(j + leak - s * reset_sub)  (reset_sub: the threshold for reset "subtract", else 0)
        v   = sat32(c + v_r)                   integrators (IF, I): exact, no decay product
            = dmac(c, (v_r, k_beta))           otherwise
        s   = v > threshold                    spiking kinds (strict); non-spiking kinds keep s = 0"""
    j = fx.dmac(current, (j, layer.k_alpha)) if layer.kind in CURRENT_KINDS else np.asarray(current, np.int64)
    if layer.reset == "value":
        v = np.where(s > 0, layer.reset_to, v)
    c = fx.sat32(j + layer.leak - s * layer.reset_sub)
    v = fx.sat32(c + v) if layer.kind in INTEGRATOR_KINDS else fx.dmac(c, (v, layer.k_beta))
    if LAYER_KINDS[layer.kind].spiking:
        s = (v > layer.threshold).astype(np.int64)
    return v, j, s


def output_q16(v, frac_bits: int):
    """A state in Q(31-F).F as Q16: arithmetic right shift by F - 16, or for F < 16 a left shift
    saturated to int32 (what a non-spiking last layer adds to its totals each step)."""
    shift = frac_bits - fx.OUTPUT_FRAC_BITS
    v = np.asarray(v, np.int64)
    return (v >> shift) if shift >= 0 else fx.sat32(v << -shift)


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


HIDDEN_UPDATES = {"silif": silif_update, "csilif": csilif_update,       # one step: (a, b, s, current, layer)
                  **{kind: lif_update for kind in LIF_KINDS}}
STATE_NAMES = {"silif": ("u", "w"), "csilif": ("zr", "zi"),               # (a, b) as the state ranges name them
               **{kind: ("v", "j") for kind in LIF_KINDS}}


def recurrent_current(current, s, layer):
    """This step's current plus the recurrent drive of the layer's own previous spikes s (the
    LIF family; the same mult as the feed-forward weights: the runtime sums both into one
    accumulator, and the quantizer's int32 proof covers the two together)."""
    recurrent = getattr(layer, "recurrent", None)
    if recurrent is None:
        return current
    return _within_int32(current + (s @ recurrent.weights) * recurrent.mult)


def run_hidden(layer, currents, ranges):
    """A spiking (or LIF-family) layer over a whole sequence from the zero state: currents [B, T, N]
    (feed-forward) -> spikes [B, T, N] uint8, or for a non-spiking LIF kind its state v [B, T, N]
    (state format); the largest |state| of each variable goes into `ranges` (float units)."""
    batch, steps, width = currents.shape
    a, b, s = (np.zeros((batch, width), np.int64) for _ in range(3))
    update, names = HIDDEN_UPDATES[layer.kind], STATE_NAMES[layer.kind]
    spiking = LAYER_KINDS[layer.kind].spiking
    out = np.zeros((batch, steps, width), np.uint8 if spiking else np.int64)
    recurrent = getattr(layer, "recurrent", None) is not None
    for t in range(steps):
        current = recurrent_current(currents[:, t], s, layer)
        a, b, s = update(a, b, s, current, layer)
        out[:, t] = s if spiking else a
        _record(ranges, names[0], a, layer.frac_bits)
        if layer.kind not in LIF_KINDS or layer.kind in CURRENT_KINDS:
            _record(ranges, names[1], b, layer.frac_bits)
        if recurrent:
            _record(ranges, "current", current, layer.frac_bits)
    return out


def run_readout(layer: QuantReadout, currents, ranges):
    """The readout's state u per step [B, T, classes] (state format)."""
    batch, steps, width = currents.shape
    u = np.zeros((batch, width), np.int64)
    trace = np.zeros((batch, steps, width), np.int64)
    for t in range(steps):
        u = readout_update(u, currents[:, t], layer)
        trace[:, t] = u
        _record(ranges, "u", u, layer.frac_bits)
    return trace


def softmax_totals(u, layer: QuantReadout):
    """The decision accumulators: each step's integer softmax (Q16) added, saturating."""
    total = np.zeros((u.shape[0], u.shape[2]), np.int64)
    for t in range(u.shape[1]):
        total = accumulate_decision(total, u[:, t], layer)
    return total


def state_totals(v, layer: QuantLIF):
    """A non-spiking last layer: its state in Q16 added each step, saturating to int32."""
    total = np.zeros((v.shape[0], v.shape[2]), np.int64)
    for t in range(v.shape[1]):
        total = fx.sat32(total + output_q16(v[:, t], layer.frac_bits))
    return total


# The network outputs from the last layer's per-step output, by its kind's rule (ir.OUTPUT_RULES).
OUTPUT_TOTALS = {"softmax": softmax_totals, "state": state_totals,
                 "spikes": lambda s, layer: np.minimum(s.astype(np.int64).sum(axis=1), fx.INT32_MAX)}


def layer_currents(x, synapses: QuantSynapses):
    """[B, T, in] counts -> [B, T, out] currents in state format (exact int64 accumulation)."""
    delays = None if synapses.delays is None else synapses.delays.T
    acc = synaptic_input(x, synapses.weights.T, delays)
    return input_current(acc, synapses)


def run_layer(layer, x, ranges):
    """One layer on its input [B, T, in] -> its per-step output (see run_hidden / run_readout)."""
    currents = layer_currents(x, layer.synapses)
    _record(ranges, "current", currents, layer.frac_bits)
    if layer.kind == "readout":
        return run_readout(layer, currents, ranges)
    return run_hidden(layer, currents, ranges)


def run_int(network: QuantNetwork, counts) -> RunResult:
    """counts [B, T, n_inputs] -> outputs (Q16 sums or spike counts), decisions, every spiking
    layer's spikes and the last layer's per-step output."""
    x = np.asarray(counts, dtype=np.int64)
    check_event_limit(x, network.layers[0].synapses.max_input_count)
    spikes = []
    ranges = {}
    for name, layer in zip(layer_names(network), network.layers):
        out = run_layer(layer, x, ranges.setdefault(name, {}))
        if LAYER_KINDS[layer.kind].spiking:
            spikes.append(out)
        x = out.astype(np.int64)
    total = OUTPUT_TOTALS[LAYER_KINDS[network.readout.kind].output](x, network.readout)
    return RunResult(engine="int", outputs=total, decisions=decide(total), spikes=tuple(spikes),
                     output_scale=float(network.output_scale), state_ranges=ranges, output_trace=x)

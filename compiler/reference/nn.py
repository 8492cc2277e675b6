"""PyTorch modules with the inference equations of the spec: the one definition of the dynamics.

These modules hold the *raw* parameters (log dt, log decay rates, batch norm) exactly
as the authors' checkpoints store them, and compute in the authors' operation order:
synapses, batch norm, then the neuron loop. They are

* the float32 engine of `silifc infer --engine float32` (bit-for-bit the spikes of the
  authors' forward pass: without delays the synapses are the same `nn.Linear`), and
* the layers that `silifc train` trains (`silifc.train.training`).

Initial state is zero (the authors draw it at random).

Synaptic delays (optional, per layer, `max_delay` > 0). A trained layer holds integer
delays `delays` [out, in] (state-dict key `snn.<i>.delays`) and computes, before batch
norm, exactly what `silifc.reference.synapses.synaptic_input` computes:

    I[b, t, i] = sum_j W[i, j] x[b, t - d[i, j], j]         (x before step 0 is zero)

While delays are learned (`start_delay_learning`), each synapse has a real position
p[i, j] in [0, max_delay] instead, and its weight is spread over the delay axis by a
normalised Gaussian of width sigma centred on p (DCLS, Hammouamri et al., ICLR 2024):

    I[b, t, i] = sum_j W[i, j] sum_d k(d; p[i, j], sigma) x[b, t - d, j],
    k(d; p, sigma) = exp(-(d - p)^2 / (2 sigma^2)) / sum_d' exp(-(d' - p)^2 / (2 sigma^2))

The trainer shrinks sigma during training; `round_delays` then fixes d = round(p) (the
positions disappear from the module) and training goes on with the integer delays.

Quantization-aware training (`weight_bits` = 8 or 16): the weight matrix is replaced in
the forward pass by its per-postsynaptic-neuron symmetric rounding (straight-through
gradient). The compiler quantizes the *folded* weight W~[i, j] = g_i s_i W[i, j] row by
row with scale max_j |W~[i, j]| / qmax; a per-row factor g_i s_i cancels out of that
rounding, so rounding the rows of the raw W simulates exactly the integer weights the
compiler will produce, whatever batch-norm statistics are folded in later.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..ir import LAYER_KINDS, READOUT_ALPHA_MAX, READOUT_ALPHA_MIN, WEIGHT_QMAX


class BoxcarSpike(torch.autograd.Function):
    """Heaviside forward (strict >); gradient 1 where |x| <= 0.5, as the authors train."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > -0.5) & (x <= 0.5)).to(grad.dtype)


spike = BoxcarSpike.apply


def fake_quantize_rows(weight: torch.Tensor, bits: int) -> torch.Tensor:
    """Per-row symmetric rounding to `bits`-bit integers times the row scale max|row| / qmax,
    with a straight-through gradient (the rounding is the identity for backward)."""
    qmax = WEIGHT_QMAX[bits]
    scale = weight.detach().abs().amax(dim=1, keepdim=True) / qmax
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    rounded = torch.clamp(torch.round(weight.detach() / safe), -qmax, qmax) * safe
    return weight + (rounded - weight.detach())


def gaussian_delay_kernel(positions: torch.Tensor, sigma: float, max_delay: int) -> torch.Tensor:
    """[out, in] real positions -> [out, in, max_delay + 1] weights over delays 0..max_delay,
    each synapse's weights summing to 1."""
    taps = torch.arange(max_delay + 1, dtype=positions.dtype, device=positions.device)
    logits = -0.5 * ((taps - positions.unsqueeze(-1)) / sigma) ** 2
    return torch.softmax(logits, dim=-1)


def delayed_synapses(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """x [B, T, in], kernel [out, in, D + 1] (weight of delay d at index d) ->
    I[b, t, i] = sum_{j, d} kernel[i, j, d] x[b, t - d, j]  (zero before step 0)."""
    max_delay = kernel.shape[-1] - 1
    padded = F.pad(x.transpose(1, 2), (max_delay, 0))
    # conv1d correlates: out[t] = sum_k w[k] padded[t + k] = sum_k w[k] x[t + k - D]; k = D - d.
    return F.conv1d(padded, kernel.flip(-1)).transpose(1, 2)


class _SpikingLayer(nn.Module):
    """Synapses (no bias, optional delays) -> BatchNorm over batch x time -> neuron loop -> dropout."""

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0, max_delay: int = 0):
        super().__init__()
        if max_delay < 0:
            raise ValueError(f"max_delay must be >= 0, got {max_delay}")
        self.W = nn.Linear(n_in, n_out, bias=False)
        self.norm = nn.BatchNorm1d(n_out, momentum=0.05)
        self.drop = nn.Dropout(dropout)
        self.max_delay = int(max_delay)
        self.weight_bits: int | None = None       # QAT: fake-quantize W per row to this many bits
        self.delay_pos: nn.Parameter | None = None
        self.sigma = 0.0
        if self.max_delay:
            self.register_buffer("delays", torch.zeros(n_out, n_in, dtype=torch.int64))
        else:
            self.delays = None

    # ------------------------------------------------------------ delays

    @property
    def learning_delays(self) -> bool:
        return self.delay_pos is not None

    def start_delay_learning(self, sigma: float, generator: torch.Generator | None = None) -> None:
        """Give every synapse a learnable real position, drawn uniformly in [0, max_delay]."""
        if not self.max_delay:
            raise ValueError("this layer has no delays (max_delay = 0)")
        positions = torch.rand(self.W.weight.shape, generator=generator) * self.max_delay
        self.delay_pos = nn.Parameter(positions.to(self.W.weight.dtype))
        self.sigma = float(sigma)

    def clamp_delay_positions(self) -> None:
        if self.delay_pos is not None:
            with torch.no_grad():
                self.delay_pos.clamp_(0.0, float(self.max_delay))

    def round_delays(self) -> None:
        """Fix the learned positions to integer delays; training continues on the rounded model."""
        if self.delay_pos is None:
            return
        with torch.no_grad():
            rounded = torch.round(self.delay_pos.clamp(0.0, float(self.max_delay))).to(torch.int64)
            self.delays.copy_(rounded)
        self.delay_pos = None

    # ------------------------------------------------------------ forward

    def weight(self) -> torch.Tensor:
        if self.weight_bits:
            return fake_quantize_rows(self.W.weight, self.weight_bits)
        return self.W.weight

    def synaptic_input(self, x):
        weight = self.weight()
        if not self.max_delay:
            return F.linear(x, weight)              # = self.W(x) when not quantizing
        if self.delay_pos is not None:
            kernel = gaussian_delay_kernel(self.delay_pos, self.sigma, self.max_delay)
        else:
            kernel = F.one_hot(self.delays.clamp(0, self.max_delay), self.max_delay + 1).to(weight.dtype)
        return delayed_synapses(x, weight.unsqueeze(-1) * kernel)

    def input_current(self, x):
        wx = self.synaptic_input(x)
        batch, steps, width = wx.shape
        return self.norm(wx.reshape(batch * steps, width)).reshape(batch, steps, width)

    def forward(self, x):
        return self.drop(self.dynamics(self.input_current(x)))


class SiLIF(_SpikingLayer):
    kind = "silif"

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0, max_delay: int = 0):
        super().__init__(n_in, n_out, dropout, max_delay)
        nn.init.xavier_uniform_(self.W.weight)
        self.dt = nn.Parameter(torch.full((n_out,), math.log(0.004)))
        self.alpha = nn.Parameter(torch.empty(n_out).uniform_(math.log(10.0), math.log(250.0)))
        self.beta = nn.Parameter(torch.empty(n_out).uniform_(math.log(2.5), math.log(10.0)))
        self.a = nn.Parameter(torch.empty(n_out).uniform_(0.0, 1.0))
        self.b = nn.Parameter(torch.empty(n_out).uniform_(0.0, 2.0))

    def dynamics(self, current):
        batch, steps, width = current.shape
        u = current.new_zeros(batch, width)
        w = current.new_zeros(batch, width)
        s = current.new_zeros(batch, width)
        alpha = torch.exp(-torch.exp(self.alpha) * torch.exp(self.dt))
        beta = torch.exp(-torch.exp(self.beta) * torch.exp(self.dt))
        a = self.a.clamp(0.0, 1.0)
        b = self.b.clamp(0.0, 2.0)
        out = []
        for t in range(steps):
            w = beta * w + a * u + b * s                       # adaptation sees the un-reset u
            u = alpha * (u - s) + (1 - alpha) * (current[:, t] - w)   # reset before leak, new w
            s = spike(u - 1.0)
            out.append(s)
        return torch.stack(out, dim=1)


class CSiLIF(_SpikingLayer):
    kind = "csilif"

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0, max_delay: int = 0,
                 dt_min: float = 0.01, dt_max: float = 5.0):
        super().__init__(n_in, n_out, dropout, max_delay)
        self.log_log_alpha = nn.Parameter(torch.full((n_out,), math.log(0.5)))
        self.log_dt = nn.Parameter(torch.rand(n_out) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.alpha_img = nn.Parameter(torch.full((n_out,), math.pi))
        self.b = nn.Parameter(torch.rand(n_out))

    def dynamics(self, current):
        batch, steps, width = current.shape
        z = torch.zeros(batch, width, dtype=torch.complex64 if current.dtype == torch.float32 else torch.complex128,
                        device=current.device)
        s = current.new_zeros(batch, width)
        decay = torch.exp((-torch.exp(self.log_log_alpha) + 1j * self.alpha_img) * torch.exp(self.log_dt))
        out = []
        for t in range(steps):
            z = decay * (z - 0.5 * s) + self.b * current[:, t]  # reset by 0.5 on Re z, before rotation
            s = spike(2 * z.real - 1.0)
            out.append(s)
        return torch.stack(out, dim=1)


class Readout(_SpikingLayer):
    kind = "readout"

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0, max_delay: int = 0):
        super().__init__(n_in, n_out, 0.0, max_delay)   # the authors' readout never applies dropout
        self.alpha = nn.Parameter(torch.empty(n_out).uniform_(READOUT_ALPHA_MIN, READOUT_ALPHA_MAX))

    def forward(self, x, mask=None, framewise: bool = False):
        """Sum over time of the softmax; with mask [B, T] (0/1) only over the marked steps.
        framewise: the mean over the (marked) steps of the log-softmax instead, whose NLL is the
        per-step cross entropy (peaked per-step probabilities, for a streaming detector)."""
        current = self.input_current(x)
        batch, steps, width = current.shape
        u = current.new_zeros(batch, width)
        total = current.new_zeros(batch, width)
        alpha = self.alpha.clamp(READOUT_ALPHA_MIN, READOUT_ALPHA_MAX)
        for t in range(steps):
            u = alpha * u + (1 - alpha) * current[:, t]
            p = torch.log_softmax(u, dim=1) if framewise else torch.softmax(u, dim=1)
            total = total + (p if mask is None else p * mask[:, t, None])
        if framewise:
            return total / (steps if mask is None else mask.sum(dim=1, keepdim=True).clamp(min=1))
        return total


class SNN(nn.Module):
    """Feed-forward spiking layers and a readout; state_dict keys `snn.<i>.*` as the authors'."""

    def __init__(self, layers):
        super().__init__()
        self.snn = nn.ModuleList(layers)

    def forward(self, x, mask=None, framewise: bool = False):
        """x [B, T, in] -> (sum over time of softmax [B, classes], hidden spikes per layer);
        with mask [B, T] the sum runs over the marked steps only (stream training); framewise:
        the mean log-softmax instead (Readout.forward)."""
        spikes = []
        for layer in self.snn[:-1]:
            x = layer(x)
            spikes.append(x)
        return self.snn[-1](x, mask, framewise), spikes

    # ------------------------------------------------------------ training helpers

    def set_weight_bits(self, bits: int | None) -> None:
        """Quantization-aware forward (8 or 16) or plain float weights (None)."""
        if bits is not None and bits not in WEIGHT_QMAX:
            raise ValueError(f"weight bits must be 8 or 16, got {bits}")
        for layer in self.snn:
            layer.weight_bits = bits

    def set_sigma(self, sigma: float) -> None:
        for layer in self.snn:
            if layer.learning_delays:
                layer.sigma = float(sigma)

    def clamp_delay_positions(self) -> None:
        for layer in self.snn:
            layer.clamp_delay_positions()

    def round_delays(self) -> None:
        for layer in self.snn:
            layer.round_delays()

    @property
    def learning_delays(self) -> bool:
        return any(layer.learning_delays for layer in self.snn)

    def inference_state_dict(self) -> dict:
        """The state dict the compiler reads: `snn.<i>.*` tensors, integer delays, no positions.

        Learned delay positions are rounded for the copy (the module is not changed)."""
        state = {}
        for key, value in self.state_dict().items():
            if key.endswith(".delay_pos"):
                continue
            state[key] = value.detach().clone()
        for index, layer in enumerate(self.snn):
            if layer.learning_delays:
                with torch.no_grad():
                    state[f"snn.{index}.delays"] = torch.round(
                        layer.delay_pos.clamp(0.0, float(layer.max_delay))).to(torch.int64)
        return state


_LAYER_CLASSES = {"silif": SiLIF, "csilif": CSiLIF, "readout": Readout}


def make_layer(kind: str, n_in: int, n_out: int, dropout: float = 0.0, max_delay: int = 0) -> _SpikingLayer:
    return _LAYER_CLASSES[kind](n_in, n_out, dropout=dropout, max_delay=max_delay)


def from_network(network, max_delays=None) -> SNN:
    """Torch modules holding the parameters of a raw-IR `Network` (float32), in eval mode.

    `max_delays` (one per layer) sets each layer's delay range; by default the largest
    stored delay of the layer (0, i.e. plain `nn.Linear` synapses, without delays)."""
    layers = []
    for index, layer in enumerate(network.layers):
        n_out, n_in = layer.weight.shape
        stored = 0 if layer.delays is None or not layer.delays.size else int(layer.delays.max())
        max_delay = stored if max_delays is None else max(int(max_delays[index]), stored)
        layers.append(make_layer(layer.kind, n_in, n_out, max_delay=max_delay))
    model = SNN(layers)
    state = {}
    for index, layer in enumerate(network.layers):
        prefix = f"snn.{index}."
        state[prefix + "W.weight"] = layer.weight
        for key, field_name in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean"),
                                ("running_var", "running_var")):
            state[prefix + "norm." + key] = getattr(layer.norm, field_name)
        for key, attr in LAYER_KINDS[layer.kind].params:
            state[prefix + key] = getattr(layer, attr)
    full = model.state_dict()
    for key, value in state.items():
        full[key] = torch.tensor(value, dtype=torch.float32)
    for index, layer in enumerate(network.layers):
        if model.snn[index].max_delay:
            delays = layer.delays if layer.delays is not None else np.zeros(layer.weight.shape, np.int64)
            full[f"snn.{index}.delays"] = torch.tensor(np.array(delays, dtype=np.int64))
    model.load_state_dict(full)
    return model.eval()


def build_module(spec, dropout: float = 0.0) -> SNN:
    """Fresh torch modules for a `ModelSpec` (float32, random init as the authors initialise)."""
    layers = [make_layer(kind, n_in, n_out, dropout=dropout if kind != "readout" else 0.0, max_delay=delay)
              for kind, n_in, n_out, delay in zip(spec.kinds, spec.widths[:-1], spec.widths[1:],
                                                  spec.layer_max_delays)]
    return SNN(layers)


def load_module(path, overrides: dict | None = None):
    """A model file of either format -> (torch `SNN` in eval mode, `ModelSpec`)."""
    from pathlib import Path

    from ..io.checkpoint import file_sha256, read_state_dict
    from ..io.models import load_model
    from ..io.native import is_native, parse_native_spec, spec_of

    path = Path(path)
    obj = read_state_dict(path)
    if is_native(obj):
        network, spec = parse_native_spec(obj, str(path), sha256=file_sha256(path), overrides=overrides)
    else:
        network = load_model(path, overrides)
        spec = spec_of(network)
    return from_network(network, spec.layer_max_delays), spec

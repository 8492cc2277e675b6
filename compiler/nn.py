"""PyTorch modules with the inference equations of the spec (float32, training order).

These modules hold the *raw* parameters (log dt, log decay rates, batch norm) exactly
as the authors' checkpoints store them, and compute in the authors' operation order:
linear, batch norm, then the neuron loop. They are the float32 engine of
`silifc infer --engine float32` (bit-for-bit the spikes of the authors' forward pass) and
the layers that `silifc train` trains. Initial state is zero (the authors draw it at random).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .ir import READOUT_ALPHA_MAX, READOUT_ALPHA_MIN


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


class _SpikingLayer(nn.Module):
    """Linear (no bias) -> BatchNorm over batch x time -> neuron loop -> dropout."""

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0):
        super().__init__()
        self.W = nn.Linear(n_in, n_out, bias=False)
        self.norm = nn.BatchNorm1d(n_out, momentum=0.05)
        self.drop = nn.Dropout(dropout)

    def input_current(self, x):
        wx = self.W(x)
        batch, steps, width = wx.shape
        return self.norm(wx.reshape(batch * steps, width)).reshape(batch, steps, width)

    def forward(self, x):
        return self.drop(self.dynamics(self.input_current(x)))


class SiLIF(_SpikingLayer):
    kind = "silif"

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0):
        super().__init__(n_in, n_out, dropout)
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

    def __init__(self, n_in: int, n_out: int, dropout: float = 0.0, dt_min: float = 0.01, dt_max: float = 5.0):
        super().__init__(n_in, n_out, dropout)
        self.log_log_alpha = nn.Parameter(torch.full((n_out,), math.log(0.5)))
        self.log_dt = nn.Parameter(torch.rand(n_out) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.alpha_img = nn.Parameter(torch.full((n_out,), math.pi))
        self.b = nn.Parameter(torch.rand(n_out))

    def dynamics(self, current):
        batch, steps, width = current.shape
        z = torch.zeros(batch, width, dtype=torch.complex64 if current.dtype == torch.float32 else torch.complex128)
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

    def __init__(self, n_in: int, n_out: int):
        super().__init__(n_in, n_out, 0.0)
        self.alpha = nn.Parameter(torch.empty(n_out).uniform_(READOUT_ALPHA_MIN, READOUT_ALPHA_MAX))

    def forward(self, x):
        current = self.input_current(x)
        batch, steps, width = current.shape
        u = current.new_zeros(batch, width)
        total = current.new_zeros(batch, width)
        alpha = self.alpha.clamp(READOUT_ALPHA_MIN, READOUT_ALPHA_MAX)
        for t in range(steps):
            u = alpha * u + (1 - alpha) * current[:, t]
            total = total + torch.softmax(u, dim=1)
        return total


class SNN(nn.Module):
    """Feed-forward spiking layers and a readout; state_dict keys `snn.<i>.*` as the authors'."""

    def __init__(self, layers):
        super().__init__()
        self.snn = nn.ModuleList(layers)

    def forward(self, x):
        """x [B, T, in] -> (sum over time of softmax [B, classes], hidden spikes per layer)."""
        spikes = []
        for layer in self.snn[:-1]:
            x = layer(x)
            spikes.append(x)
        return self.snn[-1](x), spikes


_LAYER_CLASSES = {"silif": SiLIF, "csilif": CSiLIF, "readout": Readout}


def from_network(network) -> SNN:
    """Torch modules holding the parameters of a raw-IR `Network` (float32)."""
    layers = []
    for layer in network.layers:
        n_out, n_in = layer.weight.shape
        layers.append(_LAYER_CLASSES[layer.kind](n_in, n_out))
    model = SNN(layers)
    state = {}
    names = {"silif": {"dt": "log_dt", "alpha": "log_alpha_rate", "beta": "log_beta_rate", "a": "a", "b": "b"},
             "csilif": {"log_dt": "log_dt", "log_log_alpha": "log_log_alpha", "alpha_img": "alpha_img", "b": "b"},
             "readout": {"alpha": "alpha"}}
    for index, layer in enumerate(network.layers):
        prefix = f"snn.{index}."
        state[prefix + "W.weight"] = layer.weight
        for key, field_name in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean"),
                                ("running_var", "running_var")):
            state[prefix + "norm." + key] = getattr(layer.norm, field_name)
        for key, attr in names[layer.kind].items():
            state[prefix + key] = getattr(layer, attr)
    full = model.state_dict()
    for key, value in state.items():
        full[key] = torch.tensor(value, dtype=torch.float32)
    model.load_state_dict(full)
    return model.eval()

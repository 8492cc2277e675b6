"""The torch modules: surrogate, delays (integer and Gaussian), QAT rounding, agreement with the references."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from silifc.reference import int_ref
from silifc.io.checkpoint import parse_state_dict
from silifc.passes.fold import fold_network
from silifc.reference.float_ref import run_float
from silifc.io.inputs import random_input
from silifc.reference.nn import SNN, CSiLIF, Readout, SiLIF, fake_quantize_rows, from_network, gaussian_delay_kernel, spike
from silifc.passes.quantize import quantize_network, quantize_synapses
from silifc.reference.synapses import synaptic_input
from synthetic import random_state_dict

pytestmark = pytest.mark.unit


def test_boxcar_surrogate():
    x = torch.tensor([-0.7, -0.5, -0.2, 0.0, 0.3, 0.5, 0.6], requires_grad=True)
    out = spike(x)
    assert out.tolist() == [0, 0, 0, 0, 1, 1, 1]                  # strict: 0 does not spike
    out.sum().backward()
    assert x.grad.tolist() == [0, 0, 1, 1, 1, 1, 0]


@pytest.mark.parametrize("cls", [SiLIF, CSiLIF, Readout])
def test_integer_delays_equal_the_reference_synapses(cls):
    torch.manual_seed(0)
    layer = cls(7, 5, max_delay=6).double()
    layer.delays.copy_(torch.randint(0, 7, (5, 7)))
    x = torch.randint(0, 3, (3, 20, 7)).double()
    got = layer.synaptic_input(x).detach().numpy()
    want = synaptic_input(x.numpy(), layer.W.weight.detach().numpy(), layer.delays.numpy())
    assert np.abs(got - want).max() < 1e-12
    assert np.abs(got - x.numpy() @ layer.W.weight.detach().numpy().T).max() > 1e-3   # delays do something


def test_gaussian_kernel():
    positions = torch.tensor([[0.0, 2.5, 6.0]])
    kernel = gaussian_delay_kernel(positions, 1.0, 6)
    assert torch.allclose(kernel.sum(-1), torch.ones(1, 3))
    assert abs(float((kernel[0, 1] * torch.arange(7.0)).sum()) - 2.5) < 0.01     # centred on the position
    sharp = gaussian_delay_kernel(positions.round(), 0.05, 6)
    assert torch.equal(sharp.argmax(-1), positions.round().long()) and float(sharp.max(-1).values.min()) > 0.999


def test_small_sigma_positions_equal_rounded_delays():
    torch.manual_seed(1)
    layer = SiLIF(6, 4, max_delay=5).double()
    layer.start_delay_learning(0.05)
    with torch.no_grad():
        layer.delay_pos.copy_(torch.randint(0, 6, (4, 6)).double())
    x = torch.randint(0, 2, (2, 15, 6)).double()
    learned = layer.synaptic_input(x)
    layer.round_delays()
    assert torch.allclose(learned, layer.synaptic_input(x), atol=1e-9)


def test_positions_get_gradients_and_round_within_range():
    torch.manual_seed(2)
    model = SNN([SiLIF(6, 8, max_delay=4), Readout(8, 3, max_delay=4)])
    generator = torch.Generator().manual_seed(0)
    for layer in model.snn:
        layer.start_delay_learning(2.0, generator)
    with torch.no_grad():
        model.snn[0].norm.bias.fill_(1.5)     # make the hidden layer fire
    out, spikes = model(torch.randint(0, 4, (4, 30, 6)).float())
    assert spikes[0].sum() > 0
    out[:, 0].sum().backward()                # (the sum over classes is constant: softmax)
    for layer in model.snn:
        assert layer.delay_pos.grad is not None and layer.delay_pos.grad.abs().sum() > 0
    with torch.no_grad():
        model.snn[0].delay_pos[0, 0] = -3.0
        model.snn[0].delay_pos[1, 1] = 9.0
        model.snn[0].delay_pos[2, 2] = 1.4
    model.clamp_delay_positions()
    positions = model.snn[0].delay_pos.detach()
    assert float(positions.min()) >= 0 and float(positions.max()) <= 4
    state = model.inference_state_dict()
    assert not any(k.endswith("delay_pos") for k in state)
    model.round_delays()
    delays = model.snn[0].delays
    assert delays.dtype == torch.int64 and int(delays.min()) >= 0 and int(delays.max()) <= 4
    assert (delays[0, 0], delays[1, 1], delays[2, 2]) == (0, 4, 1)
    assert torch.equal(state["snn.0.delays"], delays)
    assert not model.learning_delays and "snn.0.delay_pos" not in model.state_dict()


def test_fake_quantization_matches_the_compilers_integer_weights():
    """Rounding the rows of the raw W gives the quantizer's integers for the folded W~ = g s W
    (the per-row factor g s cancels, up to its sign), except that the compiler rounds the row
    scale up to a whole number of state LSBs (mult): codes differ by at most qmax / mult + 1."""
    network = parse_state_dict(random_state_dict((20, 16, 5), ("silif",), seed=4))
    folded = fold_network(network)
    for raw, fold in zip(network.layers, folded.layers):
        weight = torch.tensor(raw.weight)
        for bits, qmax in ((8, 127), (16, 32767)):
            fake = fake_quantize_rows(weight, bits)
            codes = torch.round(fake / (weight.abs().amax(1, keepdim=True) / qmax)).numpy().astype(np.int64)
            synapses = quantize_synapses(fold.weight, fold.bias, None, 28, bits, "layer")
            sign = np.sign(fold.weight[:, :1] / raw.weight[:, :1]).astype(np.int64)
            allowed = qmax // synapses.mult + 1
            assert (np.abs(codes * sign - synapses.weights.T) <= allowed[:, None]).all()
            if bits == 8:
                assert np.array_equal(codes * sign, synapses.weights.T)


def test_fake_quantization_straight_through():
    weight = torch.randn(4, 6, requires_grad=True)
    out = fake_quantize_rows(weight, 8)
    assert not torch.equal(out, weight) and (out - weight).abs().max() <= weight.abs().max() / 127
    (out * torch.arange(6.0)).sum().backward()
    assert torch.equal(weight.grad, torch.arange(6.0).expand(4, 6))


def _spikes(model, counts, dtype=torch.float64):
    model = model.to(dtype).eval()
    with torch.no_grad():
        out, spikes = model(torch.as_tensor(counts, dtype=dtype))
    return out.numpy(), [s.numpy().astype(np.uint8) for s in spikes]


@pytest.mark.parametrize("kinds", [("silif", "silif"), ("csilif", "silif")])
def test_module_equals_float64_reference_with_delays(kinds):
    """One definition of the dynamics: the torch modules (float64) and the float64 reference
    over folded constants agree spike for spike, delays included."""
    network = parse_state_dict(random_state_dict((12, 16, 10, 4), kinds, seed=6, max_delay=5))
    counts = random_input(12, 6, 40, 0.15, 1, seed=3)
    out, spikes = _spikes(from_network(network), counts)
    reference = run_float(fold_network(network), counts)
    assert sum(s.sum() for s in spikes) > 100                        # the layers are active
    for got, want in zip(spikes, reference.spikes):
        assert np.array_equal(got, want)
    assert np.abs(out - reference.outputs).max() < 1e-9


def test_qat_forward_predicts_the_integer_reference():
    """The int8-simulating forward is much closer to the integer reference than the float forward:
    weight rounding is what int8 changes; states, decays and biases (31-bit) barely matter."""
    network = parse_state_dict(random_state_dict((24, 32, 6), ("silif",), seed=8))
    counts = random_input(24, 16, 60, 0.15, 1, seed=9)
    quantized = quantize_network(fold_network(network), counts, 8)
    integer = int_ref.run_int(quantized, counts).spikes[0]
    model = from_network(network)
    _, plain = _spikes(model, counts)
    model.set_weight_bits(8)
    _, simulated = _spikes(model, counts)
    float_flips = (plain[0] != integer).mean()
    simulated_flips = (simulated[0] != integer).mean()
    assert float_flips > 1e-3
    assert simulated_flips < 0.2 * float_flips

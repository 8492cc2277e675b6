"""Small networks built, simulated and exported by real NIR producers (test-only: installed by
scripts/setup.sh from tests/requirements-nir.txt). Each builder returns
(graph file, the producer's spikes per spiking layer [B, T, N], the producer's last-layer
output [B, T, N]) for a fixed input of event counts [B, T, C].

Used by tests/test_nir_*.py and bench/nir_roundtrip.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

B, T = 6, 80                        # samples, steps of the fixed input
N_IN, N_HIDDEN, N_OUT = 12, 16, 5


def load_folded(path, dialect=None, dt=None):
    """A NIR graph as silifc runs it: loaded (dialect and dt as options would give them) and folded."""
    from silifc.io.models import load_model
    from silifc.passes.fold import fold_network

    return fold_network(load_model(path, {"nir_dialect": dialect, "nir_dt": dt}))


def fixed_input(seed: int = 0, samples: int = B, steps: int = T, n_in: int = N_IN, rate: float = 0.25):
    """Seeded Bernoulli event counts [samples, steps, n_in] (0/1, a few 2s)."""
    rng = np.random.default_rng(seed)
    counts = (rng.random((samples, steps, n_in)) < rate).astype(np.int64)
    counts += (rng.random((samples, steps, n_in)) < rate / 10).astype(np.int64)
    return counts


def _torch():
    import torch

    torch.manual_seed(0)
    return torch


def _scaled_linear(torch, n_in, n_out, gain, bias=True):
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        layer.weight.mul_(gain)
        if bias:
            layer.bias.mul_(0.2)
    return layer


def _record_outputs(modules, names):
    """Forward hooks that collect each module's first output per call."""
    records = {name: [] for name in names}

    def hook(name):
        def store(module, inputs, output):
            value = output[0] if isinstance(output, tuple) else output
            records[name].append(value.detach().numpy().astype(np.float64).copy())
        return store

    handles = [module.register_forward_hook(hook(name)) for module, name in zip(modules, names)]
    return records, handles


def _stack(records, names):
    return [np.stack(records[name], axis=1) for name in names]


# ---------------------------------------------------------------- snnTorch

def snntorch_network(kind: str, directory: Path, counts: np.ndarray):
    """kind: 'leaky' (Linear-Leaky-Linear-Leaky), 'synaptic' (Synaptic layers: CubaLIF),
    'recurrent' (Linear-RLeaky-Linear-Leaky), 'rsynaptic' (Linear-RSynaptic-Linear-Synaptic)."""
    torch = _torch()
    import nir
    import snntorch as snn
    from snntorch import utils as snn_utils
    from snntorch.export_nir import export_to_nir

    rng = torch.Generator().manual_seed(1)

    def betas(n, low=0.6, high=0.95):
        return low + (high - low) * torch.rand(n, generator=rng)

    def ones(n, value=1.0):
        return torch.full((n,), value)

    h, o = N_HIDDEN, N_OUT
    # snnTorch's exporter needs per-neuron tensors (scalar beta/threshold give shapeless NIR nodes).
    if kind == "leaky":
        first = snn.Leaky(beta=betas(h), threshold=ones(h), init_hidden=True)
        second = snn.Leaky(beta=betas(o), threshold=ones(o, 0.8), init_hidden=True, output=True)
    elif kind == "synaptic":
        first = snn.Synaptic(alpha=betas(h, 0.5, 0.9), beta=betas(h), threshold=ones(h, 1.5), init_hidden=True)
        second = snn.Synaptic(alpha=betas(o, 0.5, 0.9), beta=betas(o), threshold=ones(o, 2.0), init_hidden=True,
                              output=True)
    elif kind == "recurrent":
        first = snn.RLeaky(beta=betas(h), threshold=ones(h), linear_features=h, init_hidden=True)
        second = snn.Leaky(beta=betas(o), threshold=ones(o, 0.8), init_hidden=True, output=True)
    elif kind == "rsynaptic":
        first = snn.RSynaptic(alpha=betas(h, 0.5, 0.9), beta=betas(h), threshold=ones(h, 1.5), linear_features=h,
                              init_hidden=True)
        second = snn.Synaptic(alpha=betas(o, 0.5, 0.9), beta=betas(o), threshold=ones(o, 2.0), init_hidden=True,
                              output=True)
    else:
        raise ValueError(kind)
    if kind in ("recurrent", "rsynaptic"):
        with torch.no_grad():
            first.recurrent.weight.mul_(2.0)
    net = torch.nn.Sequential(_scaled_linear(torch, N_IN, h, 2.5), first, _scaled_linear(torch, h, o, 2.0), second)
    records, handles = _record_outputs([first, second], ["first", "second"])
    snn_utils.reset(net)
    with torch.no_grad():
        for t in range(counts.shape[1]):
            net(torch.tensor(counts[:, t], dtype=torch.float32))
    for handle in handles:
        handle.remove()
    spikes = _stack(records, ["first", "second"])
    snn_utils.reset(net)
    graph = export_to_nir(net, torch.zeros(1, N_IN), ignore_dims=[0])
    path = Path(directory) / f"snntorch_{kind}.nir"
    nir.write(path, graph)
    return path, spikes, spikes[-1]


# ---------------------------------------------------------------- Norse

def _norse_numpy_graph(graph):
    """Norse 1.1's exporter leaves torch tensors in the nodes; nir.write needs numpy arrays."""
    import torch

    for node in graph.nodes.values():
        for key, value in list(vars(node).items()):
            if isinstance(value, torch.Tensor):
                setattr(node, key, value.detach().numpy())
    return graph


def norse_network(kind: str, directory: Path, counts: np.ndarray):
    """kind: 'lifbox' (Linear-LIFBoxCell-Linear-LIFBoxCell), 'cuba' (Linear-LIFCell-Linear-LIBoxCell:
    CubaLIF with an LI readout), 'iaf' (Linear-IAFCell-Linear-LIFBoxCell), 'recurrent'
    (LIFRecurrentCell-Linear-LIFCell; see below)."""
    torch = _torch()
    import nir
    import norse.torch as norse
    from norse.torch.functional.iaf import IAFParameters
    from norse.torch.functional.leaky_integrator_box import LIBoxParameters
    from norse.torch.functional.lif import LIFParameters
    from norse.torch.functional.lif_box import LIFBoxParameters

    rng = torch.Generator().manual_seed(2)

    def rates(n, low, high):
        return low + (high - low) * torch.rand(n, generator=rng)

    def full(n, value):
        return torch.full((n,), float(value))

    h, o = N_HIDDEN, N_OUT
    # Per-neuron tensors: with Norse's scalar defaults its exporter writes shapeless nodes.
    def lifbox(n, th):
        return norse.LIFBoxCell(LIFBoxParameters(tau_mem_inv=rates(n, 50, 200), v_th=full(n, th),
                                                 v_leak=full(n, 0), v_reset=full(n, 0)))

    def lif(n, th):
        return norse.LIFCell(LIFParameters(tau_syn_inv=rates(n, 100, 300), tau_mem_inv=rates(n, 50, 200),
                                           v_th=full(n, th), v_leak=full(n, 0), v_reset=full(n, 0)))

    if kind == "lifbox":
        cells = [lifbox(h, 0.3), lifbox(o, 0.2)]
        gains = (5.0, 5.0)
    elif kind == "cuba":
        cells = [lif(h, 0.3), norse.LIBoxCell(LIBoxParameters(tau_mem_inv=rates(o, 50, 200), v_leak=full(o, 0)))]
        gains = (4.0, 3.0)
    elif kind == "iaf":
        cells = [norse.IAFCell(IAFParameters(v_th=full(h, 1.0), v_reset=full(h, 0.0))), lifbox(o, 0.2)]
        gains = (1.5, 6.0)
    elif kind == "recurrent":
        return _norse_recurrent(torch, norse, nir, lif, directory, counts)
    else:
        raise ValueError(kind)
    model = norse.SequentialState(_scaled_linear(torch, N_IN, h, gains[0]), cells[0],
                                  _scaled_linear(torch, h, o, gains[1]), cells[1])
    records, handles = _record_outputs(cells, ["first", "second"])
    state = None
    with torch.no_grad():
        for t in range(counts.shape[1]):
            _, state = model(torch.tensor(counts[:, t], dtype=torch.float32), state)
    for handle in handles:
        handle.remove()
    outputs = _stack(records, ["first", "second"])
    spikes = outputs if kind != "cuba" else outputs[:1]
    graph = _norse_numpy_graph(norse.to_nir(model, torch.zeros(1, N_IN)))
    path = Path(directory) / f"norse_{kind}.nir"
    nir.write(path, graph)
    return path, spikes, outputs[-1]


def _norse_recurrent(torch, norse, nir, lif, directory, counts):
    """Norse's LIFRecurrentCell (input and recurrent weights, no autapses) then Linear-LIFCell.

    Norse 1.1 cannot export LIFRecurrentCell (its to_nir skips it), so the graph is Norse's own
    export of the same network with a LIFCell in its place, plus the recurrent Linear node and
    its two edges added with the `nir` package; the spikes compared are those of Norse's
    LIFRecurrentCell."""
    from norse.torch.functional.lif import LIFParameters

    h, o = N_HIDDEN, N_OUT
    g = torch.Generator().manual_seed(3)
    tau_syn_inv = 100 + 200 * torch.rand(h, generator=g)
    tau_mem_inv = 50 + 150 * torch.rand(h, generator=g)
    # LIFRecurrentCell's initial state needs scalar v_leak; the exported stand-in needs vectors.
    recurrent_cell = norse.LIFRecurrentCell(N_IN, h, p=LIFParameters(
        tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_th=torch.tensor(0.3), v_leak=torch.tensor(0.0),
        v_reset=torch.tensor(0.0)), autapses=False)
    params = LIFParameters(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_th=torch.full((h,), 0.3),
                           v_leak=torch.zeros(h), v_reset=torch.zeros(h))
    with torch.no_grad():
        recurrent_cell.input_weights.mul_(4.0)
        recurrent_cell.recurrent_weights.mul_(2.0)
    readout = _scaled_linear(torch, h, o, 4.0)
    second = lif(o, 0.3)
    first_spikes, second_spikes = [], []
    s1 = s2 = None
    with torch.no_grad():
        for t in range(counts.shape[1]):
            z1, s1 = recurrent_cell(torch.tensor(counts[:, t], dtype=torch.float32), s1)
            z2, s2 = second(readout(z1), s2)
            first_spikes.append(z1.numpy().astype(np.float64))
            second_spikes.append(z2.numpy().astype(np.float64))
    # Norse's export of the same layers, the recurrent cell as a feed-forward LIFCell.
    feed = torch.nn.Linear(N_IN, h, bias=False)
    with torch.no_grad():
        feed.weight.copy_(recurrent_cell.input_weights)
    stand_in = norse.LIFCell(params)
    model = norse.SequentialState(feed, stand_in, readout, second)
    graph = _norse_numpy_graph(norse.to_nir(model, torch.zeros(1, N_IN)))
    cell_name = [name for name, node in graph.nodes.items() if isinstance(node, nir.CubaLIF)][0]
    rec = recurrent_cell.recurrent_weights.detach().numpy().copy()
    graph.nodes["recurrent"] = nir.Linear(weight=rec)
    graph.edges += [(cell_name, "recurrent"), ("recurrent", cell_name)]
    path = Path(directory) / "norse_recurrent.nir"
    nir.write(path, graph)
    spikes = [np.stack(first_spikes, axis=1), np.stack(second_spikes, axis=1)]
    return path, spikes, spikes[-1]

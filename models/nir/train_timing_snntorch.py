#!/usr/bin/env python3
"""Train the snnTorch model shipped as timing_snntorch.nir on silifc's timing task, export it.

    .venv/bin/python models/nir/train_timing_snntorch.py [--out models/nir] [--epochs 30]

The network is plain snnTorch 1.0 (test-only dependency, tests/requirements-nir.txt):
Linear(32 -> 48) -> Synaptic (CubaLIF) -> Linear(48 -> 8) -> Leaky (LIF), trained with
backpropagation through time on the spike counts of the last layer (cross entropy on
0.25 x counts; the class is the neuron that spikes most, the lowest index on ties, as
silifc's decision). The task (silifc.train.tasks.TimingTask(), default sizes: 32 inputs in
4 groups, 64 steps, 8 classes that differ only in the relative timing of the groups' bursts)
has no class information in spike counts; a CubaLIF neuron's response to a burst rises and
falls again (two decays), so neurons tuned to an interval can detect it. Decays and
thresholds are learned per neuron; decays are kept in [0, 0.999] after every step so that
snnTorch's clamp in the forward pass and its exporter (tau = dt / (1 - beta)) describe the
same network. Synaptic feeds its input into the current without a (1 - alpha) gain, so the
first weights start at 0.3 x PyTorch's default; gradients are clipped to norm 1 (BPTT over
64 steps of two integrators explodes otherwise). A recurrent RSynaptic layer did not learn
in this budget (chance level after 8 epochs).

Writes, into --out: timing_snntorch.nir (snnTorch's own NIR export, with silifc's dialect
metadata `dialect = snntorch`, `dt = 1e-4` added to the graph), timing_snntorch.pt (the
state dict, so tests can rerun the network in snnTorch) and timing_snntorch.json (the
settings and test accuracy). CPU only, one thread; a few minutes.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HIDDEN = 48
SEED = 0
FIRST_WEIGHT_SCALE = 0.3


def build_network(n_inputs: int, n_classes: int, hidden: int = HIDDEN):
    """The snnTorch network, with per-neuron parameters (snnTorch's exporter needs tensors)."""
    import snntorch as snn
    import torch

    generator = torch.Generator().manual_seed(SEED)

    def uniform(n, low, high):
        return low + (high - low) * torch.rand(n, generator=generator)

    torch.manual_seed(SEED)
    first = torch.nn.Linear(n_inputs, hidden)
    with torch.no_grad():
        first.weight.mul_(FIRST_WEIGHT_SCALE)
        first.bias.mul_(FIRST_WEIGHT_SCALE)
    synaptic = snn.Synaptic(alpha=uniform(hidden, 0.6, 0.95), beta=uniform(hidden, 0.6, 0.95),
                            threshold=torch.ones(hidden), learn_alpha=True, learn_beta=True, learn_threshold=True,
                            init_hidden=True)
    readout = snn.Leaky(beta=uniform(n_classes, 0.8, 0.95), threshold=torch.ones(n_classes), learn_beta=True,
                        learn_threshold=True, init_hidden=True, output=True)
    return torch.nn.Sequential(first, synaptic, torch.nn.Linear(hidden, n_classes), readout)


def run(network, counts):
    """counts [B, T, C] -> (spike counts of the last layer [B, classes], hidden spikes [B, T, H],
    output spikes [B, T, classes]); the network's state starts at zero."""
    import torch
    from snntorch import utils

    utils.reset(network)                           # membranes and currents to zero, off the graph
    hidden_spikes, out_spikes = [], []
    store = network[1].register_forward_hook(
        lambda module, inputs, output: hidden_spikes.append(output[0] if isinstance(output, tuple) else output))
    x = torch.as_tensor(np.asarray(counts), dtype=torch.float32)
    for t in range(x.shape[1]):
        spikes, _ = network(x[:, t])
        out_spikes.append(spikes)
    store.remove()
    out = torch.stack(out_spikes, dim=1)
    return out.sum(dim=1), torch.stack(hidden_spikes, dim=1), out


def clamp_decays(network) -> None:
    import torch

    with torch.no_grad():
        for module in network:
            for name in ("alpha", "beta"):
                value = getattr(module, name, None)
                if isinstance(value, torch.Tensor):
                    value.clamp_(0.0, 0.999)
            threshold = getattr(module, "threshold", None)
            if isinstance(threshold, torch.Tensor):
                threshold.clamp_(min=0.05)


def accuracy(network, counts, labels, batch: int = 200) -> float:
    import torch

    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch):
            totals, _, _ = run(network, counts[start:start + batch])
            correct += int((totals.argmax(dim=1).numpy() == labels[start:start + batch]).sum())
    return correct / len(labels)


def export(network, n_inputs: int, path: Path) -> None:
    """snnTorch's NIR export, plus the metadata silifc reads the dialect and step from."""
    import nir
    import torch
    from snntorch.export_nir import export_to_nir
    from snntorch import utils

    utils.reset(network)
    graph = export_to_nir(network, torch.zeros(1, n_inputs), ignore_dims=[0])
    graph.metadata = {"dialect": "snntorch", "dt": 1e-4,
                      "producer": "snntorch 1.0.0 (models/nir/train_timing_snntorch.py)"}
    nir.write(path, graph)


def main(argv=None) -> int:
    import torch

    from silifc.train.tasks import TimingTask, make_timing_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--logit-scale", type=float, default=0.25,
                        help="cross entropy on spike counts x this (counts reach the step count)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    task = TimingTask()
    train_x, train_y, test_x, test_y = make_timing_task(task)
    network = build_network(task.n_inputs, task.n_classes)
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = np.random.default_rng(SEED)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        permutation = order.permutation(len(train_y))
        total = 0.0
        for start in range(0, len(train_y), args.batch):
            index = permutation[start:start + args.batch]
            totals, _, _ = run(network, train_x[index])
            loss = loss_fn(args.logit_scale * totals, torch.as_tensor(train_y[index]))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            clamp_decays(network)
            total += float(loss) * len(index)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(train_y):.4f}, "
              f"test accuracy {100 * accuracy(network, test_x, test_y):.2f} % ({time.perf_counter() - started:.0f} s)",
              flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    export(network, task.n_inputs, out / "timing_snntorch.nir")
    torch.save(network.state_dict(), out / "timing_snntorch.pt")
    test_accuracy = accuracy(network, test_x, test_y)
    (out / "timing_snntorch.json").write_text(json.dumps({
        "task": "silifc.train.tasks.TimingTask() (defaults)", "hidden": HIDDEN, "seed": SEED, "epochs": args.epochs,
        "batch": args.batch, "lr": args.lr, "logit_scale": args.logit_scale, "first_weight_scale": FIRST_WEIGHT_SCALE,
        "grad_clip_norm": 1.0, "snntorch_test_accuracy": test_accuracy,
        "train_seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(f"wrote {out / 'timing_snntorch.nir'}: snnTorch test accuracy {100 * test_accuracy:.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

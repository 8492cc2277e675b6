"""Write a silifc model as a NIR graph (`silifc export MODEL --nir out.nir`).

NIR can express the LIF family (LIF, CubaLIF, IF, LI, CubaLI, I) with their synapses,
per-synapse delays and recurrent connections: each layer becomes, in this order,
    an Affine with the weights of delay 0 and the bias,
    per other delay d a Linear with the weights of delay d, then a Delay of d * dt seconds,
    the neuron node with its parameters as silifc read them (NIR's names and units),
    for a recurrent layer a Linear from the neuron back into it.
The graph's metadata carries the dialect and the step (`dialect`, `dt`), so that silifc
reads the file back as the same network; a producer reading it must apply that dialect's
discretization (docs/nir.md).

SiLIF, C-SiLIF and the SiLIF readout are refused: NIR has no node for their dynamics
(NON_NIR_DYNAMICS says which part, per kind), and an approximation would run a different
network.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import NIRError
from ...ir import LAYER_KINDS, LIF_KINDS, LIFLayer, Network
from ...version import __version__
from .graph import write_nir
from .lower import NODE_TYPES

# Why a layer kind cannot be written as NIR nodes.
NON_NIR_DYNAMICS = {
    "silif": "its adaptation current w (w <- beta w + a u + b s, subtracted from the membrane u) is driven by the "
             "membrane and by the neuron's own spikes; NIR's neurons (LIF, CubaLIF, IF) have a membrane and at most "
             "an input-driven synaptic current, nothing fed back from the membrane or the spikes",
    "csilif": "its membrane is complex (z <- exp((-a + i w) dt) z + I: a damped oscillation, reset on Re z); NIR's "
              "neurons decay with one real time constant tau",
    "readout": "it adds the softmax of its leaky membrane at every step into the output; NIR has the LI membrane but "
               "no softmax, so an exported LI would output different numbers and decisions",
}


def check_exportable(network: Network) -> None:
    """Refuse a network with a layer NIR cannot express, naming the layer and the dynamics."""
    for index, layer in enumerate(network.layers):
        if layer.kind not in LIF_KINDS:
            what = "the readout" if layer.kind == "readout" else f"layer {index} ({LAYER_KINDS[layer.kind].title})"
            raise NIRError(f"{network.source or 'the model'}: NIR cannot express {what}: {NON_NIR_DYNAMICS[layer.kind]}. "
                           f"silifc exports LIF-family models ({', '.join(NODE_TYPES.values())}, with delays and "
                           "recurrence), e.g. one imported from NIR")


def _node_name(layer: LIFLayer, index: int, taken: set) -> str:
    name = (layer.name or f"layer{index}").replace("/", "_")
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _layer_nodes(layer: LIFLayer, name: str, source: str, dt: float, nodes: dict, edges: list) -> None:
    delays = np.zeros(layer.weight.shape, np.int64) if layer.delays is None else np.asarray(layer.delays)
    for delay in sorted(set(np.unique(delays).tolist()) | {0}):
        weight = np.where(delays == delay, layer.weight, 0.0)
        if delay == 0:
            nodes[f"{name}_affine"] = {"type": "Affine", "weight": weight, "bias": np.asarray(layer.bias)}
            edges += [(source, f"{name}_affine"), (f"{name}_affine", name)]
            continue
        linear, line = f"{name}_linear_d{delay}", f"{name}_delay_d{delay}"
        nodes[linear] = {"type": "Linear", "weight": weight}
        nodes[line] = {"type": "Delay", "delay": np.full(weight.shape[0], delay * dt)}
        edges += [(source, linear), (linear, line), (line, name)]
    nodes[name] = {"type": NODE_TYPES[layer.kind], **{key: np.asarray(value) for key, value in layer.params.items()}}
    if layer.recurrent is not None:
        nodes[f"{name}_recurrent"] = {"type": "Linear", "weight": np.asarray(layer.recurrent)}
        edges += [(name, f"{name}_recurrent"), (f"{name}_recurrent", name)]


def export_nir(network: Network, path: str | Path) -> Path:
    """Write `network` (LIF-family layers only; see the module docstring) to `path`."""
    check_exportable(network)
    config = network.config
    if not config.nir_dialect or not config.nir_dt:
        raise NIRError(f"{network.source or 'the model'}: its config names no NIR dialect and step (nir_dialect, "
                       "nir_dt): the exported time constants would mean nothing")
    nodes = {"input": {"type": "Input", "shape": np.array([network.n_inputs])}}
    edges: list = []
    source, taken = "input", {"input", "output"}
    for index, layer in enumerate(network.layers):
        name = _node_name(layer, index, taken)
        _layer_nodes(layer, name, source, config.nir_dt, nodes, edges)
        source = name
    nodes["output"] = {"type": "Output", "shape": np.array([network.n_classes])}
    edges.append((source, "output"))
    metadata = {"dialect": config.nir_dialect, "dt": float(config.nir_dt), "producer": f"silifc {__version__}"}
    return write_nir(path, nodes, edges, metadata)

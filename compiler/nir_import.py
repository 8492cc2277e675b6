"""Import a NIR graph (NIR's HDF5 serialization, `.nir`) into a SpikingNetwork.

The file is read with h5py (no `nir` package needed): `version`, then `node`, a graph
group with `type` = "NIRGraph", `nodes` (one group per node: `type` plus its parameter
datasets, optional `metadata`) and `edges` (pairs of node names). Nested graphs (as
snnTorch writes recurrent layers) are flattened first.

Lowering:
 1. Every node is classified: Input, Output, a neuron (LIF, CubaLIF, LI, CubaLI, IF, I) or
    a linear node (Affine, Linear, Scale, Delay, Flatten, Identity, Conv1d). Anything else is
    refused, naming the node, its type and what is supported.
 2. For each neuron and the Output, the linear nodes between it and its sources (the Input
    or neurons) are composed into one map per source: a weight matrix per delay plus a bias.
    Several edges into one node add up, as NIR defines.
 3. The neurons must form a chain: the first takes the Input, each next one the previous
    one's output, and a neuron may also take its own output (recurrence: the previous
    step's spikes). The Output takes the last neuron's output unchanged.
 4. A map becomes weights [out, in] and per-synapse delays: each synapse must carry its
    weight at one delay only (the runtime stores one delay per synapse).
 5. The dialect (compiler/nir_dialects.py) turns each neuron's parameters into discrete
    constants; the input gain is folded into the weights and the bias.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checkpoint import file_sha256
from .ir import ModelConfig
from .nir_dialects import DIALECTS, NIRError, get_dialect
from .spiking_ir import KIND_TITLES, Population, SpikingNetwork

NEURON_TYPES = {"LIF": "lif", "CubaLIF": "cubalif", "IF": "if", "LI": "li", "CubaLI": "cubali", "I": "i"}
LINEAR_TYPES = ("Affine", "Linear", "Scale", "Delay", "Flatten", "Identity", "Conv1d")
IO_TYPES = ("Input", "Output")
SUPPORTED_TYPES = IO_TYPES + tuple(NEURON_TYPES) + LINEAR_TYPES
NEURON_PARAMS = {
    "lif": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "li": ("tau", "r", "v_leak"),
    "cubalif": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "cubali": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "if": ("r", "v_threshold", "v_reset"),
    "i": ("r",),
}
PARAM_DEFAULTS = {"v_reset": 0.0, "w_in": 1.0}
DELAY_TOLERANCE = 1e-6            # a Delay must be a whole number of steps within this (relative)


@dataclass
class NIRNode:
    name: str
    type: str
    params: dict
    metadata: dict = field(default_factory=dict)


@dataclass
class NIRFile:
    """A NIR file's graph, flattened: nodes by name, edges (source, target), graph metadata."""

    nodes: dict
    edges: list
    metadata: dict
    version: str
    path: str = "<nir graph>"


# ---------------------------------------------------------------- reading

def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _read_group(group) -> dict:
    import h5py

    out = {}
    for key, item in group.items():
        out[key] = _read_group(item) if isinstance(item, h5py.Group) else item[()]
    return out


def _metadata(raw: dict) -> dict:
    return {key: (_text(value) if isinstance(value, (bytes, np.bytes_)) else value)
            for key, value in raw.get("metadata", {}).items()} if isinstance(raw.get("metadata"), dict) else {}


def _flatten(raw: dict, prefix: str, nodes: dict, edges: list, where: str) -> tuple[list, list]:
    """Adds the nodes and edges of graph `raw` (names prefixed) to nodes/edges; returns the
    full names of its Input and Output nodes. A nested graph's Input/Output become
    pass-through (Identity) nodes of the outer graph."""
    if "nodes" not in raw or "edges" not in raw:
        raise NIRError(f"{where}: graph {prefix or '<top>'!r} lacks 'nodes' or 'edges'")
    inner_inputs, inner_outputs, level_inputs, level_outputs = {}, {}, [], []
    for name, node in raw["nodes"].items():
        if not isinstance(node, dict) or "type" not in node:
            raise NIRError(f"{where}: node {prefix + name!r} has no 'type'")
        full = prefix + name
        kind = _text(node["type"])
        if kind == "NIRGraph":
            inner_inputs[name], inner_outputs[name] = _flatten(node, full + ".", nodes, edges, where)
            continue
        params = {key: value for key, value in node.items() if key not in ("type", "metadata")}
        if prefix and kind in IO_TYPES:
            params, kind = {}, "Identity"
            (level_inputs if _text(node["type"]) == "Input" else level_outputs).append(full)
        elif kind == "Input":
            level_inputs.append(full)
        elif kind == "Output":
            level_outputs.append(full)
        nodes[full] = NIRNode(full, kind, params, _metadata(node))
    raw_edges = np.asarray(raw["edges"])
    if raw_edges.size and (raw_edges.ndim != 2 or raw_edges.shape[1] != 2):
        raise NIRError(f"{where}: edges of graph {prefix or '<top>'!r} are not (source, target) pairs")
    for source, target in raw_edges.reshape(-1, 2):
        source, target = _text(source), _text(target)
        sources = inner_outputs.get(source, [prefix + source])
        targets = inner_inputs.get(target, [prefix + target])
        edges.extend((s, t) for s in sources for t in targets)
    return level_inputs, level_outputs


def read_nir(path: str | Path) -> NIRFile:
    import h5py

    path = Path(path)
    if not path.exists():
        raise NIRError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as handle:
            if "node" not in handle:
                raise NIRError(f"{path}: not a NIR file (no 'node' group; NIR's HDF5 layout has 'version' and 'node')")
            version = _text(handle["version"][()]) if "version" in handle else "unknown"
            raw = _read_group(handle["node"])
    except OSError as exc:
        raise NIRError(f"{path}: not a readable HDF5 file ({exc})") from None
    if _text(raw.get("type", b"")) != "NIRGraph":
        raise NIRError(f"{path}: the top node is a {_text(raw.get('type', b'?'))}, not a NIRGraph")
    nodes, edges = {}, []
    _flatten(raw, "", nodes, edges, str(path))
    return NIRFile(nodes=nodes, edges=edges, metadata=_metadata(raw), version=version, path=str(path))


# ---------------------------------------------------------------- linear maps

class Signal:
    """A linear map from one source's output to a point of the graph: a weight matrix
    [width, n_source] per delay (steps) and a bias per delay (a bias that passed a Delay)."""

    def __init__(self, terms: dict, bias: dict):
        self.terms = terms
        self.bias = bias

    @classmethod
    def identity(cls, width: int) -> "Signal":
        return cls({0: np.eye(width)}, {0: np.zeros(width)})

    @property
    def width(self) -> int:
        return next(iter(self.terms.values())).shape[0]

    def map_rows(self, function) -> "Signal":
        return Signal({d: function(m) for d, m in self.terms.items()},
                      {d: function(b[:, None])[:, 0] for d, b in self.bias.items()})

    def add(self, other: "Signal") -> "Signal":
        terms, bias = dict(self.terms), dict(self.bias)
        for d, m in other.terms.items():
            terms[d] = terms[d] + m if d in terms else m
        for d, b in other.bias.items():
            bias[d] = bias[d] + b if d in bias else b
        return Signal(terms, bias)

    def delayed(self, steps: np.ndarray) -> "Signal":
        terms, bias = {}, {}
        for d, m in self.terms.items():
            for extra in np.unique(steps):
                rows = steps == extra
                key = d + int(extra)
                terms.setdefault(key, np.zeros_like(m))[rows] += m[rows]
                bias.setdefault(key, np.zeros(m.shape[0]))[rows] += self.bias.get(d, np.zeros(m.shape[0]))[rows]
        return Signal(terms, bias)


def _array(node: NIRNode, key: str, required: bool = True):
    if key not in node.params:
        if required:
            raise NIRError(f"node {node.name!r} ({node.type}) lacks parameter {key!r}")
        return None
    value = np.asarray(node.params[key])
    if value.dtype.kind not in "biuf":
        raise NIRError(f"node {node.name!r} ({node.type}): parameter {key!r} is not numeric ({value.dtype})")
    value = value.astype(np.float64)
    if not np.all(np.isfinite(value)):
        raise NIRError(f"node {node.name!r} ({node.type}): parameter {key!r} holds NaN or Inf")
    return value


def _conv1d_matrix(node: NIRNode, in_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Conv1d on a row-major (channels, length) input as a dense [C_out * L_out, C_in * L_in] matrix."""
    weight = _array(node, "weight")
    if weight.ndim != 3:
        raise NIRError(f"node {node.name!r} (Conv1d): weight must be [out_channels, in_channels/groups, kernel], "
                       f"got shape {list(weight.shape)}")
    c_out, c_group, kernel = weight.shape
    groups = int(_array(node, "groups", False) if "groups" in node.params else 1)
    c_in = c_group * groups
    if in_width % c_in:
        raise NIRError(f"node {node.name!r} (Conv1d): {in_width} inputs are not {c_in} channels of equal length")
    length = in_width // c_in
    stride = int(np.ravel(_array(node, "stride", False) if "stride" in node.params else [1])[0])
    dilation = int(np.ravel(_array(node, "dilation", False) if "dilation" in node.params else [1])[0])
    raw_padding = node.params.get("padding", 0)
    if isinstance(raw_padding, (bytes, str)) or (isinstance(raw_padding, np.ndarray) and raw_padding.dtype.kind in "SOU"):
        mode = _text(raw_padding)
        if mode == "valid":
            padding = 0
        elif mode == "same" and stride == 1:
            padding = dilation * (kernel - 1) // 2
        else:
            raise NIRError(f"node {node.name!r} (Conv1d): padding {mode!r} is not supported; give it in samples")
    else:
        padding = int(np.ravel(np.asarray(raw_padding))[0])
    out_length = (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out_length < 1:
        raise NIRError(f"node {node.name!r} (Conv1d): input length {length} is shorter than the kernel")
    matrix = np.zeros((c_out, out_length, c_in, length))
    per_group_out = c_out // groups
    for o in range(c_out):
        group = o // per_group_out
        for position in range(out_length):
            for k in range(kernel):
                source = position * stride - padding + k * dilation
                if 0 <= source < length:
                    matrix[o, position, group * c_group:(group + 1) * c_group, source] += weight[o, :, k]
    bias = _array(node, "bias", False)
    bias = np.zeros(c_out) if bias is None else np.broadcast_to(bias.ravel(), (c_out,))
    return matrix.reshape(c_out * out_length, c_in * length), np.repeat(bias, out_length)


# ---------------------------------------------------------------- graph lowering

def _unsupported(node: NIRNode) -> NIRError:
    return NIRError(
        f"node {node.name!r} has type {node.type}, which silifc cannot compile. Supported node types: "
        f"{', '.join(SUPPORTED_TYPES)} (Conv1d as a sparse linear map); neurons in a chain, each fed by the "
        "previous one and optionally by its own spikes. Replace the node or export the model without it")


class _Lowering:
    def __init__(self, graph: NIRFile, dt: float):
        self.graph = graph
        self.dt = dt
        self.nodes = graph.nodes
        for node in self.nodes.values():
            if node.type not in SUPPORTED_TYPES:
                raise _unsupported(node)
        known = set(self.nodes)
        self.preds = {name: [] for name in self.nodes}
        self.succs = {name: [] for name in self.nodes}
        for source, target in graph.edges:
            for end in (source, target):
                if end not in known:
                    raise NIRError(f"{graph.path}: edge ({source!r}, {target!r}) names node {end!r}, "
                                   "which the graph does not have")
            self.preds[target].append(source)
            self.succs[source].append(target)
        self.widths = self._widths()
        self._signals = {}

    def is_source(self, name: str) -> bool:
        node = self.nodes[name]
        return node.type == "Input" or node.type in NEURON_TYPES

    # -- widths

    def _own_width(self, node: NIRNode):
        t = node.type
        if t == "Input":
            shape = _array(node, "shape")
            return int(np.prod(shape)) if shape.size else 1
        if t in ("Affine", "Linear"):
            weight = _array(node, "weight")
            if weight.ndim != 2:
                raise NIRError(f"node {node.name!r} ({t}): weight must be 2-D [out, in], got shape {list(weight.shape)}")
            return weight.shape[0]
        if t in ("Scale", "Delay"):
            return _array(node, "scale" if t == "Scale" else "delay").size
        if t in NEURON_TYPES:
            sizes = {np.asarray(node.params[k]).size for k in NEURON_PARAMS[NEURON_TYPES[t]] if k in node.params}
            sizes.discard(1)
            if len(sizes) > 1:
                raise NIRError(f"node {node.name!r} ({t}): parameters have different sizes {sorted(sizes)}")
            return sizes.pop() if sizes else None
        return None

    def _widths(self) -> dict:
        widths = {name: self._own_width(node) for name, node in self.nodes.items()}
        for _ in range(len(self.nodes) + 1):
            changed = False
            for name, node in self.nodes.items():
                if widths[name] is not None or node.type in ("Conv1d",):
                    if node.type == "Conv1d" and widths[name] is None:
                        known = [widths[p] for p in self.preds[name] if widths[p] is not None]
                        if known:
                            widths[name] = _conv1d_matrix(node, known[0])[0].shape[0]
                            changed = True
                    continue
                known = [widths[p] for p in self.preds[name] if widths[p] is not None]
                if known:
                    widths[name] = known[0]
                    changed = True
            if not changed:
                break
        for name, width in widths.items():
            if width is None:
                raise NIRError(f"node {name!r} ({self.nodes[name].type}): cannot tell its size (scalar parameters "
                               "and no sized input); give its parameters one value per neuron")
        return widths

    # -- maps

    def apply(self, node: NIRNode, signal: Signal) -> Signal:
        t = node.type
        in_width = signal.width
        if t in ("Flatten", "Identity", "Output"):
            return signal
        if t in ("Affine", "Linear"):
            weight = _array(node, "weight")
            if weight.shape[1] != in_width:
                raise NIRError(f"node {node.name!r} ({t}): weight takes {weight.shape[1]} inputs but receives "
                               f"{in_width}")
            out = signal.map_rows(lambda m: weight @ m)
            if t == "Affine":
                bias = _array(node, "bias")
                out = out.add(Signal({}, {0: np.broadcast_to(bias.ravel(), (weight.shape[0],)).copy()}))
            return out
        if t == "Scale":
            scale = _array(node, "scale").ravel()
            if scale.size not in (1, in_width):
                raise NIRError(f"node {node.name!r} (Scale): {scale.size} factors for {in_width} inputs")
            return signal.map_rows(lambda m: np.broadcast_to(scale, (in_width,))[:, None] * m)
        if t == "Delay":
            delay = _array(node, "delay").ravel()
            steps = np.broadcast_to(delay / self.dt, (in_width,))
            whole = np.round(steps)
            if (steps < -DELAY_TOLERANCE).any() or (np.abs(steps - whole) > DELAY_TOLERANCE * np.maximum(1, whole)).any():
                bad = int(np.argmax(np.abs(steps - whole)))
                raise NIRError(f"node {node.name!r} (Delay): delay {delay[bad % delay.size]:g} s is "
                               f"{steps[bad]:.6g} steps of dt = {self.dt:g} s; silifc delays are whole, "
                               "non-negative numbers of steps. Check --dt")
            return signal.delayed(whole.astype(np.int64))
        if t == "Conv1d":
            matrix, bias = _conv1d_matrix(node, in_width)
            return signal.map_rows(lambda m: matrix @ m).add(Signal({}, {0: bias}))
        raise _unsupported(node)

    def signals_into(self, name: str, visiting=()) -> dict:
        """{source name: Signal from that source's output to `name`'s input}."""
        if name in self._signals:
            return self._signals[name]
        if name in visiting:
            raise NIRError(f"node {name!r}: a loop of linear nodes with no neuron in it ({' -> '.join(visiting)}); "
                           "a recurrent connection must go through a neuron")
        result = {}
        for pred in self.preds[name]:
            if self.is_source(pred):
                incoming = {pred: Signal.identity(self.widths[pred])}
            else:
                incoming = {source: self.apply(self.nodes[pred], signal)
                            for source, signal in self.signals_into(pred, (*visiting, name)).items()}
            for source, signal in incoming.items():
                result[source] = result[source].add(signal) if source in result else signal
        self._signals[name] = result
        return result


def _synapses(signal: Signal, target: str, source: str):
    """Signal -> (weight [out, in], delays [out, in] or None, bias [out])."""
    delays_with_weight = sorted(d for d, m in signal.terms.items() if np.any(m != 0))
    shape = signal.terms[next(iter(signal.terms))].shape
    weight = np.zeros(shape)
    delays = np.zeros(shape, dtype=np.int64)
    for d in delays_with_weight:
        matrix = signal.terms[d]
        clash = (matrix != 0) & (weight != 0)
        if clash.any():
            i, j = (int(v) for v in np.argwhere(clash)[0])
            raise NIRError(f"node {target!r}: the synapse from {source!r} unit {j} to unit {i} carries weights at "
                           f"delays {int(delays[i, j])} and {d} steps; silifc stores one delay per synapse. Merge the "
                           "paths or use one Delay per synapse")
        weight += matrix
        delays[matrix != 0] = d
    bias = signal.bias.get(0, np.zeros(shape[0])).copy()
    for d, b in signal.bias.items():
        if d != 0 and np.any(b != 0):
            raise NIRError(f"node {target!r}: a bias passes a {d}-step Delay on its way from {source!r}; during the "
                           "first steps the delayed bias would be missing, which silifc's constant bias cannot "
                           "express. Move the bias after the Delay")
    return weight, (delays if delays.any() else None), bias


def _neuron_params(node: NIRNode, kind: str, width: int) -> dict:
    params = {}
    for key in NEURON_PARAMS[kind]:
        value = _array(node, key, required=key not in PARAM_DEFAULTS)
        if value is None:
            value = np.full(width, PARAM_DEFAULTS[key])
        if value.size not in (1, width):
            raise NIRError(f"node {node.name!r} ({node.type}): {key} has {value.size} values for {width} neurons")
        params[key] = np.broadcast_to(value.ravel(), (width,)).astype(np.float64)
    return params


def resolve_dialect(graph: NIRFile, dialect: str | None, dt: float | None):
    """(dialect, dt, how each was chosen): options win, then the graph's metadata, then the
    dialect's default step."""
    chosen = dialect or graph.metadata.get("dialect") or graph.metadata.get("producer")
    how = "option" if dialect else "file metadata"
    if not chosen:
        raise NIRError(f"{graph.path}: the graph's metadata does not say which simulator produced it; pass "
                       f"--nir-dialect {'|'.join(DIALECTS)} (docs/nir.md: how each discretizes the neurons)")
    spec = get_dialect(_text(chosen))
    step = dt if dt is not None else graph.metadata.get("dt")
    step_how = "option" if dt is not None else "file metadata"
    if step is None:
        step, step_how = spec.default_dt, f"{spec.name} default"
    if step is None:
        raise NIRError(f"{graph.path}: the {spec.name} dialect has no default time step and the file gives none; "
                       "pass --dt SECONDS")
    step = float(step)
    if not (step > 0 and np.isfinite(step)):
        raise NIRError(f"--dt must be a positive number of seconds, got {step!r}")
    return spec, step, f"dialect {spec.name} ({how}), dt {step:g} s ({step_how})"


def lower_graph(graph: NIRFile, dialect: str | None = None, dt: float | None = None,
                config: ModelConfig | None = None, sha256: str = "") -> SpikingNetwork:
    spec, step, chosen = resolve_dialect(graph, dialect, dt)
    lowering = _Lowering(graph, step)
    nodes = graph.nodes
    inputs = [n for n, node in nodes.items() if node.type == "Input"]
    outputs = [n for n, node in nodes.items() if node.type == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise NIRError(f"{graph.path}: silifc compiles graphs with one Input and one Output; this one has "
                       f"{len(inputs)} Input(s) {inputs} and {len(outputs)} Output(s) {outputs}")
    neurons = [n for n, node in nodes.items() if node.type in NEURON_TYPES]
    if not neurons:
        raise NIRError(f"{graph.path}: the graph has no neuron node ({', '.join(NEURON_TYPES)})")
    sources = {n: lowering.signals_into(n) for n in neurons}
    chain, previous, used = [], inputs[0], {inputs[0]}
    while True:
        fed = [n for n in neurons if previous in sources[n] and n != previous]
        if len(fed) > 1:
            raise NIRError(f"node {previous!r} feeds several neurons ({', '.join(fed)}); silifc compiles a chain of "
                           "populations (one feeds the next)")
        if not fed:
            break
        current = fed[0]
        extra = sorted(set(sources[current]) - {previous, current})
        if extra:
            raise NIRError(f"node {current!r} takes input from {', '.join(extra)} besides {previous!r}; silifc "
                           "compiles a chain (each population fed by the previous one and its own spikes)")
        chain.append(current)
        used.add(current)
        previous = current
    if not chain:
        raise NIRError(f"{graph.path}: the Input {inputs[0]!r} reaches no neuron")
    missed = [n for n in neurons if n not in used]
    if missed:
        raise NIRError(f"{graph.path}: neuron node(s) {', '.join(missed)} are not on the chain from the Input "
                       f"({' -> '.join(chain)})")
    into_output = lowering.signals_into(outputs[0])
    last = chain[-1]
    if set(into_output) != {last}:
        raise NIRError(f"the Output takes {', '.join(sorted(into_output)) or 'nothing'}; it must take the last "
                       f"population {last!r} directly")
    out_signal = into_output[last]
    if set(out_signal.terms) != {0} or not np.array_equal(out_signal.terms[0], np.eye(out_signal.width)) \
            or any(np.any(b != 0) for b in out_signal.bias.values()):
        raise NIRError(f"between {last!r} and the Output there is a weight, bias or delay; silifc's output is the "
                       "last population itself. End the model with a neuron layer (e.g. LI for a readout)")
    reached = set()
    for name in chain + outputs:
        reached.add(name)
        stack = list(lowering.preds[name])
        while stack:
            pred = stack.pop()
            if pred not in reached:
                reached.add(pred)
                if not lowering.is_source(pred):
                    stack.extend(lowering.preds[pred])
    dangling = sorted(set(nodes) - reached)
    if dangling:
        raise NIRError(f"{graph.path}: node(s) {', '.join(dangling)} lie on no path between the Input and the Output")
    populations = []
    for index, name in enumerate(chain):
        node = nodes[name]
        kind = NEURON_TYPES[node.type]
        width = lowering.widths[name]
        feed = inputs[0] if index == 0 else chain[index - 1]
        weight, delays, bias = _synapses(sources[name][feed], name, feed)
        recurrent = None
        if name in sources[name]:
            loop = sources[name][name]
            if node.type not in ("LIF", "CubaLIF", "IF"):
                raise NIRError(f"node {name!r} ({node.type}) feeds back into itself, but it emits a voltage, not "
                               "spikes; silifc's recurrent synapses carry spikes")
            if any(d != 0 and np.any(m != 0) for d, m in loop.terms.items()):
                raise NIRError(f"node {name!r}: its recurrent connection has a Delay; silifc's recurrence is the "
                               "previous step's spikes only")
            recurrent = loop.terms[0]
            bias = bias + loop.bias.get(0, 0.0)
        if weight.shape[0] != width:
            raise NIRError(f"node {name!r} ({node.type}) has {width} neurons but its input map gives "
                           f"{weight.shape[0]}")
        dynamics = spec.decode(kind, _neuron_params(node, kind, width), step, name)
        gain = dynamics.gain
        populations.append(Population(
            kind=kind, weight=gain[:, None] * weight, bias=gain * bias, beta=dynamics.beta, leak=dynamics.leak,
            alpha=dynamics.alpha, threshold=dynamics.threshold, reset=dynamics.reset, v_reset=dynamics.v_reset,
            delays=delays, recurrent=None if recurrent is None else gain[:, None] * recurrent, name=name))
    config = config or ModelConfig(spatial_bin=1, time_step_ms=step * 1e3)
    try:
        return SpikingNetwork(config=config, populations=tuple(populations), dialect=spec.name, dt=step,
                              source=graph.path, sha256=sha256,
                              meta={"nir_version": graph.version, "chosen": chosen,
                                    "nodes": [f"{p.name} ({KIND_TITLES[p.kind]})" for p in populations]})
    except ValueError as exc:
        raise NIRError(f"{graph.path}: {exc}") from None


def load_nir(path: str | Path, dialect: str | None = None, dt: float | None = None,
             config: ModelConfig | None = None) -> SpikingNetwork:
    """A .nir file -> SpikingNetwork (see the module docstring)."""
    graph = read_nir(path)
    return lower_graph(graph, dialect, dt, config, sha256=file_sha256(path))


def is_nir_file(path: str | Path) -> bool:
    """True for an HDF5 file with NIR's top-level 'node' group (or a .nir suffix)."""
    path = Path(path)
    if path.suffix.lower() == ".nir":
        return True
    try:
        with open(path, "rb") as handle:
            if handle.read(8) != b"\x89HDF\r\n\x1a\n":
                return False
        import h5py

        with h5py.File(path, "r") as handle:
            return "node" in handle and "version" in handle
    except OSError:
        return False

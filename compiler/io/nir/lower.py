"""Lower a NIR graph (graph.NIRFile) into silifc's raw IR: a chain of LIF-family layers.

 1. Every node is classified: Input, Output, a neuron (LIF, CubaLIF, LI, CubaLI, IF, I) or
    a linear node (Affine, Linear, Scale, Delay, Flatten, Identity, Conv1d). Anything else is
    refused, naming the node, its type and what is supported.
 2. For each neuron and the Output, the linear nodes between it and its sources (the Input
    or neurons) are composed into one map per source: a weight matrix per delay plus a bias.
    Several edges into one node add up, as NIR defines.
 3. The neurons must form a chain: the first takes the Input, each next one the previous
    one's output, and a spiking neuron may also take its own output (recurrence: the previous
    step's spikes). The Output takes the last neuron's output unchanged; a non-spiking neuron
    (LI, CubaLI, I) can only be that last one.
 4. A map becomes weights [out, in] and per-synapse delays: each synapse must carry its
    weight at one delay only (the runtime stores one delay per synapse).
 5. Each neuron node's parameters are kept as written (silifc.ir.LIFLayer); the dialect and
    time step in the model's config say what they mean per step (passes/fold.fold_lif).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import NIRError
from ...ir import LAYER_KINDS, LIFLayer, ModelConfig, Network
from ..checkpoint import file_sha256
from ..config import load_config
from .dialects import DIALECTS, get_dialect
from .graph import IO_TYPES, NIRFile, NIRNode, as_text, read_nir

NEURON_TYPES = {"LIF": "lif", "CubaLIF": "cubalif", "IF": "if", "LI": "li", "CubaLI": "cubali", "I": "i"}
LINEAR_TYPES = ("Affine", "Linear", "Scale", "Delay", "Flatten", "Identity", "Conv1d")
SUPPORTED_TYPES = IO_TYPES + tuple(NEURON_TYPES) + LINEAR_TYPES
NEURON_PARAMS = {
    "lif": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "li": ("tau", "r", "v_leak"),
    "cubalif": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "cubali": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "if": ("r", "v_threshold", "v_reset"),
    "i": ("r",),
}
NODE_TYPES = {kind: node_type for node_type, kind in NEURON_TYPES.items()}
PARAM_DEFAULTS = {"v_reset": 0.0, "w_in": 1.0}
DELAY_TOLERANCE = 1e-6            # a Delay must be a whole number of steps within this (relative)


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
        mode = as_text(raw_padding)
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


def resolve_config(graph: NIRFile, overrides: dict | None = None) -> ModelConfig:
    """The model config of a graph. Dialect: option or sidecar (`nir_dialect`), else the graph's
    metadata (`dialect`), else refused. Step dt: option or sidecar (`nir_dt`, seconds), else the
    metadata (`dt`), else the dialect's default. Inputs are not binned (spatial_bin 1) and a
    step lasts dt on the device unless `time_step_ms` says otherwise."""
    given = load_config(graph.path, overrides)
    dialect = given.nir_dialect or as_text(graph.metadata.get("dialect", ""))
    if not dialect:
        raise NIRError(f"{graph.path}: the graph's metadata does not say which simulator produced it; pass "
                       f"--nir-dialect {'|'.join(DIALECTS)} (docs/nir.md: how each discretizes the neurons)")
    spec = get_dialect(dialect)
    dt = given.nir_dt or graph.metadata.get("dt") or spec.default_dt
    if dt is None:
        raise NIRError(f"{graph.path}: the {spec.name} dialect has no default time step and the file gives none; "
                       "pass --dt SECONDS")
    dt = float(np.asarray(dt))
    if not (dt > 0 and np.isfinite(dt)):
        raise NIRError(f"{graph.path}: the time step dt must be a positive number of seconds, got {dt!r}")
    return load_config(graph.path, overrides, defaults={"spatial_bin": 1, "time_step_ms": dt * 1e3,
                                                        "nir_dialect": spec.name, "nir_dt": dt})


def lower_graph(graph: NIRFile, config: ModelConfig, sha256: str = "") -> Network:
    """The graph as a chain of LIFLayers (see the module docstring), read with config.nir_dt."""
    lowering = _Lowering(graph, config.nir_dt)
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
        if previous != inputs[0] and not LAYER_KINDS[NEURON_TYPES[nodes[previous].type]].spiking:
            raise NIRError(f"node {previous!r} ({nodes[previous].type}) does not spike but feeds {current!r}; a "
                           "non-spiking neuron (LI, CubaLI, I) can only be the last layer")
        extra = sorted(set(sources[current]) - {previous, current})
        if extra:
            raise NIRError(f"node {current!r} takes input from {', '.join(extra)} besides {previous!r}; silifc "
                           "compiles a chain (each population fed by the previous one and its own spikes)")
        if current in sources[current] and not LAYER_KINDS[NEURON_TYPES[nodes[current].type]].spiking:
            raise NIRError(f"node {current!r} ({nodes[current].type}) feeds back into itself, but it emits a voltage, "
                           "not spikes; silifc's recurrent synapses carry spikes")
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
    layers = []
    for index, name in enumerate(chain):
        node = nodes[name]
        kind = NEURON_TYPES[node.type]
        width = lowering.widths[name]
        feed = inputs[0] if index == 0 else chain[index - 1]
        weight, delays, bias = _synapses(sources[name][feed], name, feed)
        recurrent = None
        if name in sources[name]:
            loop = sources[name][name]
            if any(d != 0 and np.any(m != 0) for d, m in loop.terms.items()):
                raise NIRError(f"node {name!r}: its recurrent connection has a Delay; silifc's recurrence is the "
                               "previous step's spikes only")
            recurrent = loop.terms[0]
            bias = bias + loop.bias.get(0, 0.0)
        if weight.shape[0] != width:
            raise NIRError(f"node {name!r} ({node.type}) has {width} neurons but its input map gives "
                           f"{weight.shape[0]}")
        layers.append(LIFLayer(kind=kind, weight=weight, bias=bias, params=_neuron_params(node, kind, width),
                               delays=delays, recurrent=recurrent, name=name))
    return Network(config=config, hidden=tuple(layers[:-1]), readout=layers[-1], source=graph.path, sha256=sha256)


def load_nir(path: str | Path, overrides: dict | None = None) -> Network:
    """A .nir file -> raw Network of LIF-family layers (see the module docstring). overrides:
    ModelConfig fields given as options (nir_dialect, nir_dt, time_step_ms, ...)."""
    graph = read_nir(path)
    return lower_graph(graph, resolve_config(graph, overrides), sha256=file_sha256(path))

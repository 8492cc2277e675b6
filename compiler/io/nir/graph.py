"""NIR's file format: a `.nir` file is HDF5 (what `nir.write` produces), read and written here
with h5py, so silifc needs no `nir` package.

Layout: a `version` string, then `node`, a graph group with `type` = "NIRGraph", `nodes`
(one group per node: `type`, its parameter datasets, optional `metadata`), `edges` (pairs
of node names) and optional `metadata`. Nested graphs (snnTorch writes recurrent layers as
one) are flattened on reading: their Input/Output become pass-through nodes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import NIRError

IO_TYPES = ("Input", "Output")
FORMAT_VERSION = "1.0.8"          # the NIR release whose layout silifc writes (and reads back in its tests)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


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

def as_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return as_text(value[()])
    return str(value)


def _read_group(group) -> dict:
    import h5py

    out = {}
    for key, item in group.items():
        out[key] = _read_group(item) if isinstance(item, h5py.Group) else item[()]
    return out


def _metadata(raw: dict) -> dict:
    return {key: (as_text(value) if isinstance(value, (bytes, np.bytes_)) else value)
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
        kind = as_text(node["type"])
        if kind == "NIRGraph":
            inner_inputs[name], inner_outputs[name] = _flatten(node, full + ".", nodes, edges, where)
            continue
        params = {key: value for key, value in node.items() if key not in ("type", "metadata")}
        if prefix and kind in IO_TYPES:
            params, kind = {}, "Identity"
            (level_inputs if as_text(node["type"]) == "Input" else level_outputs).append(full)
        elif kind == "Input":
            level_inputs.append(full)
        elif kind == "Output":
            level_outputs.append(full)
        nodes[full] = NIRNode(full, kind, params, _metadata(node))
    raw_edges = np.asarray(raw["edges"])
    if raw_edges.size and (raw_edges.ndim != 2 or raw_edges.shape[1] != 2):
        raise NIRError(f"{where}: edges of graph {prefix or '<top>'!r} are not (source, target) pairs")
    for source, target in raw_edges.reshape(-1, 2):
        source, target = as_text(source), as_text(target)
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
            version = as_text(handle["version"][()]) if "version" in handle else "unknown"
            raw = _read_group(handle["node"])
    except OSError as exc:
        raise NIRError(f"{path}: not a readable HDF5 file ({exc})") from None
    if as_text(raw.get("type", b"")) != "NIRGraph":
        raise NIRError(f"{path}: the top node is a {as_text(raw.get('type', b'?'))}, not a NIRGraph")
    nodes, edges = {}, []
    _flatten(raw, "", nodes, edges, str(path))
    return NIRFile(nodes=nodes, edges=edges, metadata=_metadata(raw), version=version, path=str(path))


def is_nir_file(path: str | Path) -> bool:
    """True for a `.nir` file, or an HDF5 file with NIR's top-level `version` and `node`."""
    path = Path(path)
    if path.suffix.lower() == ".nir":
        return True
    try:
        with open(path, "rb") as handle:
            if handle.read(8) != HDF5_SIGNATURE:
                return False
        import h5py

        with h5py.File(path, "r") as handle:
            return "node" in handle and "version" in handle
    except OSError:
        return False


# ---------------------------------------------------------------- writing

def _write_group(group, values: dict) -> None:
    import h5py

    for key, value in values.items():
        if isinstance(value, dict):
            if key != "metadata" or value:
                _write_group(group.create_group(str(key)), value)
        elif isinstance(value, str):
            group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        else:
            group.create_dataset(key, data=np.asarray(value))


def write_nir(path: str | Path, nodes: dict, edges: list, metadata: dict) -> Path:
    """Write a flat graph: nodes {name: {"type": ..., parameter: array}}, edges [(source, target)]."""
    import h5py

    path = Path(path)
    graph = {"type": "NIRGraph", "nodes": nodes, "edges": np.array(edges, dtype=h5py.string_dtype()),
             "metadata": metadata}
    with h5py.File(path, "w") as handle:
        handle.create_dataset("version", data=FORMAT_VERSION, dtype=h5py.string_dtype())
        _write_group(handle.create_group("node"), graph)
    return path

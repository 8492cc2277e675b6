"""Safe, strict loading of SiLIF / C-SiLIF checkpoints into the raw graph IR.

The authors' format is a plain state dict: `snn.<i>.<param>` for layer i, the last
layer being the readout. The architecture (neuron type per layer, widths, depth)
is inferred from the keys. Files are loaded with `weights_only=True`: a checkpoint
that needs pickled code is refused, never executed.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..errors import (CheckpointError, MissingKeysError, NonFiniteValueError,
                     NotACheckpointError, ShapeMismatchError, TruncatedCheckpointError,
                     UnexpectedKeysError, UnknownNeuronTypeError, UnsafeCheckpointError)
from ..ir import LAYER_KINDS, MAX_LAYER_WIDTH, BatchNorm, CSiLIFLayer, ModelConfig, Network, ReadoutLayer, SiLIFLayer

_NORM_KEYS = ("norm.weight", "norm.bias", "norm.running_mean", "norm.running_var")
_OPTIONAL_KEYS = ("norm.num_batches_tracked", "delays")

# Stored parameter names of each neuron type (besides W.weight and the norm keys).
NEURON_PARAMS = {name: tuple(key for key, _ in kind.params) for name, kind in LAYER_KINDS.items()}
_RAW_LAYERS = {"silif": SiLIFLayer, "csilif": CSiLIFLayer, "readout": ReadoutLayer}
_KEY = re.compile(r"^snn\.(\d+)\.(.+)$")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_state_dict(path: Path):
    """The object a .pt/.pth file holds, loaded with weights_only=True (never executing code)."""
    import torch  # imported here: only loading needs it

    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise NotACheckpointError(f"{path}: is a directory, not a checkpoint file")
    head = path.read_bytes()[:4]
    if len(head) == 0:
        raise TruncatedCheckpointError(f"{path}: file is empty; copy the checkpoint again")
    is_zip = head.startswith(b"PK")
    is_legacy_pickle = head[:1] == b"\x80"
    if not (is_zip or is_legacy_pickle):
        raise NotACheckpointError(
            f"{path}: not a PyTorch checkpoint (starts with {head!r}); expected a file written by "
            "torch.save(model.state_dict(), path)")
    if is_zip and not zipfile.is_zipfile(path):
        raise TruncatedCheckpointError(
            f"{path}: the checkpoint archive is incomplete (truncated or corrupt download); copy it again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # torch warns about odd pickle protocols of corrupt files
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "Unsupported global" in message or "Unsupported class" in message or "GLOBAL" in message:
            raise UnsafeCheckpointError(
                f"{path}: refused: the file contains pickled Python objects (code), not only tensors. "
                "silifc never executes checkpoint code. Save the model's state_dict() instead of the "
                "model object: torch.save(model.state_dict(), path)") from None
        raise _corrupt(path, message) from None
    except (EOFError, zipfile.BadZipFile) as exc:
        raise TruncatedCheckpointError(f"{path}: checkpoint ends early ({exc}); copy it again") from None
    except RuntimeError as exc:
        message = str(exc)
        if "zip archive" in message or "central directory" in message or "file not found" in message \
                or "unexpected EOF" in message or "Invalid magic" in message:
            raise TruncatedCheckpointError(
                f"{path}: the checkpoint archive is incomplete or corrupt ({message.splitlines()[0]}); "
                "copy it again") from None
        raise _corrupt(path, message) from None
    except Exception as exc:         # the unpickler on random bytes: IndexError, KeyError, ValueError, ...
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from None


def _corrupt(path: Path, message: str) -> NotACheckpointError:
    first = next((line.strip() for line in message.splitlines()
                  if line.strip() and "weights_only" not in line and "Weights only" not in line), message[:200])
    return NotACheckpointError(f"{path}: not a readable checkpoint: the data is corrupt or not a PyTorch file "
                               f"({first}); copy the file again, or save it with torch.save(model.state_dict(), path)")


def _as_array(name, value, path):
    import torch

    if not isinstance(value, torch.Tensor):
        raise NotACheckpointError(f"{path}: entry {name!r} is a {type(value).__name__}, not a tensor")
    array = value.detach().cpu().numpy()
    if array.dtype.kind == "f":
        array = array.astype(np.float64)
        bad = ~np.isfinite(array)
        if bad.any():
            raise NonFiniteValueError(
                f"{path}: {name!r} has {int(bad.sum())} NaN/Inf value(s) of {array.size}; "
                "the training run diverged or the file is corrupt. Use an earlier checkpoint")
    return array


def _neuron_type(index, names, path):
    if {"log_log_alpha", "alpha_img"} & names:
        return "csilif"
    if {"dt", "beta", "a"} & names:
        return "silif"
    if names & {"alpha"} and not names & {"log_dt", "b"}:
        return "readout"
    params = sorted(n for n in names if not n.startswith(("W.", "norm.")))
    raise UnknownNeuronTypeError(
        f"{path}: layer snn.{index} has parameters {params}, which match no known neuron type. "
        + "Known types: " + "; ".join(f"{kind} ({', '.join(p)})" for kind, p in NEURON_PARAMS.items()))


def parse_state_dict(state, path: str = "<state dict>", config: ModelConfig | None = None,
                     sha256: str = "") -> Network:
    """Build the raw graph IR from a state dict, checking keys, shapes and values."""
    if not isinstance(state, dict):
        raise NotACheckpointError(
            f"{path}: holds a {type(state).__name__}, not a state dict; save model.state_dict()")
    layers: dict[int, dict[str, np.ndarray]] = {}
    stray = []
    for key, value in state.items():
        match = _KEY.match(key) if isinstance(key, str) else None
        if match is None:
            stray.append(key)
            continue
        layers.setdefault(int(match.group(1)), {})[match.group(2)] = value
    if stray:
        raise UnexpectedKeysError(
            f"{path}: unexpected key(s) {sorted(map(str, stray))[:8]}; silifc expects keys 'snn.<layer>.<param>' "
            "as written by the authors' SNN model (strip any wrapper prefix such as 'module.' or 'model.')")
    if not layers:
        raise MissingKeysError(f"{path}: the state dict is empty; it holds no layers")
    indices = sorted(layers)
    if indices != list(range(len(indices))):
        missing = sorted(set(range(indices[-1] + 1)) - set(indices))
        raise MissingKeysError(f"{path}: layer(s) {', '.join(f'snn.{i}' for i in missing)} missing; "
                               f"found layers {indices}")
    if len(indices) < 2:
        raise MissingKeysError(f"{path}: only one layer (snn.0); a network needs at least one spiking "
                               "layer and a readout")

    built = []
    previous_width = None
    for index in indices:
        raw = layers[index]
        kind = _neuron_type(index, set(raw), path)
        is_last = index == indices[-1]
        if is_last and kind != "readout":
            raise UnknownNeuronTypeError(f"{path}: the last layer snn.{index} is {kind}, but the last layer "
                                         "must be the leaky-integrator readout (parameter 'alpha' only)")
        if not is_last and kind == "readout":
            raise UnknownNeuronTypeError(f"{path}: layer snn.{index} looks like a readout (only 'alpha'), but "
                                         "only the last layer may be a readout")
        required = {"W.weight", *_NORM_KEYS, *NEURON_PARAMS[kind]}
        missing = sorted(required - set(raw))
        if missing:
            raise MissingKeysError(f"{path}: {kind} layer snn.{index} lacks "
                                   + ", ".join(f"snn.{index}.{m}" for m in missing))
        unexpected = sorted(set(raw) - required - set(_OPTIONAL_KEYS))
        if unexpected:
            raise UnexpectedKeysError(f"{path}: {kind} layer snn.{index} has unexpected key(s) "
                                      + ", ".join(f"snn.{index}.{u}" for u in unexpected))
        shape = tuple(getattr(raw["W.weight"], "shape", ()))
        if len(shape) == 2 and max(shape) > MAX_LAYER_WIDTH:      # before any conversion allocates
            raise ShapeMismatchError(
                f"{path}: snn.{index}.W.weight has shape {list(shape)}: a layer of {shape[1]:,} inputs -> {shape[0]:,} "
                f"neurons. The C runtime counts and indexes neurons and inputs in 16 bits (at most "
                f"{MAX_LAYER_WIDTH:,} per layer), and no Cortex-M memory holds such a layer. Use narrower layers")
        arrays = {name: _as_array(f"snn.{index}.{name}", raw[name], path)
                  for name in raw if name != "norm.num_batches_tracked"}
        weight = arrays["W.weight"]
        if weight.ndim != 2:
            raise ShapeMismatchError(f"{path}: snn.{index}.W.weight has shape {list(weight.shape)}; "
                                     "expected [out, in]")
        width, fan_in = weight.shape
        if previous_width is not None and fan_in != previous_width:
            raise ShapeMismatchError(
                f"{path}: snn.{index}.W.weight takes {fan_in} inputs but layer snn.{index - 1} has "
                f"{previous_width} neurons; the layers do not chain")
        for name in (*_NORM_KEYS, *NEURON_PARAMS[kind]):
            if arrays[name].shape != (width,):
                raise ShapeMismatchError(f"{path}: snn.{index}.{name} has shape {list(arrays[name].shape)}; "
                                         f"expected [{width}] (one value per neuron of snn.{index})")
        if (arrays["norm.running_var"] < 0).any():
            raise CheckpointError(f"{path}: snn.{index}.norm.running_var has negative entries; file corrupt")
        delays = arrays.get("delays")
        if delays is not None:
            if delays.shape != weight.shape:
                raise ShapeMismatchError(f"{path}: snn.{index}.delays has shape {list(delays.shape)}; "
                                         f"expected {list(weight.shape)} like W.weight")
            if delays.dtype.kind not in "iu" or (delays < 0).any():
                raise CheckpointError(f"{path}: snn.{index}.delays must be non-negative integer steps")
        norm = BatchNorm(gamma=arrays["norm.weight"], beta=arrays["norm.bias"],
                         running_mean=arrays["norm.running_mean"], running_var=arrays["norm.running_var"])
        fields = {field: arrays[key] for key, field in LAYER_KINDS[kind].params}
        layer = _RAW_LAYERS[kind](weight=weight, norm=norm, delays=delays, **fields)
        built.append(layer)
        previous_width = width
    return Network(config=config or ModelConfig(), hidden=tuple(built[:-1]), readout=built[-1],
                   source=str(path), sha256=sha256)

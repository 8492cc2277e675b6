"""silifc's native model format (version 1): architecture config and weights in one file.

A native file is a plain dict written with `torch.save` and read with
`torch.load(weights_only=True)` (tensors and plain Python values only, no pickled code):

    {
      "format": "silifc-model",
      "version": 1,
      "config": {
        "kinds": ["silif", "silif", "readout"],   # neuron type per layer, readout last
        "widths": [32, 48, 48, 6],                # inputs, then neurons per layer
        "layer_max_delays": [25, 25, 25],         # delay range of each layer's input synapses, steps (0: none)
        "max_delay": 25,                          # max(layer_max_delays)
        "spatial_bin": 1,                         # raw channels summed per input
        "time_step_ms": 4.0,                      # one network step
        "nb_steps": 80,                           # time bins per sample
        "max_time_s": 0.316,                      # last bin edge for (time, unit) event lists
      },
      "state_dict": {"snn.<i>.<param>": tensor, ...},   # the authors' keys, plus int64 snn.<i>.delays [out, in]
      "meta": {...},                              # optional: plain values (training summary); not used to run
    }

The state dict is checked by the same strict parser as the authors' format, and every
config field must agree with it (kinds, widths, delays within each layer's range, and
a delays tensor exactly on the layers with a non-zero range). A file with another
`version` is refused with a message naming the versions this silifc reads.

The authors' format (a bare state dict) stays supported: `silifc.io.models.load_model`
accepts both and returns the same `Network` IR.
"""
from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import file_sha256, parse_state_dict, read_state_dict
from .files import write_file_atomically
from ..errors import CheckpointError, ConfigError, MissingKeysError, ShapeMismatchError, UnexpectedKeysError
from ..ir import HIDDEN_KINDS, NIR_CONFIG_FIELDS, ModelConfig, Network

FORMAT_NAME = "silifc-model"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
KINDS = HIDDEN_KINDS             # the neuron kinds of hidden layers
_IO_FIELDS = {f.name: (int if f.name in ("spatial_bin", "nb_steps") else float) for f in dataclasses.fields(ModelConfig)
              if f.name not in NIR_CONFIG_FIELDS}
_TOP_KEYS = {"format", "version", "config", "state_dict"}
_CONFIG_KEYS = {"kinds", "widths", "layer_max_delays", "max_delay", *_IO_FIELDS}


@dataclass(frozen=True)
class ModelSpec:
    """Architecture of a network: what a native file's config holds."""

    kinds: tuple[str, ...]               # per layer, the last is "readout"
    widths: tuple[int, ...]              # inputs, then neurons per layer
    layer_max_delays: tuple[int, ...]    # per layer (its input synapses), 0 = no delays
    io: ModelConfig = ModelConfig()

    def __post_init__(self):
        if len(self.kinds) < 2 or self.kinds[-1] != "readout" or any(k not in KINDS for k in self.kinds[:-1]):
            raise ConfigError(f"layers must be one or more of {'/'.join(KINDS)} followed by 'readout', "
                              f"got {list(self.kinds)}")
        if len(self.widths) != len(self.kinds) + 1:
            raise ConfigError(f"{len(self.kinds)} layers need {len(self.kinds) + 1} widths (inputs first), "
                              f"got {list(self.widths)}")
        if len(self.layer_max_delays) != len(self.kinds):
            raise ConfigError(f"{len(self.kinds)} layers need {len(self.kinds)} delay ranges, "
                              f"got {list(self.layer_max_delays)}")
        for name, values, low in (("widths", self.widths, 1), ("layer_max_delays", self.layer_max_delays, 0)):
            if any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in values):
                raise ConfigError(f"{name} must be integers >= {low}, got {list(values)}")

    @property
    def max_delay(self) -> int:
        return max(self.layer_max_delays)

    @property
    def n_inputs(self) -> int:
        return self.widths[0]

    @property
    def n_classes(self) -> int:
        return self.widths[-1]

    def weight_count(self) -> int:
        """Synaptic weights (what 'same parameter count' compares)."""
        return sum(a * b for a, b in zip(self.widths[:-1], self.widths[1:]))

    def delay_count(self) -> int:
        """Integer delays stored (one per synapse of each delayed layer)."""
        return sum(a * b for a, b, d in zip(self.widths[:-1], self.widths[1:], self.layer_max_delays) if d)

    def to_config(self) -> dict:
        config = {"kinds": list(self.kinds), "widths": list(self.widths),
                  "layer_max_delays": list(self.layer_max_delays), "max_delay": self.max_delay}
        config.update({name: kind(getattr(self.io, name)) for name, kind in _IO_FIELDS.items()})
        return config

    @classmethod
    def from_config(cls, config: dict, where: str = "config") -> "ModelSpec":
        if not isinstance(config, dict):
            raise CheckpointError(f"{where}: 'config' is a {type(config).__name__}, not a dict")
        missing = sorted(_CONFIG_KEYS - set(config))
        if missing:
            raise MissingKeysError(f"{where}: config lacks {', '.join(missing)}")
        unknown = sorted(map(str, set(config) - _CONFIG_KEYS))
        if unknown:
            raise UnexpectedKeysError(f"{where}: unknown config field(s) {', '.join(unknown)}; "
                                      f"known: {', '.join(sorted(_CONFIG_KEYS))}")
        for name in ("kinds", "widths", "layer_max_delays"):
            if not isinstance(config[name], (list, tuple)):
                raise CheckpointError(f"{where}: config {name} must be a list, got {config[name]!r}")
        io = {}
        for name, kind in _IO_FIELDS.items():
            value = config[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)) \
                    or value <= 0:
                raise CheckpointError(f"{where}: config {name} must be a positive {kind.__name__}, got {value!r}")
            io[name] = kind(value)
        try:
            spec = cls(kinds=tuple(config["kinds"]), widths=tuple(config["widths"]),
                       layer_max_delays=tuple(config["layer_max_delays"]), io=ModelConfig(**io))
        except ConfigError as exc:
            raise CheckpointError(f"{where}: config: {exc}") from None
        if config["max_delay"] != spec.max_delay:
            raise CheckpointError(f"{where}: config max_delay is {config['max_delay']!r} but the largest "
                                  f"layer_max_delays entry is {spec.max_delay}")
        return spec


def spec_of(network: Network, layer_max_delays=None) -> ModelSpec:
    """The spec of a loaded network (delay ranges: the largest stored delay per layer by default)."""
    if layer_max_delays is None:
        layer_max_delays = [0 if layer.delays is None else max(1, int(layer.delays.max(initial=0)))
                            for layer in network.layers]
    return ModelSpec(kinds=tuple(layer.kind for layer in network.layers), widths=tuple(network.widths),
                     layer_max_delays=tuple(int(d) for d in layer_max_delays), io=network.config)


# ---------------------------------------------------------------- reading

def is_native(obj) -> bool:
    return isinstance(obj, dict) and "format" in obj and not any(
        isinstance(key, str) and key.startswith("snn.") for key in obj)


def _io_config(file_config: ModelConfig, config: ModelConfig | None, overrides: dict | None) -> ModelConfig:
    """The file's settings; fields of `config` that differ from the defaults, then non-None
    `overrides`, win (an explicit sidecar value or command-line option)."""
    values = dataclasses.asdict(file_config)
    if config is not None:
        default = ModelConfig()
        values.update({name: getattr(config, name) for name in values
                       if getattr(config, name) != getattr(default, name)})
    if overrides:
        values.update({name: value for name, value in overrides.items() if value is not None})
    return ModelConfig(**values)


def parse_native(obj, path: str = "<native model>", config: ModelConfig | None = None, sha256: str = "",
                 overrides: dict | None = None) -> Network:
    """A loaded native dict -> `Network`, checking the envelope, the config and their agreement."""
    network, _ = parse_native_spec(obj, path, config, sha256, overrides)
    return network


def parse_native_spec(obj, path: str = "<native model>", config: ModelConfig | None = None, sha256: str = "",
                      overrides: dict | None = None) -> tuple[Network, ModelSpec]:
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a silifc model")
    if obj.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path}: format {obj.get('format')!r} is not {FORMAT_NAME!r}; expected a silifc "
                              "native model or the authors' state dict (keys 'snn.<layer>.<param>')")
    version = obj.get("version")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise CheckpointError(
            f"{path}: silifc model format version {version!r} is not supported; this silifc reads version(s) "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Use the silifc release that wrote the file, or re-export it")
    missing = sorted(_TOP_KEYS - set(obj))
    if missing:
        raise MissingKeysError(f"{path}: silifc model lacks {', '.join(missing)}")
    unknown = sorted(map(str, set(obj) - _TOP_KEYS - {"meta"}))
    if unknown:
        raise UnexpectedKeysError(f"{path}: silifc model has unknown entries {', '.join(unknown)}")
    if "meta" in obj and not isinstance(obj["meta"], dict):
        raise CheckpointError(f"{path}: 'meta' must be a dict, got {type(obj['meta']).__name__}")
    spec = ModelSpec.from_config(obj["config"], path)
    io = _io_config(spec.io, config, overrides)
    network = parse_state_dict(obj["state_dict"], path=path, config=io, sha256=sha256)
    kinds = tuple(layer.kind for layer in network.layers)
    if kinds != spec.kinds:
        raise CheckpointError(f"{path}: config kinds {list(spec.kinds)} disagree with the tensors, "
                              f"which hold {list(kinds)}")
    if tuple(network.widths) != spec.widths:
        raise ShapeMismatchError(f"{path}: config widths {list(spec.widths)} disagree with the weight shapes, "
                                 f"which give {list(network.widths)}")
    for index, (layer, limit) in enumerate(zip(network.layers, spec.layer_max_delays)):
        if limit == 0 and layer.delays is not None:
            raise CheckpointError(f"{path}: snn.{index}.delays present but config layer_max_delays[{index}] is 0")
        if limit > 0 and layer.delays is None:
            raise MissingKeysError(f"{path}: config layer_max_delays[{index}] is {limit} but snn.{index}.delays "
                                   "is missing")
        if limit > 0 and layer.delays.size and int(layer.delays.max()) > limit:
            raise CheckpointError(f"{path}: snn.{index}.delays reach {int(layer.delays.max())} steps, beyond "
                                  f"config layer_max_delays[{index}] = {limit}")
    return network, dataclasses.replace(spec, io=io)


def read_native(path: str | Path, overrides: dict | None = None) -> tuple[Network, ModelSpec, dict]:
    """A native file -> (network, spec, meta). Authors' files are refused here (use load_model)."""
    path = Path(path)
    obj = read_state_dict(path)
    if not is_native(obj):
        raise CheckpointError(f"{path}: not a silifc native model (it is a bare state dict: the authors' format)")
    network, spec = parse_native_spec(obj, str(path), sha256=file_sha256(path), overrides=overrides)
    return network, spec, dict(obj.get("meta", {}))


# ---------------------------------------------------------------- writing

def native_dict(state_dict: dict, spec: ModelSpec, meta: dict | None = None) -> dict:
    """The object a native file holds; the state dict is checked against the spec first."""
    import torch

    state = {key: (value.detach().cpu().clone().contiguous() if isinstance(value, torch.Tensor) else value)
             for key, value in state_dict.items()}
    obj = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "config": spec.to_config(), "state_dict": state}
    if meta:
        obj["meta"] = dict(meta)
    parse_native_spec(obj, "<model being saved>")           # refuse to write an inconsistent file
    return obj


def save_native(path: str | Path, state_dict: dict, spec: ModelSpec, meta: dict | None = None) -> Path:
    """Write a native model file (atomically: a partial file never replaces a good one)."""
    import torch

    obj = native_dict(state_dict, spec, meta)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_file_atomically(path, buffer.getvalue())

"""Model files: resolve a name or path, and load either format into the raw graph IR.

A MODEL argument is a path, or the file name of a bundled model (models/<folder>/<name>,
e.g. `silif_ssc_4ms.pth`, `kws_silif.pt`). Three formats load into the same `Network`:
the authors' bare state dict (settings from the `<model>.silifc.toml` sidecar or
options, docs/silif-spec.md), silifc's native format (silifc.io.native), and NIR graphs
(`.nir`, silifc.io.nir: LIF-family layers, docs/nir.md).
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..errors import ConfigError
from ..ir import NIR_CONFIG_FIELDS, Network
from .checkpoint import file_sha256, parse_state_dict, read_state_dict
from .config import load_config, sidecar_calibration
from .native import is_native, parse_native, save_native, spec_of
from .nir.graph import is_nir_file
from .nir.lower import load_nir

DEFAULT_MODEL = "silif_ssc_4ms.pth"


def bundled_model_path(name: str = DEFAULT_MODEL) -> Path:
    """A bundled model file by name, searched in every folder of models/ (paper-ssc, kws,
    timing, ...); the paper-ssc path when no folder has it."""
    root = files("silifc.models")
    for folder in sorted((entry for entry in root.iterdir() if entry.is_dir()), key=lambda e: e.name):
        if folder.joinpath(name).is_file():
            return Path(str(folder / name))
    return Path(str(root / "paper-ssc" / name))


def resolve_model(value: str | Path) -> Path:
    """A path, or the name of a bundled model when no such file exists here."""
    path = Path(value)
    if not path.exists() and not path.parent.parts:
        bundled = bundled_model_path(path.name)
        if bundled.exists():
            return bundled
    return path


def load_model(path: str | Path, overrides: dict | None = None) -> Network:
    """Any format -> `Network`. Native: the file's settings, then `overrides` (options);
    authors' and NIR: defaults (NIR: the graph's metadata), the `<model>.silifc.toml` sidecar,
    then `overrides`."""
    path = Path(path)
    if path.exists() and is_nir_file(path):
        return load_nir(path, overrides)
    nir_options = sorted(key for key in NIR_CONFIG_FIELDS if (overrides or {}).get(key))
    if nir_options:
        raise ConfigError(f"{', '.join(nir_options)} apply to NIR graphs (.nir) only; {path} is a checkpoint")
    overrides = {key: value for key, value in (overrides or {}).items() if key not in NIR_CONFIG_FIELDS}
    obj = read_state_dict(path)
    if is_native(obj):
        return parse_native(obj, str(path), sha256=file_sha256(path), overrides=overrides)
    return parse_state_dict(obj, path=str(path), config=load_config(path, overrides), sha256=file_sha256(path))


def convert(path: str | Path, out: str | Path, overrides: dict | None = None) -> Path:
    """An authors'-format checkpoint (with its sidecar/overrides) -> native file, same tensors."""
    network = load_model(path, overrides)
    obj = read_state_dict(Path(path))
    return save_native(out, obj if not is_native(obj) else obj["state_dict"], spec_of(network),
                       {"converted_from": str(path)})


def model_calibration(path: str | Path) -> Path | None:
    """The calibration data a model file carries: the file its sidecar names ([quantize]
    calibration), else the one a native file's meta names (meta["kws"]["calibration"], beside
    the model); None when it carries none."""
    path = Path(path)
    named = sidecar_calibration(path)
    if named is not None:
        return named
    if is_nir_file(path):              # a NIR graph carries no calibration data of its own
        return None
    obj = read_state_dict(path)
    if is_native(obj):
        name = dict(obj.get("meta", {})).get("kws", {}).get("calibration")
        if name and (path.parent / name).is_file():
            return path.parent / name
    return None

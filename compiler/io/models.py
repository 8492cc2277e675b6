"""Model files: resolve a name or path, and load either format into the raw graph IR.

A MODEL argument is a path, or the file name of a bundled model (models/<folder>/<name>,
e.g. `silif_ssc_4ms.pth`, `kws_silif.pt`). Two formats load into the same `Network`:
the authors' bare state dict (settings from the `<model>.silifc.toml` sidecar or
options, docs/silif-spec.md) and silifc's native format (silifc.io.native).
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..ir import Network
from .checkpoint import file_sha256, parse_state_dict, read_state_dict
from .config import load_config, sidecar_calibration
from .native import is_native, parse_native, save_native, spec_of

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
    """Either format -> `Network`. Native: the file's settings, then `overrides` (options);
    authors': defaults, the `<model>.silifc.toml` sidecar, then `overrides`."""
    path = Path(path)
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
    obj = read_state_dict(path)
    if is_native(obj):
        name = dict(obj.get("meta", {})).get("kws", {}).get("calibration")
        if name and (path.parent / name).is_file():
            return path.parent / name
    return None

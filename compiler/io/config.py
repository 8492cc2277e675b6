"""Model settings the state dict lacks: sidecar file `<model>.silifc.toml` and CLI overrides.

Example sidecar (every key optional; defaults are the paper's SSC 4 ms setup):

    [input]
    spatial_bin = 5        # raw channels summed per network input (700 -> 140)
    time_step_ms = 4.0     # one network step on the device
    nb_steps = 300         # bins for (time, unit) event lists (HDF5 input)
    max_time_s = 1.2       # last bin edge for (time, unit) event lists

    [quantize]
    calibration = "sample_inputs.npz"   # input file the state formats are calibrated on
                                        # (relative to the model file), used unless
                                        # --calibration names another
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:      # Python 3.10: the same parser, from PyPI (a dependency there)
    import tomli as tomllib

from ..errors import ConfigError
from ..ir import ModelConfig

SIDECAR_SUFFIX = ".silifc.toml"
SIDECAR_TABLES = {"input", "quantize"}


def sidecar_path(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + SIDECAR_SUFFIX)


def _checked(values: dict, where: str) -> dict:
    fields = {f.name: f.type for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; "
                          f"known settings are {', '.join(fields)}")
    out = {}
    for key, value in values.items():
        if fields[key] in (str, "str"):
            if not isinstance(value, str):
                raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
            out[key] = value
            continue
        want = int if key in ("spatial_bin", "nb_steps") else float
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (want is int and not isinstance(value, int)):
            raise ConfigError(f"{where}: {key} must be a{'n integer' if want is int else ' number'}, got {value!r}")
        if value <= 0:
            raise ConfigError(f"{where}: {key} must be positive, got {value!r}")
        out[key] = want(value)
    return out


def _read_sidecar(model_path: str | Path) -> tuple[Path, dict] | None:
    """(path, tables) of the sidecar beside the model, None when there is none."""
    path = sidecar_path(model_path)
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or delete the file") from exc
    unknown_tables = sorted(set(data) - SIDECAR_TABLES)
    if unknown_tables:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown_tables)}; the tables are "
                          f"{', '.join(sorted(SIDECAR_TABLES))}")
    return path, data


def load_config(model_path: str | Path | None = None, overrides: dict | None = None,
                defaults: dict | None = None) -> ModelConfig:
    """Defaults (ModelConfig's, then `defaults`: what the model file says), then the sidecar beside
    the model (if any), then non-None CLI overrides."""
    values: dict = dict(defaults or {})
    if model_path is not None:
        sidecar = _read_sidecar(model_path)
        if sidecar is not None:
            path, data = sidecar
            values.update(_checked(data.get("input", {}), str(path)))
    if overrides:
        values.update(_checked({k: v for k, v in overrides.items() if v is not None}, "command line"))
    return ModelConfig(**values)


def sidecar_calibration(model_path: str | Path) -> Path | None:
    """The calibration file the model's sidecar names ([quantize] calibration, relative to the
    model file); None without one. A named file that does not exist is an error."""
    sidecar = _read_sidecar(model_path)
    if sidecar is None:
        return None
    path, data = sidecar
    table = data.get("quantize", {})
    unknown = sorted(set(table) - {"calibration"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)} in [quantize]; known: calibration")
    if "calibration" not in table:
        return None
    if not isinstance(table["calibration"], str) or not table["calibration"]:
        raise ConfigError(f"{path}: [quantize] calibration must be a file name, got {table['calibration']!r}")
    file = Path(model_path).parent / table["calibration"]
    if not file.is_file():
        raise ConfigError(f"{path}: [quantize] calibration names {file}, which does not exist; fix the name or "
                          "delete the line")
    return file

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from silifc.io.config import load_config, sidecar_path
from silifc.errors import ConfigError
from silifc.ir import ModelConfig

pytestmark = pytest.mark.unit


def test_defaults_are_the_paper_setup(tmp_path):
    assert load_config(tmp_path / "m.pth") == ModelConfig(spatial_bin=5, time_step_ms=4.0, nb_steps=300,
                                                         max_time_s=1.2)


def test_sidecar_then_cli_override(tmp_path):
    model = tmp_path / "m.pth"
    sidecar_path(model).write_text("[input]\nspatial_bin = 1\ntime_step_ms = 10.0\n")
    config = load_config(model, {"time_step_ms": 2.5, "nb_steps": None})
    assert config.spatial_bin == 1 and config.time_step_ms == 2.5 and config.nb_steps == 300


@pytest.mark.parametrize("text,needle", [
    ("[input]\nspatial_bins = 2\n", "unknown setting(s) spatial_bins"),
    ("[input]\nspatial_bin = 2.5\n", "spatial_bin must be an integer"),
    ("[input]\nspatial_bin = -1\n", "must be positive"),
    ("[network]\nx = 1\n", "unknown table(s) network"),
    ("[input\n", "not valid TOML"),
])
def test_bad_sidecar(tmp_path, text, needle):
    model = tmp_path / "m.pth"
    sidecar_path(model).write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(model)
    assert needle in str(info.value) and "m.silifc.toml" in str(info.value)


def test_python_3_10_reads_toml_with_tomli():
    """Python 3.10 has no tomllib: the config module falls back to tomli, which pyproject
    declares for Python < 3.11."""
    probe = ("import sys, types\n"
             "sys.modules['tomllib'] = None\n"                      # what 3.10 has: nothing
             "fake = types.ModuleType('tomli'); fake.loads = lambda s: {'input': {'nb_steps': 7}}\n"
             "fake.TOMLDecodeError = ValueError; sys.modules['tomli'] = fake\n"
             "import silifc.io.config as config\n"
             "assert config.tomllib is fake, config.tomllib\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    declared = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert "tomli>=2; python_version < '3.11'" in declared["project"]["dependencies"]

"""A non-editable install finds its templates, boards, C runtime and bundled models."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    # A copy of the tree keeps build artefacts out of the work tree.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True, timeout=300)
    return target


def _run(installed, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(installed))
    return subprocess.run([sys.executable, str(installed / "bin" / "silifc"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_installed_package_is_used_and_has_its_data(installed, tmp_path):
    code = ("import silifc, importlib.resources as r; print(silifc.__file__); "
            "print(sorted(p.name for p in r.files('silifc.models').joinpath('paper-ssc').iterdir()))")
    env = dict(os.environ, PYTHONPATH=str(installed))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    module_file, listing = done.stdout.splitlines()
    assert module_file.startswith(str(installed))
    for name in ("LICENSE", "silif_ssc_4ms.pth", "csilif_ssc_4ms.pth", "sample_inputs.npz"):
        assert name in listing
    assert (installed / "silifc" / "models" / "kws" / "stream.wav").is_file()
    assert (installed / "silifc" / "runtime_c" / "frontend" / "slf_detect.h").is_file()
    for package in ("runtime_c", "templates", "boards"):
        assert (installed / "silifc" / package).is_dir()
    for path in ("tools/insncount/insncount.c", "tools/insncount/qemu_plugin_api.h", "runtime_c/src/internal/slf_base.h",
                 "runtime_c/src/dsp/slf_silif_update_q31.c", "runtime_c/src/portable/slf_silif_update_q31.c"):
        assert (installed / "silifc" / path).is_file(), path


@pytest.mark.parametrize("model", ["silif_ssc_4ms.pth", "csilif_ssc_4ms.pth"])
def test_installed_console_script_checks_bundled_models(installed, tmp_path, model):
    done = _run(installed, "check", model, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["widths"] == [140, 512, 512, 35] and str(installed) in report["model"]


def test_installed_console_script_checks_the_bundled_nir_model(installed, tmp_path):
    """The .nir file and its sidecar are package data; the NIR reader is part of the package."""
    done = _run(installed, "check", "timing_snntorch.nir", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["widths"] == [32, 48, 8] and report["dialect"] == "snntorch" and str(installed) in report["model"]

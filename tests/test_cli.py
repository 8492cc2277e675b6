"""The check and infer commands, in-process and as the installed console script."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from silifc.cli import main
from silifc.reference.results import RunResult

from conftest import GOLDEN, PAPER_MODELS
from test_inputs import write_shd

pytestmark = pytest.mark.unit


def test_check_json_on_golden(capsys):
    assert main(["check", str(PAPER_MODELS["silif"]), "--input", str(GOLDEN / "inputs.npz"),
                 "--weights", "int16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["widths"] == [140, 512, 512, 35]
    assert report["decision_agreement"] == 1.0
    assert len(report["layers"]) == 2 and report["layers"][0]["flip_rate_alone"] < 0.001


def test_check_text_table_for_bundled_name(capsys):
    assert main(["check", "csilif_ssc_4ms.pth"]) == 0
    out = capsys.readouterr().out
    assert "random events" in out and "decision agreement" in out and "Q13.18" in out


def test_check_hdf5_reports_accuracy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 1.0, 400)), rng.integers(0, 700, 400)) for _ in range(3)]
    path = write_shd(tmp_path / "tiny.h5", samples, [0, 1, 2])
    assert main(["check", str(PAPER_MODELS["silif"]), "--input", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 3
    assert report["float_accuracy"] is not None and report["int_accuracy"] is not None


@pytest.mark.parametrize("engine", ["float", "float32", "int"])
def test_infer_writes_diffable_results(tmp_path, engine):
    out = tmp_path / f"{engine}.npz"
    assert main(["infer", str(PAPER_MODELS["silif"]), "--input", str(GOLDEN / "inputs.npz"),
                 "--engine", engine, "--out", str(out)]) == 0
    result = RunResult.load(out)
    assert result.engine == engine and result.outputs.shape == (8, 35) and len(result.spikes) == 2
    golden = np.load(GOLDEN / "silif_reference.npz")
    assert np.array_equal(result.decisions, golden["pred"])
    if engine != "int":
        assert np.array_equal(result.spikes[0], golden["spikes_l0"])


def test_errors_are_reported_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.pth"
    bad.write_text("not a model")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("silifc: error:") and "not a PyTorch checkpoint" in err and "Traceback" not in err


def test_console_script_runs():
    script = __import__("shutil").which("silifc") or str(__import__("pathlib").Path(sys.executable).parent / "silifc")
    done = subprocess.run([script, "infer", "silif_ssc_4ms.pth", "--engine", "int", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["samples"] == 8

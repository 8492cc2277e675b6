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


# ---------------------------------------------------------------- the CLI's sharp edges (issue 17, item 5)

TIMING = "timing_nodelays.pt"          # bundled, small: 32 -> 16 -> 8, fits every board


def _board_file(folder, name="my_board", base="nrf52840"):
    from silifc.codegen.boards import BOARD_PACKAGE
    from importlib.resources import files

    text = (files(BOARD_PACKAGE) / f"{base}.yaml").read_text().replace(f"name: {base}", f"name: {name}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    return folder / f"{name}.yaml"


def test_board_by_path_and_from_the_board_search_path(tmp_path, monkeypatch, capsys):
    """A board file by path, and by name from a folder in SILIFC_BOARD_ROOT (which `silifc boards`
    lists with its file); before, a name outside the shipped boards was unknown."""
    path = _board_file(tmp_path / "boards")
    assert main(["compile", TIMING, "--board", str(path), "-o", str(tmp_path / "a"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["board"] == "my_board"
    assert main(["compile", TIMING, "--board", "my_board", "-o", str(tmp_path / "b")]) == 2
    assert "unknown board 'my_board'" in capsys.readouterr().err
    monkeypatch.setenv("SILIFC_BOARD_ROOT", f"{tmp_path / 'elsewhere'}")
    assert main(["boards"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("SILIFC_BOARD_ROOT", f"{tmp_path / 'elsewhere'}:{tmp_path / 'boards'}")
    assert main(["compile", TIMING, "--board", "my_board", "-o", str(tmp_path / "b"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["board"] == "my_board"
    assert main(["boards"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("my_board ")]
    assert len(listed) == 1 and str(path) in listed[0]


def test_run_on_a_build_only_board_says_so_before_any_work(capsys):
    """Before: a traceback (AttributeError on board.emulator) after quantizing and building."""
    assert main(["run", TIMING, "--board", "samd21g18a"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "board samd21g18a has no emulator" in err and "--board nrf52840" in err
    assert "calibration" not in err                              # refused before loading the model


@pytest.mark.parametrize("prefix", ["slf", "sh"])
def test_a_prefix_in_the_runtimes_namespace_is_refused(tmp_path, capsys, prefix):
    """Before: --prefix slf was accepted, and the project did not compile (slf_readout_layer)."""
    assert main(["compile", TIMING, "--board", "nrf52840", "-o", str(tmp_path / "p"), "--prefix", prefix]) == 2
    assert "clashes with the C that silifc ships" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_the_calibration_source_is_always_said(tmp_path, capsys):
    """Bundled models calibrate on the data they carry (and say which); a model without any says it
    calibrates on random events, as a warning. Before: nothing was said either way."""
    from silifc.io.models import bundled_model_path

    for name, data in (("silif_ssc_4ms.pth", "sample_inputs.npz"), (TIMING, "calibration.npz"),
                       ("kws_silif.pt", "calibration.npz")):
        assert main(["infer", name, "--engine", "int", "--json"]) == 0
        err = capsys.readouterr().err
        assert f"calibration: {bundled_model_path(name).parent / data}" in err, err
        assert "warning" not in err
    bare = tmp_path / "model.pt"
    bare.write_bytes(bundled_model_path(TIMING).read_bytes())     # no sidecar, no calibration beside it
    assert main(["infer", str(bare), "--engine", "int", "--json"]) == 0
    assert "warning: calibrating the state formats on seeded random events" in capsys.readouterr().err
    assert main(["infer", str(bare), "--engine", "int", "--calibration",
                 str(bundled_model_path(TIMING).parent / "calibration.npz"), "--json"]) == 0
    assert "calibration: " in capsys.readouterr().err


@pytest.mark.firmware
def test_make_run_runs_the_sample_the_project_carries(tmp_path, capsys):
    """`make run` with no arguments runs app/sample.slfi (the compile's --input, else random events)
    and prints its decision; before, the firmware printed its usage and nothing wrote an input."""
    from silifc import api

    inputs = str(tmp_path / "in.npz")
    counts = api.load(TIMING).inputs(None).counts[:3]
    np.savez(inputs, inputs=counts)
    assert main(["compile", TIMING, "--board", "nrf52840", "-o", str(tmp_path / "p"), "--input", inputs]) == 0
    done = subprocess.run(["make", "-s", "-C", str(tmp_path / "p"), "run"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    quantized = api.load(TIMING).quantize()
    expected = quantized.infer(counts[:1]).decisions[0]
    assert f"sample 0: decision {expected}" in done.stdout
    assert (tmp_path / "p" / "build" / "result.slfo").is_file()

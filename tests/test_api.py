"""The Python API (silifc.api, exported lazily by `import silifc`): what the CLI calls, typed
results, the README's session, progress from a running emulator."""
from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import silifc
from silifc.reference.int_ref import run_int

ROOT = Path(__file__).resolve().parent.parent
TIMING = "timing_delays.pt"


@pytest.mark.unit
def test_import_silifc_is_light_and_exports_the_api_on_use():
    code = ("import sys, silifc; assert 'silifc.api' not in sys.modules and 'torch' not in sys.modules; "
            "silifc.load; assert 'silifc.api' in sys.modules; print(sorted(silifc.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "load" in done.stdout and "QuantizedModel" in done.stdout
    with pytest.raises(AttributeError, match="no attribute 'compile_everything'"):
        silifc.compile_everything


@pytest.mark.unit
def test_load_quantize_infer_check_are_the_references():
    model = silifc.load(TIMING)
    assert model.network.n_inputs == 32 and model.path.name == TIMING
    q = model.quantize()
    assert not q.calibration.random and q.calibration.source.endswith("calibration.npz (32 samples)")
    inputs = model.inputs()                                         # seeded random events
    assert inputs.counts.shape == (8, 64, 32) and "random events" in inputs.source
    result = q.infer(inputs)
    assert result.engine == "int" and np.array_equal(result.outputs, run_int(q.quantized, inputs.counts).outputs)
    assert np.array_equal(q.infer(inputs.counts[0]).outputs, result.outputs[:1])      # [T, C]: one sample
    check = q.check(inputs)
    assert check.report.samples == 8 and check.int_result.engine == "int" and check.float_result.engine == "float"
    assert model.infer(inputs, engine="float").decisions.tolist() == check.float_result.decisions.tolist()
    with pytest.raises(silifc.api.InputDataError, match="channels per step"):
        q.infer(np.zeros((2, 10, 5), np.int64))
    int16 = model.quantize(weights="int16", calibration=inputs.counts)
    assert int16.quantized.weight_bits == 16 and int16.calibration.source.startswith("array [8, 64, 32]")


@pytest.mark.unit
def test_random_calibration_warns(tmp_path):
    bare = tmp_path / "model.pt"
    bare.write_bytes(silifc.load(TIMING).path.read_bytes())
    with pytest.warns(silifc.CalibrationWarning, match="seeded random events"):
        q = silifc.load(bare).quantize()
    assert q.calibration.random


@pytest.mark.firmware
def test_compile_and_run_in_qemu_with_progress(tmp_path):
    q = silifc.load(TIMING).quantize()
    compiled = q.compile(board="nrf52840", output=tmp_path / "p", prefix="timing")
    assert (tmp_path / "p" / "model" / "timing_model.h").is_file() and (tmp_path / "p" / "app" / "sample.slfi").is_file()
    assert compiled.plan.ram_bytes == sum(b.bytes for b in compiled.plan.buffers if b.section == "ram")
    seen = []
    counts = q.inputs().counts[:5]
    run = compiled.run(counts, spikes=True, progress=lambda done, total: seen.append((done, total)))
    assert run.bit_exact and run.spike_mismatches == [0]
    assert np.array_equal(run.decisions, run_int(q.quantized, counts).decisions)
    assert run.cycles_per_step > run.instructions_per_step > 0 and run.budget_cycles == 64e6 * 0.004
    assert seen and seen[-1] == (5, 5) and all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    with pytest.raises(silifc.api.BoardNotEmulatedError, match="samd21g18a has no emulator"):
        q.compile(board="samd21g18a").run(counts)


@pytest.mark.unit
def test_arduino_layout(tmp_path):
    q = silifc.load(TIMING).quantize()
    compiled = q.compile(board="nrf52840", output=tmp_path / "lib", prefix="timing", layout="arduino")
    names = {p.relative_to(tmp_path / "lib").as_posix() for p in (tmp_path / "lib").rglob("*") if p.is_file()}
    assert {"library.properties", "src/timing_model.h", "src/timing_model.c", "src/silifc.h",
            "examples/timing_run/timing_run.ino", "memory_report.txt"} <= names
    flat = {name for name in names if name.startswith("src/") and "/" not in name[4:]}      # Arduino's include path
    assert {"src/slf_common.h", "src/timing_model.h"} <= flat
    assert "src/runtime/dsp/slf_silif_update_q31.c" in names and not any("/portable/" in name for name in names)
    with pytest.raises(silifc.api.ConfigError, match="default project layout"):
        compiled.build()


@pytest.mark.unit
def test_api_entry_points_refuse_bad_models_inputs_and_boards(tmp_path, monkeypatch):
    """The checks of the CLI (issue 18) guard the Python API too: each refusal is a SilifcError
    that says what, where and what to do."""
    from test_reliability import tiny_model

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x80" + bytes(range(200)))
    with pytest.raises(silifc.errors.CheckpointError, match="not a readable checkpoint: the data is corrupt"):
        silifc.load(garbage)
    with pytest.raises(silifc.errors.CheckpointError, match="no_such_model.pt: no such file"):
        silifc.load("no_such_model.pt")
    model = silifc.load(TIMING)
    with pytest.raises(silifc.api.InputDataError, match="spike count -1 at sample 0, step 0, channel 0 is negative"):
        model.inputs(np.full((1, 10, 32), -1))
    labelled = tmp_path / "labels.npz"
    np.savez(labelled, inputs=np.zeros((2, 64, 32), np.int64), labels=np.array([0, 99]))
    with pytest.raises(silifc.api.InputDataError, match="label 99 out of range for 8 classes"):
        model.quantize().infer(labelled)
    with pytest.raises(silifc.errors.SilifcError, match="unknown board 'no_such_board'; known boards: .*nrf52840"):
        model.quantize().compile(board="no_such_board")
    (tmp_path / "a_file").write_text("mine")
    with pytest.raises(silifc.api.OutputFolderError, match="is a file, not a folder"):
        model.quantize().compile(board="nrf52840", output=tmp_path / "a_file")
    assert (tmp_path / "a_file").read_text() == "mine"
    wide = silifc.load(tiny_model(tmp_path / "wide.pth", widths=(140, 20_000, 4)))
    import silifc.passes.quantize as quantize

    def no_calibration(*args, **kwargs):
        raise AssertionError("calibration ran before the memory fit was decided")
    monkeypatch.setattr(quantize, "run_float", no_calibration)
    with pytest.raises(silifc.errors.SilifcError, match="does not fit board nrf52840"):
        wide.quantize(board="nrf52840")


@pytest.mark.unit
def test_api_writes_projects_through_the_one_writer(tmp_path):
    """compile() writes through io.files.write_generated: the sample is in the manifest, a user's
    file in the way is refused untouched, files of another prefix or an earlier keyword app in
    the folder are removed, the user's other files kept; the Arduino layout likewise."""
    from silifc.io.files import generated_files, write_generated

    q = silifc.load(TIMING).quantize()
    out = tmp_path / "p"
    q.compile(board="nrf52840", output=out, prefix="timing")
    assert generated_files(out, "sample") == ["app/sample.slfi"]
    assert "model/timing_model.c" in generated_files(out, "model")
    (out / "notes.txt").write_text("mine")
    write_generated(out, {"audio/main.c": "/* an earlier compile --audio */\n"}, part="audio")
    q.compile(board="nrf52840", output=out, prefix="other")
    assert not (out / "model" / "timing_model.c").exists() and (out / "model" / "other_model.c").is_file()
    assert not (out / "audio").exists() and (out / "notes.txt").read_text() == "mine"
    user = tmp_path / "user"
    user.mkdir()
    (user / "Makefile").write_text("all:\n\techo mine\n")
    with pytest.raises(silifc.api.OutputFolderError, match="did not write.*Makefile"):
        q.compile(board="nrf52840", output=user, prefix="timing")
    assert sorted(p.name for p in user.iterdir()) == ["Makefile"] and "mine" in (user / "Makefile").read_text()
    library = tmp_path / "lib"
    q.compile(board="nrf52840", output=library, prefix="timing", layout="arduino")
    q.compile(board="nrf52840", output=library, prefix="other", layout="arduino")
    assert not (library / "src" / "timing_model.c").exists() and (library / "src" / "other_model.c").is_file()
    (library / "library.properties").write_text("name=mine\n")
    with pytest.raises(silifc.api.OutputFolderError, match="changed since"):
        q.compile(board="nrf52840", output=library, prefix="other", layout="arduino")
    assert (library / "library.properties").read_text() == "name=mine\n"


def readme_session() -> str:
    """The Python session of README.md (the ```python block under "From Python")."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"### From Python\n.*?```python\n(.*?)```", text, re.S)
    assert block, "README.md has no python block under '### From Python'"
    return block.group(1)


@pytest.mark.firmware
def test_the_readme_session_compiles_and_runs_the_paper_model(tmp_path, monkeypatch):
    """Every line of the README's session, run as written; its comments state what it checks."""
    monkeypatch.chdir(tmp_path)
    session = readme_session()
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", silifc.CalibrationWarning)     # the paper model carries its calibration
        exec(compile(session, "README.md", "exec"), namespace)
    run = namespace["run"]
    assert run.bit_exact and run.inputs.counts.shape[0] == 2
    assert (tmp_path / "build" / "ssc" / "model" / "silifc_model.h").is_file()
    assert namespace["q"].model.path.name == "silif_ssc_4ms.pth"

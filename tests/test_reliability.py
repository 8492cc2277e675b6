"""The bad-input catalogue of docs/reliability.md: 41 ways a careless or hostile user tried to
break silifc (issue 18), each a test. Every case ends in one of two ways: a refusal with a
`silifc: error:` message (exit 2, no traceback, nothing of the user's touched), or a correct
result with a warning where one is due. Cases C05/C06 (the generated C API) live in
tests/test_api_c_total.py; the others are here, in the catalogue's order.
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from silifc.cli import main

from conftest import PAPER_MODELS, ROOT
from synthetic import random_state_dict
from test_inputs import write_shd

SILIFC = [str(Path(sys.executable).with_name("silifc"))]      # the console script


# ---------------------------------------------------------------- helpers

def tiny_model(path: Path, kinds=("silif",), widths=(10, 8, 3), seed=1, edit=None) -> Path:
    """A small authors'-format model with spatial_bin 1 in its sidecar."""
    state = random_state_dict(widths=widths, kinds=kinds, seed=seed)
    if edit is not None:
        edit(state)
    torch.save(state, path)
    path.with_name(path.stem + ".silifc.toml").write_text("[input]\nspatial_bin = 1\nnb_steps = 40\n")
    return path


def snapshot(folder: Path) -> dict:
    """Every file under folder with its bytes and modification time."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(capsys, argv, *phrases) -> str:
    """main(argv) exits 2 with a one-line-headed `silifc: error:` message holding every phrase
    (after at most a few `silifc:` lines of progress or warnings, e.g. the calibration said)."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "silifc: error: " in err, err
    before, error = err.split("silifc: error: ", 1)
    assert all(line.startswith("silifc: ") for line in before.splitlines()), err
    for phrase in phrases:
        assert phrase in error, f"{phrase!r} not in {error!r}"
    return err


def npz(path: Path, inputs, labels=None) -> Path:
    arrays = {"inputs": np.asarray(inputs)}
    if labels is not None:
        arrays["labels"] = np.asarray(labels)
    np.savez(path, **arrays)
    return path


def counts(samples=2, steps=40, inputs=10, seed=0):
    return (np.random.default_rng(seed).random((samples, steps, inputs)) < 0.1).astype(np.int64)


def wav_bytes(samples: int, declared: int | None = None, rate=16000) -> bytes:
    body = b"\0\0" * samples
    size = len(body) if declared is None else 2 * declared
    fmt = struct.pack("<HHIIHH", 1, 1, rate, 2 * rate, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", size) + body)


@pytest.fixture
def model(tmp_path):
    return tiny_model(tmp_path / "tiny.pth")


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A cache of this test's own, so builds really happen and temp folders can be counted."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SILIFC_CACHE", str(cache))
    return cache


# ---------------------------------------------------------------- C01-C02 data loss

@pytest.mark.unit
def test_c01_compile_into_a_folder_with_the_users_makefile_touches_nothing(tmp_path, model, capsys):
    out = tmp_path / "project"
    out.mkdir()
    (out / "Makefile").write_text("# my own build\nall:\n\techo mine\n")
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    refused(capsys, ["compile", model, "--board", "nrf52840", "-o", out], "Makefile", "did not write",
            "choose an empty or new folder")
    assert snapshot(out) == before                     # nothing written, nothing changed


@pytest.mark.unit
def test_c02_recompiling_with_another_prefix_removes_the_stale_sources(tmp_path, model, capsys):
    out = tmp_path / "project"
    assert main(["compile", str(model), "--board", "nrf52840", "-o", str(out), "--prefix", "first"]) == 0
    (out / "mine.c").write_text("int mine;\n")              # the user's own file in the folder
    assert (out / "model" / "first_model.c").is_file()
    assert main(["compile", str(model), "--board", "nrf52840", "-o", str(out), "--prefix", "second"]) == 0
    capsys.readouterr()
    assert not (out / "model" / "first_model.c").exists() and not (out / "model" / "first_model.h").exists()
    assert (out / "model" / "second_model.c").is_file()
    assert (out / "mine.c").read_text() == "int mine;\n"
    # and a generated file the user edited is never overwritten
    makefile = out / "Makefile"
    makefile.write_text(makefile.read_text() + "# my change\n")
    before = snapshot(out)
    refused(capsys, ["compile", model, "--board", "nrf52840", "-o", out, "--prefix", "third"],
            "Makefile", "changed since")
    assert snapshot(out) == before


# ---------------------------------------------------------------- C03-C04 unsafe output

def _csilif_nan_decay(state):
    state["snn.0.log_dt"][0] = 1000.0            # dt = inf
    state["snn.0.log_log_alpha"][0] = -1000.0    # Re lambda = -0: 0 * inf = NaN -> decay NaN


def _silif_nan_alpha(state):
    state["snn.0.dt"][0] = 1000.0                # dt = inf
    state["snn.0.alpha"][0] = -1000.0            # rate 0: 0 * inf = NaN -> alpha, weights NaN


@pytest.mark.unit
@pytest.mark.parametrize("kind, edit, field", [("csilif", _csilif_nan_decay, "decay_re"),
                                               ("silif", _silif_nan_alpha, "alpha")])
def test_c03_c04_finite_parameters_that_fold_to_nan_are_refused_before_any_file(tmp_path, capsys, kind, edit, field):
    path = tiny_model(tmp_path / f"{kind}.pth", kinds=(kind,), edit=edit)
    out = tmp_path / "project"
    refused(capsys, ["compile", path, "--board", "nrf52840", "-o", out],
            f"folded {field} of neuron 0 is nan", "snn.0", "check the checkpoint")
    assert not out.exists()
    refused(capsys, ["check", path], f"folded {field}")          # and no "bit-exact" anywhere


# ---------------------------------------------------------------- C07-C08 fails late and large

def _huge_model(path: Path, width: int) -> Path:
    """140 -> width -> 35 without the bytes: expanded (stride-0) tensors save one value each."""
    def put(n_out, n_in):
        return {"W.weight": torch.zeros(1, 1).expand(n_out, n_in), "norm.weight": torch.ones(1).expand(n_out),
                "norm.bias": torch.zeros(1).expand(n_out), "norm.running_mean": torch.zeros(1).expand(n_out),
                "norm.running_var": torch.ones(1).expand(n_out)}
    state = {f"snn.0.{k}": v for k, v in put(width, 140).items()}
    state.update({f"snn.0.{k}": torch.full((1,), v).expand(width)
                  for k, v in (("dt", -5.0), ("alpha", 3.0), ("beta", 1.0), ("a", 0.5), ("b", 0.5))})
    state.update({f"snn.1.{k}": v for k, v in put(35, width).items()})
    state["snn.1.alpha"] = torch.full((35,), 0.9)
    torch.save(state, path)
    assert path.stat().st_size < 100_000
    return path


@pytest.mark.unit
@pytest.mark.parametrize("width", [100_000, 1_000_000])
def test_c07_c08_a_layer_too_wide_for_any_board_is_refused_at_once(tmp_path, capsys, width):
    path = _huge_model(tmp_path / "huge.pth", width)
    started = time.perf_counter()
    refused(capsys, ["compile", path, "--board", "nrf52840", "-o", tmp_path / "out"],
            f"140 inputs -> {width:,} neurons", "16 bits")
    assert time.perf_counter() - started < 5


@pytest.mark.unit
def test_c07_the_memory_fit_is_decided_from_shapes_before_calibration(tmp_path, capsys, monkeypatch):
    """140 -> 20,000: 2.8 MB of int8 weights cannot fit 1 MB of flash; calibration must not run."""
    path = tiny_model(tmp_path / "wide.pth", widths=(140, 20_000, 4))
    import silifc.passes.quantize as quantize

    def no_calibration(*args, **kwargs):
        raise AssertionError("calibration ran before the memory fit was decided")
    monkeypatch.setattr(quantize, "run_float", no_calibration)
    refused(capsys, ["compile", path, "--board", "nrf52840", "-o", tmp_path / "out"],
            "does not fit board nrf52840", "flash", "over by")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- C09-C18 silent acceptance

@pytest.mark.unit
def test_c09_hdf5_unit_indices_beyond_the_model_are_refused(tmp_path, model, capsys):
    path = write_shd(tmp_path / "d.h5", [(np.array([0.1, 0.2]), np.array([3, 600]))], [0])
    refused(capsys, ["check", model, "--input", path], "unit index 600", "10 raw channels")


@pytest.mark.unit
def test_c10_hdf5_negative_times_are_refused(tmp_path, model, capsys):
    path = write_shd(tmp_path / "d.h5", [(np.array([-0.05, 0.2]), np.array([3, 4]))], [0])
    refused(capsys, ["check", model, "--input", path], "negative spike time", "sample 0")


@pytest.mark.unit
@pytest.mark.parametrize("case, labels, phrase", [("c11", [-1, 0], "labels must be >= 0, found -1"),
                                                  ("c12", [99, 0], "label 99 out of range for 3 classes"),
                                                  ("c13", [0.5, 1.0], "integer class indices, found 0.5")])
def test_c11_c12_c13_labels_outside_the_classes_are_refused(tmp_path, model, capsys, case, labels, phrase):
    path = npz(tmp_path / "d.npz", counts(), labels)
    refused(capsys, ["check", model, "--input", path], phrase)


@pytest.mark.unit
def test_c14_an_empty_calibration_file_is_refused(tmp_path, model, capsys):
    path = npz(tmp_path / "calib.npz", np.zeros((0, 40, 10), np.int64))
    refused(capsys, ["check", model, "--calibration", path], "no samples")


@pytest.mark.unit
def test_c15_a_wav_without_samples_is_refused(tmp_path, capsys):
    path = tmp_path / "empty.wav"
    path.write_bytes(wav_bytes(0))
    refused(capsys, ["listen", "--wav", path], "no audio samples")
    short = tmp_path / "short.wav"
    short.write_bytes(wav_bytes(30))                        # less than one 4 ms step (64 samples)
    refused(capsys, ["listen", "--wav", short], "shorter than one step")


@pytest.mark.unit
def test_c16_a_truncated_wav_is_refused(tmp_path, capsys):
    path = tmp_path / "cut.wav"
    path.write_bytes(wav_bytes(8000, declared=16000))       # header says 1 s, file holds 0.5 s
    refused(capsys, ["listen", "--wav", path], "truncated", "16,000 samples", "8,000")


@pytest.mark.unit
def test_c17_a_spike_model_is_refused_for_audio(tmp_path, capsys):
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(16000))
    refused(capsys, ["run", "silif_ssc_4ms.pth", "--wav", path], "not a keyword-spotting model", "--input")


@pytest.mark.firmware
def test_c18_a_step_over_the_real_time_budget_is_a_warning_with_its_index(tmp_path, model, capsys, own_cache):
    board = tmp_path / "slow_board.yaml"
    text = (ROOT / "boards" / "nrf52840.yaml").read_text()
    import re
    board.write_text(re.sub(r"(?m)^name:.*$", "name: slow_board", re.sub(r"(?m)^clock_hz:.*$", "clock_hz: 100000", text)))
    inputs = npz(tmp_path / "in.npz", counts(2, 40))
    assert main(["run", str(model), "--board", str(board), "--input", str(inputs)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "exceed the real-time budget of 400 cycles" in err and "step " in err \
        and "of sample " in err


# ---------------------------------------------------------------- C19-C30 tracebacks

@pytest.mark.unit
def test_c19_a_zero_width_layer_is_refused(tmp_path, capsys):
    path = tiny_model(tmp_path / "z.pth", kinds=("silif", "silif"), widths=(10, 8, 0, 3))
    refused(capsys, ["check", path], "no neurons", "snn.1")


@pytest.mark.unit
@pytest.mark.parametrize("case, shape, phrase", [("c20", (0, 40, 10), "no samples"), ("c21", (2, 0, 10), "no steps")])
def test_c20_c21_inputs_without_samples_or_steps_are_refused(tmp_path, model, capsys, case, shape, phrase):
    path = npz(tmp_path / "in.npz", np.zeros(shape, np.int64))
    refused(capsys, ["infer", model, "--input", path], phrase)


@pytest.mark.unit
def test_c22_a_hundred_million_steps_are_refused_before_allocating(model, capsys):
    started = time.perf_counter()
    refused(capsys, ["check", model, "--nb-steps", "100000000"], "GiB of host memory", "fewer samples or steps")
    assert time.perf_counter() - started < 10


@pytest.mark.unit
def test_c23_headroom_nan_is_refused(model, capsys):
    refused(capsys, ["check", model, "--headroom", "nan"], "--headroom nan", "finite number >= 1")


@pytest.mark.unit
def test_c24_an_npz_that_is_not_a_zip_is_refused(tmp_path, model, capsys):
    path = tmp_path / "in.npz"
    path.write_bytes(b"this is not a zip archive")
    refused(capsys, ["check", model, "--input", path], "cannot read it as an .npz archive")


@pytest.mark.unit
def test_c25_output_pointing_at_a_file_leaves_the_file_alone(tmp_path, model, capsys):
    target = tmp_path / "report.txt"
    target.write_text("mine")
    refused(capsys, ["compile", model, "--board", "nrf52840", "-o", target], "is a file, not a folder")
    assert target.read_text() == "mine"


@pytest.mark.unit
def test_c26_output_in_a_read_only_folder_is_refused(tmp_path, model, capsys, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):          # root ignores permission bits: make the check see what a user sees
        import silifc.io.files as files
        real = files.os.access
        monkeypatch.setattr(files.os, "access", lambda p, mode: False if Path(p) == folder else real(p, mode))
    refused(capsys, ["compile", model, "--board", "nrf52840", "-o", folder / "project"], "permission denied",
            "choose a folder you can write to")
    assert list(folder.iterdir()) == []


@pytest.mark.unit
def test_c27_out_into_a_missing_folder_is_refused_before_work(tmp_path, model, capsys):
    refused(capsys, ["infer", model, "--out", tmp_path / "missing" / "r.npz"], "does not exist", "create it first")


@pytest.mark.firmware
@pytest.mark.parametrize("case", ["c28_truncated_elf", "c29_empty_stamp"])
def test_c28_c29_a_damaged_build_cache_is_rebuilt(tmp_path, model, capsys, own_cache, case):
    argv = ["run", str(model), "--board", "nrf52840", "--input", str(npz(tmp_path / "in.npz", counts()))]
    assert main(argv) == 0
    (elf,) = own_cache.glob("builds/*/build/firmware.elf")
    stamp = elf.with_name("firmware-stamp.json")
    if case == "c28_truncated_elf":
        elf.write_bytes(elf.read_bytes()[:1000])
    else:
        stamp.write_text("")
    capsys.readouterr()
    assert main(argv) == 0                                  # rebuilt, not an error
    captured = capsys.readouterr()
    assert "building firmware" in captured.err and "RESULT: bit-exact" in captured.out
    assert elf.stat().st_size > 1000 and stamp.read_text().startswith("{")


# ---------------------------------------------------------------- C30-C35 interruption: subprocess helpers

def _processes() -> list[tuple[int, str, int, int]]:
    """(pid, command name, parent pid, process group) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found.append((int(entry.name), name, int(fields[1]), int(fields[2])))
    return found


def _descendants(root: int) -> list[tuple[int, str, int, int]]:
    processes = _processes()
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, _, ppid, _ in processes:
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    return [p for p in processes if p[0] in family and p[0] != root]


def _start(argv, cache: Path, wait_for: str, timeout=120) -> tuple[subprocess.Popen, list]:
    """Start silifc with argv and wait until a child named wait_for runs; (process, its children)."""
    env = {**os.environ, "SILIFC_CACHE": str(cache)}
    # SIGINT as in an interactive shell: a test run started in the background (`pytest ... &` in a
    # script) has SIGINT ignored, which its children inherit, and Python keeps it ignored.
    process = subprocess.Popen([*SILIFC, *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = _descendants(process.pid)
        if any(wait_for in name for _, name, _, _ in children):
            return process, children
        if process.poll() is not None:
            raise AssertionError(f"silifc ended before {wait_for} ran: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no {wait_for} child within {timeout} s")


def _gone(groups: set[int], timeout=10) -> list:
    """Processes still in any of these groups after up to timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in _processes() if p[3] in groups and not _zombie(p[0])]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _temp_folders(cache: Path) -> list[Path]:
    return sorted((cache / "tmp").iterdir()) if (cache / "tmp").is_dir() else []


def _long_run_input(tmp_path) -> Path:
    return npz(tmp_path / "long.npz", counts(samples=400, steps=300, seed=3))


@pytest.mark.firmware
@pytest.mark.parametrize("case, signum, child", [
    ("c30_ctrl_c_run", signal.SIGINT, "qemu-system-arm"),
    ("c31_sigterm_build", signal.SIGTERM, "cc1"),
    ("c32_sigterm_run", signal.SIGTERM, "qemu-system-arm"),
])
def test_c30_c31_c32_an_interrupted_silifc_stops_its_children_and_says_one_line(tmp_path, model, case, signum,
                                                                               child):
    cache = tmp_path / "cache"
    argv = ["run", model, "--board", "nrf52840", "--input", _long_run_input(tmp_path)]
    if child == "qemu-system-arm":          # build first, so that the signal meets QEMU
        subprocess.run([*SILIFC, *map(str, argv[:4]), "--input", str(npz(tmp_path / "s.npz", counts(1, 5)))],
                       env={**os.environ, "SILIFC_CACHE": str(cache)}, cwd=ROOT, check=True, capture_output=True)
    process, children = _start(argv, cache, child)
    groups = {pgid for _, _, _, pgid in children}
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == (130 if signum == signal.SIGINT else 143), err
    assert "Traceback" not in err and len([l for l in err.splitlines() if "interrupted" in l or "terminated" in l]) == 1
    assert _gone(groups) == []
    assert _temp_folders(cache) == []


@pytest.mark.firmware
@pytest.mark.parametrize("case, child", [("c33_sigkill_build", "cc1"), ("c34_sigkill_run", "qemu-system-arm")])
def test_c33_c34_c35_a_killed_silifc_leaves_no_process_and_its_temp_folders_are_swept(tmp_path, model, case, child):
    cache = tmp_path / "cache"
    argv = ["run", model, "--board", "nrf52840", "--input", _long_run_input(tmp_path)]
    if child == "qemu-system-arm":
        subprocess.run([*SILIFC, *map(str, argv[:4]), "--input", str(npz(tmp_path / "s.npz", counts(1, 5)))],
                       env={**os.environ, "SILIFC_CACHE": str(cache)}, cwd=ROOT, check=True, capture_output=True)
    process, children = _start(argv, cache, child)
    groups = {pgid for _, _, _, pgid in children}
    process.kill()
    process.communicate(timeout=30)
    assert _gone(groups) == []                      # C33/C34: the kernel ended the children with silifc
    assert _temp_folders(cache)                     # SIGKILL runs no cleanup: the folder is still there ...
    from silifc.io.files import sweep_orphaned_temp_folders
    sweep_orphaned_temp_folders(cache / "tmp")      # ... until the next silifc starts a temp folder (C35)
    assert _temp_folders(cache) == []


# ---------------------------------------------------------------- C36-C38 misleading messages

@pytest.mark.unit
def test_c36_random_bytes_after_0x80_are_called_corrupt_not_code(tmp_path, capsys):
    path = tmp_path / "noise.pth"
    path.write_bytes(b"\x80" + np.random.default_rng(0).bytes(300))
    err = refused(capsys, ["check", path], "corrupt")
    assert "pickled" not in err and "code" not in err.split("(")[0]


@pytest.mark.unit
def test_c37_a_uint64_max_count_is_called_too_large_not_negative(tmp_path, model, capsys):
    data = counts().astype(np.uint64)
    data[1, 7, 3] = np.iinfo(np.uint64).max
    err = refused(capsys, ["check", model, "--input", npz(tmp_path / "in.npz", data)],
                  "18446744073709551615", "sample 1, step 7, channel 3", "above 65,535")
    assert "is negative" not in err


@pytest.mark.unit
def test_c38_out_with_another_suffix_is_refused_not_renamed(tmp_path, model, capsys):
    refused(capsys, ["infer", model, "--out", tmp_path / "x.npy"], "name the file x.npz")
    assert list(tmp_path.glob("x.*")) == []


# ---------------------------------------------------------------- C39-C41 what already held, kept

class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.unit
def test_c39_a_checkpoint_with_pickled_code_is_refused_and_never_runs(tmp_path, capsys):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pth"
    torch.save({"snn.0.W.weight": torch.zeros(2, 2), "payload": _Payload(marker)}, path)
    for command in (["check", path], ["compile", path, "--board", "nrf52840", "-o", tmp_path / "o"]):
        refused(capsys, command, "pickled Python objects")
    assert not marker.exists()


@pytest.mark.unit
def test_c40_nan_parameters_are_named(tmp_path, capsys):
    path = tiny_model(tmp_path / "nan.pth", edit=lambda s: s["snn.1.alpha"].__setitem__(2, float("nan")))
    refused(capsys, ["check", path], "'snn.1.alpha' has 1 NaN/Inf value(s)")


@pytest.mark.unit
def test_c41_a_wav_in_another_format_gets_the_command_that_converts_it(tmp_path, capsys):
    path = tmp_path / "cd.wav"
    path.write_bytes(wav_bytes(4410, rate=44100))
    refused(capsys, ["listen", "--wav", path], "44100 Hz", "sox IN.wav -r 16000")


# ---------------------------------------------------------------- the catalogue is complete

@pytest.mark.unit
def test_the_catalogue_has_41_cases():
    """Every case number C01-C41 names a test here or in tests/test_api_c_total.py (C05, C06)."""
    import re

    numbers = set()
    for path in (Path(__file__), Path(__file__).parent / "test_api_c_total.py"):
        text = path.read_text()
        for name in re.findall(r"def test_((?:c\d\d_)+)", text):
            numbers |= {int(n) for n in re.findall(r"c(\d\d)", name)}
        numbers |= {int(n) for n in re.findall(r'\("c(\d\d)', text)}     # parametrized cases
    assert numbers == set(range(1, 42)), sorted(set(range(1, 42)) ^ numbers)

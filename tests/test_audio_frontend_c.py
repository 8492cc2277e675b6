"""The C audio front end (runtime_c/frontend) against its Python specification, bit for bit.

One driver program (bench/frontend.py, with its input and output file format) runs the C front
end over signals packed in a binary file. It is built for the host (plain and with ASan/UBSan)
and for the nRF52840 (Cortex-M4F), run in QEMU mps2-an386 through silifc.target.toolchain,
where the instruction counter also measures the cost of one step.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import load_bench_script
from silifc.kws.audio.frontend import LOG2_TABLE, FrontEndConfig, design


# The driver program, its input packing and the test signals live with the cost benchmark.
_bench = load_bench_script("frontend")
DRIVER, FRONTEND_DIR, FRONTEND_SOURCES, INCLUDE_DIR = (_bench.DRIVER, _bench.FRONTEND_DIR, _bench.FRONTEND_SOURCES,
                                                       _bench.INCLUDE_DIR)
STEP_BUDGET, pack_input, unpack_output, python_counts = (_bench.STEP_BUDGET, _bench.pack_input,
                                                         _bench.unpack_output, _bench.python_counts)
random_signals, speech_signals, run_qemu = _bench.random_signals, _bench.speech_signals, _bench.run_qemu
STEP_INSTRUCTIONS_LIMIT = 19_000  # regression guard on the executed instructions of a step
STEP_CYCLES_LIMIT = 0.085 * STEP_BUDGET  # estimated Cortex-M4 cycles (docs/cycles.md): 8.5 % of the budget

HOST_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE_FLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                  "-fno-sanitize-recover=all"]

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
_missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "gcc") if shutil.which(tool) is None]
needs_firmware_tools = pytest.mark.skipif(bool(_missing), reason=f"not installed: {', '.join(_missing)} "
                                                                 "(run scripts/setup.sh)")


# ---------------------------------------------------------------- builds

def _build_host(out: Path, extra_flags) -> Path:
    source = out / "driver.c"
    source.write_text(DRIVER)
    exe = out / "driver"
    cmd = ["gcc", *HOST_FLAGS, *extra_flags, "-DDRIVER_HOST", f"-I{INCLUDE_DIR}", f"-I{FRONTEND_DIR}",
           str(source), *map(str, FRONTEND_SOURCES), "-o", str(exe)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return exe


@pytest.fixture(scope="module")
def host_driver(tmp_path_factory):
    return _build_host(tmp_path_factory.mktemp("fe-host"), ["-O2"])


@pytest.fixture(scope="module")
def sanitized_driver(tmp_path_factory):
    return _build_host(tmp_path_factory.mktemp("fe-asan"), SANITIZE_FLAGS)


def run_host(exe: Path, config, signals, tmp: Path):
    constants = design(config)
    (tmp / "in.bin").write_bytes(pack_input(constants, signals))
    result = subprocess.run([str(exe), str(tmp / "in.bin"), str(tmp / "out.bin")], capture_output=True, text=True)
    assert result.returncode == 0, f"driver exit {result.returncode}: {result.stderr}"
    return unpack_output((tmp / "out.bin").read_bytes(), constants, signals)


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    return _bench.build(tmp_path_factory.mktemp("fe-fw"))


def assert_same(c_counts, py_counts):
    for i, (got, want) in enumerate(zip(c_counts, py_counts)):
        assert got.shape == want.shape, (i, got.shape, want.shape)
        if not np.array_equal(got, want):
            t, b = np.argwhere(got != want)[0]
            raise AssertionError(f"signal {i}: first difference at step {t}, band {b}: C {got[t, b]}, "
                                 f"Python {want[t, b]} ({int((got != want).sum())} counts differ)")


CONFIGS = {
    "default": FrontEndConfig(),
    "16 bands, 8 ms, slow envelope": FrontEndConfig(bands=16, step_samples=128, env_shift=3, f_min_hz=60.0,
                                                     f_max_hz=7900.0, db_per_spike=3.0, max_count=255),
    "40 narrow bands, 2 ms, no smoothing": FrontEndConfig(bands=40, step_samples=32, env_shift=0,
                                                           bandwidth_scale=0.5, floor_rise_shift=0,
                                                           floor_fall_shift=15, offset_db=0.0,
                                                           min_level_dbfs=-150.0, db_per_spike=0.1),
    # steps that are not a multiple of 8 samples: the Cortex-M loop takes 8, C pairs the rest
    "12 bands, 38 samples": FrontEndConfig(bands=12, step_samples=38),
    "20 bands, 20 samples": FrontEndConfig(bands=20, step_samples=20),
    "8 bands, 2 samples": FrontEndConfig(bands=8, step_samples=2),
}


# ---------------------------------------------------------------- host tests

@pytest.mark.host
@needs_gcc
@pytest.mark.parametrize("name", list(CONFIGS))
def test_host_matches_python_on_random_pcm(host_driver, tmp_path, name):
    config = CONFIGS[name]
    signals = random_signals(seed=len(name))
    table, got = run_host(host_driver, config, signals, tmp_path)
    assert np.array_equal(table, LOG2_TABLE)
    want = python_counts(config, signals)
    assert_same(got, want)
    assert sum(int(w.sum()) for w in want) > 0      # the comparison saw spikes


@pytest.mark.host
@needs_gcc
def test_sanitized_host_build_matches_python(sanitized_driver, tmp_path):
    config = FrontEndConfig()
    signals = random_signals(seed=7, seconds=0.25)
    _, got = run_host(sanitized_driver, config, signals, tmp_path)
    assert_same(got, python_counts(config, signals))


@pytest.mark.host
@needs_gcc
def test_host_matches_python_on_synthesized_speech(host_driver, tmp_path):
    signals = speech_signals()
    if signals is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    config = FrontEndConfig()
    _, got = run_host(host_driver, config, signals, tmp_path)
    want = python_counts(config, signals)
    assert_same(got, want)
    assert all(w.sum() > 50 for w in want)           # speech spikes, also the quiet "stop"


@pytest.mark.host
@needs_gcc
def test_host_rejects_bad_params(host_driver, tmp_path):
    constants = design(FrontEndConfig())
    blob = bytearray(pack_input(constants, [np.zeros(64, np.int16)]))
    struct.pack_into("<I", blob, 8, 63)               # odd step_samples
    (tmp_path / "in.bin").write_bytes(bytes(blob))
    result = subprocess.run([str(host_driver), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")])
    assert result.returncode == 11


# ---------------------------------------------------------------- firmware tests

@pytest.mark.firmware
@needs_firmware_tools
def test_cortex_m4_matches_python_and_fits_budget(firmware, tmp_path, record_property):
    config = FrontEndConfig()
    signals = random_signals(seed=3, seconds=0.25)
    speech = speech_signals()
    if speech is not None:
        signals += speech
    (table, got), run = run_qemu(firmware, config, signals, tmp_path)
    assert np.array_equal(table, LOG2_TABLE)
    assert_same(got, python_counts(config, signals))

    per_step, cycles = _bench.per_step(run, sum(len(s) // 64 for s in signals))
    record_property("frontend_instructions_per_step", per_step)
    record_property("frontend_cycles_per_step", cycles)
    print(f"\nfront end on Cortex-M4 (QEMU mps2-an386): {per_step:.0f} instructions, est. {cycles:.0f} cycles "
          f"per 4 ms step = {100 * cycles / STEP_BUDGET:.2f} % of {STEP_BUDGET} cycles (64 MHz)")
    assert per_step < STEP_INSTRUCTIONS_LIMIT
    assert cycles < STEP_CYCLES_LIMIT


@pytest.mark.firmware
@needs_firmware_tools
@pytest.mark.parametrize("name", [name for name in CONFIGS if name != "default"])
def test_cortex_m4_matches_python_other_configs(firmware, tmp_path, name):
    config = CONFIGS[name]
    signals = random_signals(seed=11, seconds=0.25)
    (_, got), _ = run_qemu(firmware, config, signals, tmp_path)
    assert_same(got, python_counts(config, signals))


@pytest.mark.firmware
@needs_firmware_tools
@pytest.mark.parametrize("opt, flags", [("-O0", ["-fno-omit-frame-pointer"]), ("-O3", []), ("-Os", [])],
                         ids=["O0-frame-pointer", "O3", "Os"])
def test_cortex_m4_other_optimisation_levels_match_python(tmp_path, opt, flags):
    """The resonator loop's inline assembly pins its registers (r7, the frame pointer, left alone):
    it must build and compute the same counts at every optimisation level."""
    image = _bench.build(tmp_path / "build", opt, flags)
    config = CONFIGS["12 bands, 38 samples"]
    signals = random_signals(seed=5, seconds=0.125)
    (_, got), _ = run_qemu(image, config, signals, tmp_path)
    assert_same(got, python_counts(config, signals))

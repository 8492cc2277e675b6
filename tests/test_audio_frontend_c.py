"""The C audio front end (runtime_c/frontend) against its Python specification, bit for bit.

One driver program (below) runs the C front end over signals packed in a binary file. It is
built for the host (plain and with ASan/UBSan) and for the nRF52840 (Cortex-M4F), run in
QEMU mps2-an386 through silifc.target.toolchain, where the instruction counter also measures the
cost of one step.

Input file (little endian, 32-bit words unless said):
    magic 'SLFE', bands, step_samples, input_shift, env_shift, floor_rise_shift,
    floor_fall_shift, max_count, min_level, offset, threshold,
    neg_a1[bands], neg_a2[bands], log_gain[bands],
    n_signals, then per signal: n_steps, int16 pcm[n_steps * step_samples]
Output file: slf_frontend_log2_table (64 bytes), then uint8 counts[n_steps][bands] per signal.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from silifc.kws.audio.frontend import LOG2_TABLE, FrontEnd, FrontEndConfig, design

ROOT = Path(__file__).resolve().parent.parent
FRONTEND_DIR = ROOT / "runtime_c" / "frontend"
INCLUDE_DIR = ROOT / "runtime_c" / "include"
FRONTEND_SOURCES = sorted(FRONTEND_DIR.glob("slf_frontend_*.c"))
MAGIC = 0x45464C53  # "SLFE"
STEP_BUDGET = 256_000  # cycles in a 4 ms step at 64 MHz
STEP_INSTRUCTIONS_LIMIT = 25_600  # regression guard on the executed instructions of a step
STEP_CYCLES_LIMIT = 0.12 * STEP_BUDGET  # estimated Cortex-M4 cycles (docs/cycles.md): 12 % of the budget

DRIVER = r"""
#include <stdint.h>
#include "slf_frontend.h"

#ifdef DRIVER_HOST
#include <stdio.h>
#include <stdlib.h>
#define MARKER __attribute__((noinline))
static FILE *output;
static int open_output(const char *path) { output = fopen(path, "wb"); return output ? 0 : -1; }
static void emit(const void *data, uint32_t size) { fwrite(data, 1, size, output); }
static void close_output(void) { fclose(output); }
#else
#include "markers.h"
#include "semihost.h"
#define MARKER SLF_MARKER
extern const uint8_t __input_blob[];
static int output = -1;
static int open_output(const char *path) { output = sh_open(path, SH_MODE_WRITE_BINARY); return output; }
static void emit(const void *data, uint32_t size) { sh_write(output, data, size); }
static void close_output(void) { sh_close(output); }
#endif

/* Instruction-count regions: step = step_begin .. step_end, calibration = the empty pair. */
MARKER void bench_step_begin(void) { __asm__ volatile(""); }
MARKER void bench_step_end(void) { __asm__ volatile(""); }
MARKER void bench_calib_begin(void) { __asm__ volatile(""); }
MARKER void bench_calib_end(void) { __asm__ volatile(""); }

static slf_frontend_band_state bands_state[SLF_FRONTEND_MAX_BANDS];
static uint8_t counts[SLF_FRONTEND_MAX_BANDS];

static uint32_t word(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int run(const uint8_t *blob)
{
    const uint32_t *w = (const uint32_t *)blob;
    if (word(blob) != 0x45464C53u)
        return 10;
    slf_frontend_params params;
    params.bands = (uint16_t)w[1];
    params.step_samples = (uint16_t)w[2];
    params.input_shift = (uint8_t)w[3];
    params.env_shift = (uint8_t)w[4];
    params.floor_rise_shift = (uint8_t)w[5];
    params.floor_fall_shift = (uint8_t)w[6];
    params.max_count = (uint8_t)w[7];
    params.min_level = (int32_t)w[8];
    params.offset = (int32_t)w[9];
    params.threshold = w[10];
    const uint32_t n_bands = w[1];
    params.neg_a1 = (const int32_t *)&w[11];
    params.neg_a2 = (const int32_t *)&w[11 + n_bands];
    params.log_gain = (const int32_t *)&w[11 + 2 * n_bands];
    const uint32_t *cursor = &w[11 + 3 * n_bands];
    const uint32_t n_signals = *cursor++;

    bench_calib_begin();
    bench_calib_end();
    emit(slf_frontend_log2_table, SLF_FRONTEND_LOG_TABLE_SIZE);
    slf_frontend_state state;
    for (uint32_t s = 0; s < n_signals; s++) {
        const uint32_t n_steps = *cursor++;
        const int16_t *pcm = (const int16_t *)cursor;
        if (slf_frontend_init(&state, bands_state, &params) != SLF_OK)
            return 11;
        for (uint32_t t = 0; t < n_steps; t++) {
            bench_step_begin();
            slf_frontend_step_s16(&state, &params, pcm + t * params.step_samples, counts);
            bench_step_end();
            emit(counts, params.bands);
        }
        cursor += n_steps * params.step_samples / 2;
    }
    return 0;
}

#ifdef DRIVER_HOST
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    FILE *in = fopen(argv[1], "rb");
    if (!in)
        return 3;
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    uint8_t *blob = malloc((size_t)size + 4);
    if (!blob || fread(blob, 1, (size_t)size, in) != (size_t)size)
        return 4;
    fclose(in);
    if (open_output(argv[2]) < 0)
        return 5;
    int status = run(blob);
    close_output();
    free(blob);
    return status;
}
#else
int main(void)
{
    char line[512];
    if (sh_cmdline(line, sizeof line) != 0)
        return 2;
    char *path = line;
    while (*path && *path != ' ')
        path++;
    if (*path != ' ')
        return 2;
    path++;
    if (open_output(path) < 0)
        return 5;
    int status = run(__input_blob);
    close_output();
    return status;
}
#endif
"""

HOST_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE_FLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                  "-fno-sanitize-recover=all"]

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
_missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "gcc") if shutil.which(tool) is None]
needs_firmware_tools = pytest.mark.skipif(bool(_missing), reason=f"not installed: {', '.join(_missing)} "
                                                                 "(run scripts/setup.sh)")


# ---------------------------------------------------------------- packing

def pack_input(constants, signals) -> bytes:
    c = constants
    words = [MAGIC, c.bands, c.step_samples, c.input_shift, c.env_shift, c.floor_rise_shift,
             c.floor_fall_shift, c.max_count, c.min_level, c.offset, c.threshold]
    parts = [np.array(words, dtype=np.int64).astype(np.uint32).tobytes(),
             np.asarray(c.neg_a1, dtype=np.int32).tobytes(),
             np.asarray(c.neg_a2, dtype=np.int32).tobytes(),
             np.asarray(c.log_gain, dtype=np.int32).tobytes(),
             struct.pack("<I", len(signals))]
    for pcm in signals:
        steps = len(pcm) // c.step_samples
        parts.append(struct.pack("<I", steps))
        parts.append(np.asarray(pcm[:steps * c.step_samples], dtype="<i2").tobytes())
    return b"".join(parts)


def unpack_output(data: bytes, constants, signals):
    table = np.frombuffer(data[:64], dtype=np.uint8)
    out, offset = [], 64
    for pcm in signals:
        steps = len(pcm) // constants.step_samples
        size = steps * constants.bands
        out.append(np.frombuffer(data[offset:offset + size], dtype=np.uint8).reshape(steps, constants.bands))
        offset += size
    assert offset == len(data), f"driver wrote {len(data)} bytes, expected {offset}"
    return table, out


def python_counts(config, signals):
    return [FrontEnd(config).process(np.asarray(pcm, dtype=np.int16)) for pcm in signals]


# ---------------------------------------------------------------- signals

def random_signals(seed: int = 0, seconds: float = 0.5):
    """PCM covering the corners: silence, full-scale extremes, clipping sweeps, noise at many levels."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds) // 64 * 64
    t = np.arange(n) / 16000.0
    sweep = np.sin(2 * np.pi * (50 * t + (7900 - 50) / (2 * seconds) * t ** 2))
    signals = [
        np.zeros(n, np.int16),                                           # digital silence
        np.full(n, 32767, np.int16),                                     # DC at the rails
        np.full(n, -32768, np.int16),
        np.where(np.arange(n) % 2 == 0, 32767, -32768).astype(np.int16),  # Nyquist, full scale
        np.where(np.arange(n) % 4 < 2, 32767, -32768).astype(np.int16),   # fs/4 square
        rng.choice(np.array([-32768, 32767], np.int16), n),              # random rails
        rng.integers(-32768, 32768, n).astype(np.int16),                 # uniform full-scale noise
        np.clip(np.round(sweep * 60000), -32768, 32767).astype(np.int16),  # clipping sweep 50 Hz..7.9 kHz
        np.round(sweep * 300).astype(np.int16),                          # quiet sweep
    ]
    # noise bursts whose level steps over 90 dB (drives the floor tracker both ways)
    levels = 10.0 ** (rng.uniform(-4.5, 0, 20))
    burst = np.repeat(levels, -(-n // 20))[:n]
    signals.append(np.clip(np.round(rng.normal(0, 1, n) * burst * 20000), -32768, 32767).astype(np.int16))
    # worst case for the resonators: sign of the time-reversed impulse response of band 0
    signals.append(_adversarial(design(FrontEndConfig()), n))
    return signals


def _adversarial(constants, n):
    """Full-scale input matching the sign of a band's impulse response: drives |y| towards its bound."""
    a1 = -constants.neg_a1[0] / 2.0 ** 30
    a2 = -constants.neg_a2[0] / 2.0 ** 30
    h = np.zeros(n)
    rec = np.zeros(n + 2)
    for k in range(n):
        rec[k + 2] = (1.0 if k == 0 else 0.0) - a1 * rec[k + 1] - a2 * rec[k]
        h[k] = rec[k + 2] - (rec[k] if k >= 2 else 0.0)
    return np.where(h[::-1] >= 0, 32767, -32768).astype(np.int16)


def speech_signals():
    """A few words from espeak-ng at 16 kHz (None if espeak-ng is missing)."""
    from silifc.kws.audio.speech import espeak_available, synthesize

    if not espeak_available():
        return None
    out = []
    for word, voice, gain in (("yes", "en-us+m3", 0.9), ("stop", "en-gb+f2", 0.05), ("seven", "en-029+klatt", 0.5)):
        pcm = synthesize(word, voice=voice, speed=170, pitch=50).astype(np.float64) * gain
        out.append(np.concatenate([np.zeros(1000), np.round(pcm), np.zeros(2000)]).astype(np.int16))
    return out


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
    from silifc.codegen.boards import load_board
    from silifc.target.toolchain import build_firmware

    out = tmp_path_factory.mktemp("fe-fw")
    (out / "driver.c").write_text(DRIVER)
    board = load_board("nrf52840")
    image = build_firmware([out / "driver.c", *FRONTEND_SOURCES], [INCLUDE_DIR, FRONTEND_DIR], board, out,
                           extra_cflags=["-Werror"], name="frontend")
    return image, board


def run_qemu(firmware, config, signals, tmp: Path):
    from silifc.target.qemu import run_firmware

    image, board = firmware
    constants = design(config)
    (tmp / "in.bin").write_bytes(pack_input(constants, signals))
    out = tmp / "out.bin"
    run = run_firmware(image, board, args=[str(out)], input_file=tmp / "in.bin",
                       regions={"step": ("bench_step_begin", "bench_step_end"),
                                "calib": ("bench_calib_begin", "bench_calib_end")}, cycle_model="cortex-m4")
    assert run.exit_status == 0, run.stdout + run.stderr
    return unpack_output(out.read_bytes(), constants, signals), run


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

    steps = sum(len(s) // 64 for s in signals)
    region, calib = run.regions["step"], run.regions["calib"]
    assert region.passes == steps and calib.passes == 1
    per_step = (region.instructions - steps * calib.instructions) / steps
    cycles = (region.cycles - steps * calib.cycles) / steps
    record_property("frontend_instructions_per_step", per_step)
    record_property("frontend_cycles_per_step", cycles)
    print(f"\nfront end on Cortex-M4 (QEMU mps2-an386): {per_step:.0f} instructions, est. {cycles:.0f} cycles "
          f"per 4 ms step = {100 * cycles / STEP_BUDGET:.2f} % of {STEP_BUDGET} cycles (64 MHz)")
    assert per_step < STEP_INSTRUCTIONS_LIMIT
    assert cycles < STEP_CYCLES_LIMIT


@pytest.mark.firmware
@needs_firmware_tools
@pytest.mark.parametrize("name", ["16 bands, 8 ms, slow envelope", "40 narrow bands, 2 ms, no smoothing"])
def test_cortex_m4_matches_python_other_configs(firmware, tmp_path, name):
    config = CONFIGS[name]
    signals = random_signals(seed=11, seconds=0.25)
    (_, got), _ = run_qemu(firmware, config, signals, tmp_path)
    assert_same(got, python_counts(config, signals))

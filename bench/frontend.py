#!/usr/bin/env python3
"""Cost of the C audio front end (runtime_c/frontend) on the nRF52840's core, per 4 ms step.

Builds one driver program with the front end for the nrf52840 board (Cortex-M4F, -O2), runs
it in QEMU mps2-an386 under the instruction-counting plugin with the Cortex-M4 cycle model
(docs/cycles.md) and prints, per front-end configuration and input signal, the executed
instructions and estimated cycles of one `slf_frontend_step_s16` call (mean over the signal's
steps, the marker calls' own cost subtracted), and the share of a 4 ms step at 64 MHz. Every
row's counts are also checked against the Python specification (silifc.kws.audio.frontend).
docs/audio.md quotes the table; tests/test_audio_frontend_c.py uses the driver and signals.

    .venv/bin/python bench/frontend.py
"""
from __future__ import annotations

import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

from silifc.kws.audio.frontend import FrontEnd, FrontEndConfig, design

ROOT = Path(__file__).resolve().parents[1]
FRONTEND_DIR = ROOT / "runtime_c" / "frontend"
INCLUDE_DIR = ROOT / "runtime_c" / "include"
FRONTEND_SOURCES = sorted(FRONTEND_DIR.glob("slf_frontend_*.c"))
MAGIC = 0x45464C53  # "SLFE"
STEP_BUDGET = 256_000  # cycles in a 4 ms step at 64 MHz

# The driver: runs the front end over the signals of one input file (on the host a path, in the
# firmware a blob linked into the image) and writes the counts; marker functions delimit one
# step and an empty region (the markers' own cost).
# Input file (pack_input; little endian, 32-bit words unless said):
#     magic 'SLFE', bands, step_samples, input_shift, env_shift, floor_rise_shift,
#     floor_fall_shift, max_count, min_level, offset, threshold,
#     neg_a1[bands], neg_a2[bands], log_gain[bands],
#     n_signals, then per signal: n_steps, int16 pcm[n_steps * step_samples]
# Output file (unpack_output): slf_frontend_log2_table (64 bytes), then uint8
# counts[n_steps][bands] per signal.
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




def build(out: Path, opt: str = "-O2", extra_cflags=()):
    """The driver and the front end as nrf52840 firmware in `out`: (FirmwareImage, Board)."""
    from silifc.codegen.boards import load_board
    from silifc.target.toolchain import build_firmware

    out.mkdir(parents=True, exist_ok=True)
    (out / "driver.c").write_text(DRIVER)
    board = load_board("nrf52840")
    image = build_firmware([out / "driver.c", *FRONTEND_SOURCES], [INCLUDE_DIR, FRONTEND_DIR], board, out, opt=opt,
                           extra_cflags=["-Werror", *extra_cflags], name="frontend")
    return image, board


def run_qemu(firmware, config, signals, tmp: Path):
    """Run the driver firmware on `signals`: ((log table, [counts per signal]), the QEMU run)."""
    from silifc.target.qemu import run_firmware

    image, board = firmware
    constants = design(config)
    (tmp / "in.bin").write_bytes(pack_input(constants, signals))
    out = tmp / "out.bin"
    run = run_firmware(image, board, args=[str(out)], input_file=tmp / "in.bin",
                       regions={"step": ("bench_step_begin", "bench_step_end"),
                                "calib": ("bench_calib_begin", "bench_calib_end")}, cycle_model="cortex-m4")
    if run.exit_status != 0:
        raise RuntimeError(f"front-end driver exited with {run.exit_status}:\n{run.stdout}{run.stderr}")
    return unpack_output(out.read_bytes(), constants, signals), run


def per_step(run, steps: int) -> tuple[float, float]:
    """Mean executed instructions and estimated cycles of one step, the markers' cost subtracted."""
    region, calib = run.regions["step"], run.regions["calib"]
    if region.passes != steps or calib.passes != 1:
        raise RuntimeError(f"expected {steps} step regions and 1 calibration region, "
                           f"got {region.passes} and {calib.passes}")
    return ((region.instructions - steps * calib.instructions) / steps,
            (region.cycles - steps * calib.cycles) / steps)


def _rows():
    """(bands label, input label, config, signal) for the printed table."""
    n = 16000  # one second
    default = FrontEndConfig()
    signals = random_signals(seed=3, seconds=1.0)
    noise, sweep, worst = signals[6], signals[7], signals[-1]   # in random_signals' order
    speech = speech_signals()
    if speech is None:
        raise SystemExit("bench/frontend.py: espeak-ng is not installed (scripts/setup.sh installs it)")
    words = np.concatenate(speech)
    rows = [("32 (default)", "speech (3 words)", default, words),
            ("32", "digital silence", default, np.zeros(n, np.int16)),
            ("32", "full-scale uniform noise", default, noise),
            ("32", "clipping sine sweep", default, sweep),
            ("32", "worst-case (bound-reaching) input", default, worst)]
    for bands in (16, 24, 40):
        rows.append((str(bands), "speech", FrontEndConfig(bands=bands), words))
    rows.append(("32, 8 ms steps (128 samples)", "speech", FrontEndConfig(step_samples=128), words))
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="slf-frontend-bench-") as tmp:
        tmp = Path(tmp)
        firmware = build(tmp / "build")
        print("| bands | input | instructions per step | est. cycles | share of a step's cycles |")
        print("|---|---|---|---|---|")
        for bands, label, config, pcm in _rows():
            (_, (got,)), run = run_qemu(firmware, config, [pcm], tmp)
            if not np.array_equal(got, python_counts(config, [pcm])[0]):
                raise SystemExit(f"bench/frontend.py: {bands} bands, {label}: C counts differ from the Python "
                                 "specification")
            steps = len(pcm) // config.step_samples
            instructions, cycles = per_step(run, steps)
            budget = STEP_BUDGET * config.step_samples // 64
            share = f"{100 * cycles / budget:.1f} %" + ("" if budget == STEP_BUDGET else f" of {budget:,}")
            print(f"| {bands} | {label} | {instructions:,.0f} | {cycles:,.0f} | {share} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

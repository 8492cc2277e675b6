"""The streaming keyword detector: its rules (silifc.kws.stream.Detector, the specification) and the
C kernel (runtime_c/frontend/slf_detect*.c) against it, bit for bit, on the host (plain and
with ASan/UBSan).

Driver input (little endian uint32 words): n_cases, then per case: classes, keywords,
shift, on, off, hold_steps, n_steps, int32 p[n_steps][classes].
Driver output per case: the check status (int32), then per step: int32 detected, idle, hold,
last, then uint32 acc[classes].
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from silifc.errors import ConfigError
from silifc.kws.detector import NONE, PROB_ONE, Detector, DetectorConfig, DetectorParams

ROOT = Path(__file__).resolve().parent.parent
FRONTEND_DIR = ROOT / "runtime_c" / "frontend"
INCLUDE_DIR = ROOT / "runtime_c" / "include"
SOURCES = sorted(FRONTEND_DIR.glob("slf_detect_*.c"))
HOST_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE_FLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "slf_detect.h"

static uint32_t read_u32(FILE *in) { uint32_t v = 0; if (fread(&v, 4, 1, in) != 1) exit(3); return v; }

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) return 2;
    uint32_t n_cases = read_u32(in);
    for (uint32_t c = 0; c < n_cases; c++) {
        slf_detect_params params;
        params.classes = (uint16_t)read_u32(in);
        params.keywords = (uint16_t)read_u32(in);
        params.shift = (uint8_t)read_u32(in);
        params.on = read_u32(in);
        params.off = read_u32(in);
        params.hold_steps = (uint16_t)read_u32(in);
        uint32_t steps = read_u32(in);
        uint32_t *acc = malloc(sizeof(uint32_t) * (params.classes ? params.classes : 1u));
        int32_t *p = malloc(sizeof(int32_t) * (params.classes ? params.classes : 1u));
        slf_detect_state state = {0, 7, 3, 0};
        int32_t status = slf_detect_init(&state, acc, &params);
        fwrite(&status, 4, 1, out);
        if (status != SLF_OK) {
            /* Nothing written on error. */
            if (state.acc != 0 || state.hold != 7 || state.last != 3 || state.idle != 0) return 4;
        }
        for (uint32_t t = 0; t < steps; t++) {
            if (fread(p, 4, params.classes, in) != params.classes) return 3;
            if (status != SLF_OK) continue;
            int32_t record[4];
            record[0] = slf_detect_step_q16(&state, &params, p);
            record[1] = state.idle;
            record[2] = state.hold;
            record[3] = state.last;
            fwrite(record, 4, 4, out);
            fwrite(acc, 4, params.classes, out);
        }
        free(acc);
        free(p);
    }
    if (slf_detect_check(0) != SLF_ERR_NULL) return 5;
    {
        slf_detect_params params = {12, 10, 6, 1000, 500, 10};
        slf_detect_state state;
        uint32_t acc[12];
        if (slf_detect_init(0, acc, &params) != SLF_ERR_NULL || slf_detect_init(&state, 0, &params) != SLF_ERR_NULL)
            return 6;
    }
    fclose(out);
    fclose(in);
    return 0;
}
"""


def _build(tmp: Path, flags) -> Path:
    (tmp / "driver.c").write_text(DRIVER)
    exe = tmp / "driver"
    subprocess.run(["gcc", *HOST_FLAGS, *flags, f"-I{INCLUDE_DIR}", f"-I{FRONTEND_DIR}", str(tmp / "driver.c"),
                    *map(str, SOURCES), "-o", str(exe)], check=True, capture_output=True, text=True)
    return exe


def _run_c(exe: Path, cases, tmp: Path):
    """cases: [(params fields dict, p [T, K])] -> per case (status, records or None)."""
    parts = [struct.pack("<I", len(cases))]
    for fields, p in cases:
        parts.append(struct.pack("<7I", fields["classes"], fields["keywords"], fields["shift"], fields["on"],
                                 fields["off"], fields["hold_steps"], len(p)))
        parts.append(np.asarray(p, dtype="<i4").tobytes())
    (tmp / "in.bin").write_bytes(b"".join(parts))
    subprocess.run([str(exe), str(tmp / "in.bin"), str(tmp / "out.bin")], check=True, capture_output=True)
    data, offset, results = (tmp / "out.bin").read_bytes(), 0, []
    for fields, p in cases:
        status = struct.unpack_from("<i", data, offset)[0]
        offset += 4
        if status != 0:
            results.append((status, None))
            continue
        width = 4 + fields["classes"]
        block = np.frombuffer(data, dtype="<i4", count=len(p) * width, offset=offset).reshape(len(p), width)
        offset += block.nbytes
        results.append((status, block.astype(np.int64)))
    assert offset == len(data)
    return results


def _run_spec(params: DetectorParams, p):
    detector = Detector(params)
    rows = []
    for row in p:
        detected = detector.step(row)
        rows.append([detected, int(detector.idle), detector.hold, detector.last, *detector.acc.tolist()])
    return np.array(rows, dtype=np.int64).reshape(len(p), 4 + params.classes)


def _random_probabilities(rng, steps, classes, bursts=True):
    """Softmax-like Q16 rows: mostly flat, with bursts where one class dominates; some ties."""
    logits = rng.normal(0, 0.3, (steps, classes))
    if bursts:
        for _ in range(max(1, steps // 60)):
            start, k = int(rng.integers(0, steps)), int(rng.integers(0, classes))
            logits[start:start + int(rng.integers(5, 60)), k] += rng.uniform(1, 6)
    p = np.exp(logits)
    p = np.floor(PROB_ONE * p / p.sum(axis=1, keepdims=True)).astype(np.int64)
    ties = rng.random(steps) < 0.05
    p[ties] = PROB_ONE // classes                      # exact ties: the lowest index must win
    return p


def _cases(seed=0):
    rng = np.random.default_rng(seed)
    cases = []
    fixed = [(12, 10, 6, 0.2, 0.15, 125), (12, 10, 0, 0.5, 0.3, 0), (12, 12, 14, 0.1, 0.0, 3),
             (1, 1, 3, 0.9, 0.9, 7), (127, 100, 7, 0.05, 0.02, 65535), (3, 1, 1, 1.0, 0.5, 2)]
    for classes, keywords, shift, on, off, hold in fixed:
        params = DetectorParams(classes, keywords, shift, max(1, round(on * (PROB_ONE << shift))),
                                round(off * (PROB_ONE << shift)), hold)
        cases.append((params, _random_probabilities(rng, 700, classes)))
    for _ in range(30):
        classes = int(rng.integers(1, 40))
        shift = int(rng.integers(0, 15))
        on = int(rng.integers(1, (PROB_ONE << shift) + 2))
        params = DetectorParams(classes, int(rng.integers(1, classes + 1)), shift, on, int(rng.integers(0, on + 1)),
                                int(rng.integers(0, 200)))
        p = _random_probabilities(rng, 400, classes, bursts=bool(rng.integers(0, 2)))
        if rng.random() < 0.3:                                   # the extremes of the contract
            p = rng.choice([0, PROB_ONE], size=p.shape)
        cases.append((params, p))
    return cases


# ---------------------------------------------------------------- the rules (unit)

def _params(**changes):
    base = dict(classes=4, keywords=2, shift=2, on=3 * PROB_ONE, off=PROB_ONE, hold_steps=5)
    base.update(changes)
    return DetectorParams(**base)


def _one_hot(k, classes=4, value=PROB_ONE):
    row = np.zeros(classes, np.int64)
    row[k] = value
    return row


@pytest.mark.unit
def test_detects_a_leading_keyword_once_it_crosses_the_threshold():
    detector = Detector(_params())
    results = [detector.step(_one_hot(1)) for _ in range(6)]
    # acc: 65536, 114688, 151552, 179200, 199936 (>= 3 * 65536 at the 5th step)
    assert results == [NONE, NONE, NONE, NONE, 1, NONE]
    assert detector.last == 1 and detector.hold == 4 and not detector.idle


@pytest.mark.unit
def test_never_reports_classes_past_the_keywords():
    detector = Detector(_params())
    assert all(detector.step(_one_hot(3)) == NONE for _ in range(50))
    assert detector.idle                               # silence/unknown leading counts as idle


@pytest.mark.unit
def test_hold_blocks_every_detection_and_a_keyword_rearms_below_off():
    detector = Detector(_params(hold_steps=20))
    steps = [detector.step(_one_hot(0)) for _ in range(5)]
    assert steps[-1] == 0
    # Another keyword takes over at once: blocked until the hold has run out.
    switched = [detector.step(_one_hot(1)) for _ in range(30)]
    first = switched.index(1)
    assert first == 19 and switched.count(1) == 1      # 20 steps after the detection
    # Keyword 1 stays up: no repeat until it has fallen below `off`.
    assert all(detector.step(_one_hot(1)) == NONE for _ in range(50))
    for _ in range(20):
        detector.step(_one_hot(3))
    assert detector.last == NONE and detector.idle
    assert 1 in [detector.step(_one_hot(1)) for _ in range(10)]


@pytest.mark.unit
def test_ties_go_to_the_lowest_index():
    detector = Detector(_params(on=PROB_ONE))
    row = np.array([PROB_ONE // 2, PROB_ONE // 2, 0, 0])
    results = [detector.step(row) for _ in range(20)]
    assert results.count(0) == 1 and 1 not in results


@pytest.mark.unit
def test_config_to_params_and_validation():
    params = DetectorConfig(shift=6, on=0.2, off=0.15, hold_ms=500).params(12, 10, 4.0)
    assert (params.on, params.off, params.hold_steps) == (round(0.2 * 2 ** 22), round(0.15 * 2 ** 22), 125)
    for bad in (dict(shift=15), dict(on=0.0), dict(on=0.2, off=0.3), dict(hold_ms=-1)):
        with pytest.raises(ConfigError):
            DetectorConfig(**bad)
    for bad in (dict(classes=0), dict(keywords=5), dict(classes=128), dict(shift=15), dict(on=0), dict(off=4 * PROB_ONE),
                dict(hold_steps=70000)):
        with pytest.raises(ConfigError):
            _params(**bad)


# ---------------------------------------------------------------- C against the spec (host)

def _check_against_spec(exe, tmp):
    cases = _cases()
    invalid = [dict(classes=0, keywords=0, shift=0, on=1, off=0, hold_steps=0),
               dict(classes=128, keywords=1, shift=0, on=1, off=0, hold_steps=0),
               dict(classes=4, keywords=5, shift=0, on=1, off=0, hold_steps=0),
               dict(classes=4, keywords=0, shift=0, on=1, off=0, hold_steps=0),
               dict(classes=4, keywords=1, shift=15, on=1, off=0, hold_steps=0),
               dict(classes=4, keywords=1, shift=3, on=0, off=0, hold_steps=0),
               dict(classes=4, keywords=1, shift=3, on=5, off=6, hold_steps=0)]
    packed = [(params.__dict__, p) for params, p in cases] + [(fields, np.zeros((3, max(1, fields["classes"])),
                                                                                 np.int64)[:, :fields["classes"]])
                                                              for fields in invalid]
    results = _run_c(exe, packed, tmp)
    detections = 0
    for (params, p), (status, block) in zip(cases, results):
        assert status == 0
        expected = _run_spec(params, p)
        mismatch = np.nonzero((block != expected).any(axis=1))[0]
        assert not mismatch.size, f"{params}: first mismatch at step {mismatch[0]}: C {block[mismatch[0]]} " \
                                  f"spec {expected[mismatch[0]]}"
        detections += int((expected[:, 0] != NONE).sum())
    assert detections > 30                             # the cases exercise detections, not just silence
    assert [status for status, _ in results[len(cases):]] == [-5] * len(invalid)


@pytest.mark.host
@needs_gcc
def test_c_detector_matches_spec(tmp_path):
    _check_against_spec(_build(tmp_path, ["-O2"]), tmp_path)


@pytest.mark.host
@needs_gcc
def test_c_detector_under_sanitizers(tmp_path):
    _check_against_spec(_build(tmp_path, SANITIZE_FLAGS), tmp_path)

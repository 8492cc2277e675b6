"""The Python specification of the audio front end (silifc.kws.audio.frontend)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from silifc.kws.audio.frontend import (COEF_FRAC_BITS, ENERGY_LIMIT, LOG2_TABLE, PEAK_LIMIT, FrontEnd, FrontEndConfig,
                                   design, frontend_counts, log2_q6)
from silifc.errors import ConfigError

HEADER = Path(__file__).resolve().parent.parent / "runtime_c" / "frontend" / "slf_frontend.h"
pytestmark = pytest.mark.unit


def _log2_q6_reference(v: int) -> int:
    v = max(v, 1)
    msb = v.bit_length() - 1
    index = (v >> (msb - 6)) & 63 if msb >= 6 else (v << (6 - msb)) & 63
    return msb * 64 + int(LOG2_TABLE[index])


def test_log2_table():
    assert LOG2_TABLE[0] == 0 and LOG2_TABLE[32] == round(64 * np.log2(1.5)) and LOG2_TABLE.max() == 63
    assert np.all(np.diff(LOG2_TABLE) >= 0)


def test_log2_q6_is_exact_up_to_2_63():
    values = [0, 1, 2, 3, 63, 64, 65, 127, 128, 1000]
    for bit in range(1, 63):                     # around every power of two, also past 2^53
        values += [(1 << bit) - 1, 1 << bit, (1 << bit) + 1]
    values += list(np.random.default_rng(0).integers(0, 1 << 62, 2000, dtype=np.int64))
    got = log2_q6(np.array(values, dtype=np.int64))
    assert [int(g) for g in got] == [_log2_q6_reference(int(v)) for v in values]
    assert abs(int(log2_q6(np.int64(10 ** 12))) - 64 * np.log2(1e12)) < 1.5


def test_design_bounds_and_constants():
    c = design(FrontEndConfig())
    assert c.bands == 32 and c.step_samples == 64 and c.input_shift == 6
    assert c.peak_bound < PEAK_LIMIT and c.peak_bound ** 2 * c.step_samples < ENERGY_LIMIT
    assert np.all(np.abs(c.neg_a1) < 1 << 31) and np.all(np.abs(c.neg_a2) < 1 << 31)
    assert np.all(np.diff(c.center_hz) > 0) and 100 < c.center_hz[0] < 200 and 6000 < c.center_hz[-1] < 7000
    assert c.threshold == 170 and c.offset == 128 and c.max_count == 15
    # design() is deterministic and keyed by the config
    assert design(FrontEndConfig()).digest() == c.digest()
    assert design(FrontEndConfig(bands=16)).digest() != c.digest()


def test_peak_bound_holds_for_the_worst_input():
    """Full-scale input with the sign of the time-reversed impulse response maximises |y|;
    run the exact integer recursion of the spec on it and compare with the proven bound."""
    c = design(FrontEndConfig())
    n = 1200
    for band in (0, 15, 31):
        a1, a2 = -c.neg_a1[band] / 2.0 ** 30, -c.neg_a2[band] / 2.0 ** 30
        rec = np.zeros(n + 2)
        h = np.zeros(n)
        for k in range(n):
            rec[k + 2] = (k == 0) - a1 * rec[k + 1] - a2 * rec[k]
            h[k] = rec[k + 2] - (rec[k] if k >= 2 else 0.0)
        x = [32767 if v >= 0 else -32768 for v in h[::-1]]
        y1 = y2 = 0
        peak = 0
        prev = [0, 0]
        for sample in x:
            d = (sample - prev[0]) << c.input_shift
            prev = [prev[1], sample]
            y = ((d << COEF_FRAC_BITS) + (1 << 29) + int(c.neg_a1[band]) * y1 + int(c.neg_a2[band]) * y2) >> 30
            y1, y2 = y, y1
            peak = max(peak, abs(y))
        assert peak <= c.peak_bound, (band, peak, c.peak_bound)
        if band == 0:                             # the narrowest band sets the bound: it is tight
            assert peak > 0.9 * c.peak_bound, (peak, c.peak_bound)


def test_c_struct_members_match_c_fields():
    text = HEADER.read_text()
    body = re.search(r"typedef struct \{(.*?)\} slf_frontend_params;", text, re.S)[1]
    members = re.findall(r"^\s*(?:const\s+)?(\w+)\s*\*?\s*(\w+);", body, re.M)
    fields = design(FrontEndConfig()).c_fields()
    assert [(ctype, name) for ctype, name in members] == [(ctype, name) for name, ctype, _ in fields]


@pytest.mark.parametrize("changes, message", [
    ({"bands": 0}, "bands"), ({"step_samples": 63}, "step_samples"), ({"step_samples": 320}, "step_samples"),
    ({"f_max_hz": 9000.0}, "f_max_hz"), ({"max_count": 256}, "max_count"), ({"db_per_spike": 0.0}, "db_per_spike"),
    ({"env_shift": 16}, "env_shift"), ({"bands": 2.5}, "bands"), ({"offset_db": float("nan")}, "offset_db"),
])
def test_config_is_validated(changes, message):
    with pytest.raises(ConfigError, match=message):
        FrontEndConfig(**changes)


def test_config_round_trips():
    config = FrontEndConfig(bands=20, db_per_spike=5.0)
    assert FrontEndConfig.from_dict(config.to_dict()) == config
    assert config.digest() == FrontEndConfig.from_dict(config.to_dict()).digest()
    with pytest.raises(ConfigError, match="unknown setting"):
        FrontEndConfig.from_dict({"bandz": 3})
    assert FrontEndConfig().step_ms == 4.0


def _noise(seed=0, n=16000, scale=3000.0):
    rng = np.random.default_rng(seed)
    envelope = np.repeat(10.0 ** rng.uniform(-3, 0, n // 1600 + 1), 1600)[:n]
    return np.clip(np.round(rng.normal(0, scale, n) * envelope), -32768, 32767).astype(np.int16)


def test_streaming_in_any_chunks_equals_one_call():
    x = _noise()
    whole = frontend_counts(x)
    assert whole.shape == (250, 32) and whole.dtype == np.uint8 and whole.sum() > 0
    rng = np.random.default_rng(1)
    front = FrontEnd()
    parts, position = [], 0
    while position < len(x):
        chunk = x[position:position + int(rng.choice([0, 1, 7, 63, 64, 65, 300, 1000]))]
        parts.append(front.process(chunk))
        position += len(chunk)
        assert front.pending_samples == position % 64
    assert np.array_equal(np.concatenate(parts), whole)
    front.reset()
    assert np.array_equal(front.process(x), whole)


def test_batch_equals_single_streams():
    signals = np.stack([_noise(seed) for seed in range(3)])
    batch = FrontEnd().process(signals)
    assert batch.shape == (3, 250, 32)
    for i in range(3):
        assert np.array_equal(batch[i], frontend_counts(signals[i]))


def test_input_is_checked():
    front = FrontEnd()
    with pytest.raises(ValueError, match="integers"):
        front.process(np.zeros(64, np.float32))
    with pytest.raises(ValueError, match="int16 range"):
        front.process(np.array([40000]))
    front.process(np.zeros(10, np.int16))
    with pytest.raises(ValueError, match="reset"):
        front.process(np.zeros((2, 64), np.int16))


def test_silence_is_silent_and_counts_are_capped():
    assert frontend_counts(np.zeros(16000, np.int16)).sum() == 0
    config = FrontEndConfig(max_count=3, db_per_spike=1.0)
    loud = np.concatenate([np.zeros(4000), np.round(np.sin(np.arange(12000) * 0.3) * 30000)]).astype(np.int16)
    counts = frontend_counts(loud, config)
    assert counts.max() == 3


def test_tone_excites_its_band_and_adapts():
    c = design(FrontEndConfig())
    band = 12
    t = np.arange(32000) / 16000.0
    tone = np.round(3000 * np.sin(2 * np.pi * c.center_hz[band] * t))
    x = np.concatenate([np.zeros(8000), tone]).astype(np.int16)
    counts = frontend_counts(x).astype(int)
    onset = counts[125:150].sum(axis=0)          # first 100 ms of the tone
    # 2-pole resonators have 6 dB/octave skirts and counts grow with dB above the floor:
    # the tone's band leads, but its neighbours spike too (docs/audio.md, selectivity).
    assert onset.argmax() == band
    assert onset[band] > 1.3 * np.delete(onset, range(band - 3, band + 4)).max()
    assert onset[band] > 1.8 * max(onset[0], onset[-1])
    late = counts[-25:].sum(axis=0)               # the floor has risen: fewer spikes
    assert late[band] < onset[band]

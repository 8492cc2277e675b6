"""WAV helpers, espeak-ng speech, the keyword data set generator and keyword streams."""
from __future__ import annotations

import json
import shutil
import struct

import numpy as np
import pytest

from silifc.kws.audio.frontend import FrontEnd
from silifc.kws.audio.speech import resample
from silifc.kws.audio.wav import AudioFormatError, parse_wav, read_wav, write_wav

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (scripts/setup.sh installs it)")


def _wav_bytes(tag=1, channels=1, rate=16000, bits=16, body=b"\0\0" * 10, data_size=None):
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits)
    size = len(body) if data_size is None else data_size
    return (b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", size) + body)


# ---------------------------------------------------------------- WAV

@pytest.mark.unit
def test_wav_round_trip(tmp_path):
    pcm = np.array([0, 1, -1, 32767, -32768, 1234], np.int16)
    write_wav(tmp_path / "a.wav", pcm)
    assert np.array_equal(read_wav(tmp_path / "a.wav"), pcm)
    import wave

    with wave.open(str(tmp_path / "a.wav")) as w:                 # a standard reader agrees
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (16000, 1, 2, 6)


@pytest.mark.unit
@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 44100}, "44100 Hz"), ({"channels": 2, "body": b"\0" * 8}, "2 channels"),
    ({"bits": 8, "body": b"\0" * 4}, "8-bit"), ({"tag": 3, "bits": 32, "body": b"\0" * 8}, "32-bit float"),
])
def test_wav_other_formats_are_refused_with_a_hint(tmp_path, kwargs, message):
    (tmp_path / "x.wav").write_bytes(_wav_bytes(**kwargs))
    with pytest.raises(AudioFormatError, match=f"{message}.*16000 Hz mono 16-bit PCM.*sox"):
        read_wav(tmp_path / "x.wav")


@pytest.mark.unit
def test_wav_garbage_and_missing(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"ID3\x03 not a wav")
    with pytest.raises(AudioFormatError, match="not a WAV file"):
        read_wav(tmp_path / "x.wav")
    with pytest.raises(AudioFormatError, match="no such file"):
        read_wav(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="int16"):
        write_wav(tmp_path / "y.wav", np.array([1.5]))


@pytest.mark.unit
def test_streaming_wav_header_is_read_to_the_end():
    body = np.arange(7, dtype="<i2").tobytes()
    wav = parse_wav(_wav_bytes(rate=22050, body=body, data_size=0x7FFFF000))   # espeak-ng --stdout
    assert wav.sample_rate == 22050 and list(wav.samples[:, 0]) == list(range(7))


@pytest.mark.unit
def test_resample_keeps_the_band_and_removes_aliases():
    t = np.arange(22050) / 22050.0
    out = resample(1000 * np.sin(2 * np.pi * 1000 * t), 22050, 16000)
    assert len(out) == 16000
    u = np.arange(16000) / 16000.0
    assert np.abs(out[200:-200] - 1000 * np.sin(2 * np.pi * 1000 * u[200:-200])).max() < 1.0
    alias = resample(1000 * np.sin(2 * np.pi * 9500 * t), 22050, 16000)          # would fold to 6.5 kHz
    assert np.abs(alias[200:-200]).max() < 5.0


# ---------------------------------------------------------------- speech and data set

@pytest.mark.unit
@needs_espeak
def test_synthesize_is_deterministic_and_checks_voices():
    from silifc.kws.audio.speech import SpeechSynthesisError, check_voices, synthesize

    a = synthesize("left", voice="en-gb+f2", speed=150, pitch=60)
    assert a.dtype == np.int16 and 4000 < len(a) < 16000 and np.abs(a).max() > 3000
    assert np.array_equal(a, synthesize("left", voice="en-gb+f2", speed=150, pitch=60))
    with pytest.raises(SpeechSynthesisError, match="no variant 'nosuchvoice'"):
        check_voices(["en-us+nosuchvoice"])
    with pytest.raises(SpeechSynthesisError, match="accent"):
        check_voices(["fr+m1"])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from silifc.kws.audio.dataset import KwsSpec, make_kws_dataset

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    cache = tmp_path_factory.mktemp("cache")
    spec = KwsSpec(clips_per_class=(3, 1, 2), babble_bank=6, seed=5)
    return make_kws_dataset(spec=spec, cache_dir=cache, keep_audio=True), cache


@pytest.mark.unit
@needs_espeak
def test_dataset_layout(tiny):
    from silifc.kws.audio.dataset import SPLITS

    dataset, _ = tiny
    assert dataset.classes == ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
                               "unknown", "silence")
    for split, per_class in zip(SPLITS, (3, 1, 2)):
        inputs, labels = dataset.load(split)
        assert inputs.dtype == np.uint8 and inputs.shape == (12 * per_class, 250, 32)
        assert np.array_equal(np.bincount(labels, minlength=12), np.full(12, per_class))
        assert inputs[labels != 11].sum(axis=(1, 2)).min() > 0          # every word spikes
        with np.load(dataset.path(split)) as data:
            assert list(data["classes"]) == list(dataset.classes)
            assert json.loads(str(data["frontend_config"]))["bands"] == 32
            voices = {str(v).split("+")[1] for v in data["voices"] if v}
            assert voices <= set(dataset.spec.variants(split))
    assert dataset.meta["counts"]["test"]["total"] == 24
    held_out = [set(dataset.spec.variants(s)) for s in SPLITS]
    assert not (held_out[0] & held_out[1]) and not (held_out[0] & held_out[2]) and not (held_out[1] & held_out[2])


@pytest.mark.unit
@needs_espeak
def test_dataset_inputs_are_the_front_end_of_the_stored_audio(tiny):
    dataset, _ = tiny
    inputs, _ = dataset.load("val")
    with np.load(dataset.directory / "val_audio.npz") as audio:
        pcm, warmup = audio["pcm"], int(audio["warmup_samples"])
    assert pcm.shape == (12, warmup + 16000)
    skip = warmup // 64
    assert np.array_equal(FrontEnd(dataset.spec.frontend).process(pcm)[:, skip:], inputs)


@pytest.mark.unit
@needs_espeak
def test_dataset_is_cached_and_deterministic(tiny, tmp_path):
    from silifc.kws.audio.dataset import make_kws_dataset

    dataset, cache = tiny
    again = make_kws_dataset(spec=dataset.spec, cache_dir=cache)
    assert again.directory == dataset.directory and again.meta == dataset.meta      # from the cache
    fresh = make_kws_dataset(tmp_path / "copy", spec=dataset.spec, cache_dir=tmp_path / "other")
    for split in ("train", "test"):
        assert all(np.array_equal(a, b) for a, b in zip(fresh.load(split), dataset.load(split)))
    assert (tmp_path / "copy" / "train.npz").exists()


@pytest.mark.unit
@needs_espeak
def test_dataset_feeds_silifc_inputs(tiny):
    from silifc.io.inputs import load_input
    from silifc.ir import ModelConfig

    dataset, _ = tiny
    spikes = load_input(dataset.path("train"), 32, ModelConfig(spatial_bin=1, nb_steps=250))
    assert spikes.counts.shape == (36, 250, 32) and spikes.labels.shape == (36,)


@pytest.mark.unit
@needs_espeak
def test_export_wavs(tiny, tmp_path):
    from silifc.kws.audio.dataset import export_wavs

    dataset, _ = tiny
    paths = export_wavs(dataset, "test", tmp_path, limit=3)
    assert len(paths) == 3 and len(read_wav(paths[0])) == 16000


@pytest.mark.unit
def test_spec_is_validated():
    from silifc.kws.audio.dataset import KwsSpec
    from silifc.errors import ConfigError

    with pytest.raises(ConfigError, match="one split only"):
        KwsSpec(test_variants=("m1",))
    with pytest.raises(ConfigError, match="disjoint"):
        KwsSpec(unknown_words=("yes",))
    with pytest.raises(ConfigError, match="whole number of front-end steps"):
        KwsSpec(warmup_seconds=0.25)


@pytest.mark.unit
@needs_espeak
def test_keyword_stream(tmp_path):
    from silifc.kws.audio.labelled_streams import make_keyword_stream

    stream = make_keyword_stream(("yes", "stop", "go"), seed=3, path=tmp_path / "s.wav")
    events = stream.events
    assert [e.word for e in events] == ["yes", "stop", "go"]
    assert events[0].start == 16000 and all(a.end + 0.6 * 16000 <= b.start for a, b in zip(events, events[1:]))
    assert events[-1].end + 16000 == len(stream.pcm)
    assert np.array_equal(read_wav(tmp_path / "s.wav"), stream.pcm)
    labels = json.loads((tmp_path / "s.json").read_text())
    assert labels["events"][1]["word"] == "stop" and labels["events"][1]["start"] == events[1].start
    # loud where the words are, quiet (-50 dBFS pink noise) between them
    word = stream.pcm[events[1].start:events[1].end].astype(float)
    gap = stream.pcm[events[0].end + 800:events[1].start - 800].astype(float)
    assert np.sqrt(np.mean(word ** 2)) > 10 * np.sqrt(np.mean(gap ** 2))
    assert np.array_equal(make_keyword_stream(("yes", "stop", "go"), seed=3).pcm, stream.pcm)


@pytest.mark.unit
@needs_espeak
def test_command_line(tmp_path, monkeypatch, capsys):
    from silifc.kws.audio.dataset import main

    monkeypatch.setenv("SILIFC_CACHE", str(tmp_path / "cache"))
    assert main(["--clips-per-class", "1", "0", "0", "--bands", "16", "--out", str(tmp_path / "out")]) == 0
    assert "12 classes, train 12, val 0, test 0 clips; inputs [N, 250, 16] uint8" in capsys.readouterr().out
    with np.load(tmp_path / "out" / "train.npz") as data:
        assert data["inputs"].shape == (12, 250, 16)
    assert main(["--clips-per-class", "1", "0", "0", "--bands", "0"]) == 2
    assert "bands must be in 1..255" in capsys.readouterr().err

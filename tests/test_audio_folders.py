"""WAV folders as training data (silifc.kws.audio.folders): Speech Commands v1/v2 layout and
folder-per-label, through the keyword front end, cached by content hash; `silifc train DIR`."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from silifc.kws.audio.folders import CLASSES12, WARMUP_SECONDS, load_audio_folder
from silifc.kws.audio.frontend import FrontEnd, FrontEndConfig
from silifc.kws.audio.speech import resample
from silifc.kws.audio.wav import write_wav
from silifc.errors import InputDataError

pytestmark = pytest.mark.unit
V1_EXTRA = ("bed", "cat")
V2_EXTRA = ("bed", "backward", "follow")


def _tone(seed: int, n: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    x = 3000 * np.sin(2 * np.pi * rng.uniform(200, 3000) * t) * (np.abs(t - 0.5) < 0.25) + 30 * rng.standard_normal(n)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _write_raw_wav(path, samples: np.ndarray, rate: int, channels: int):
    import struct

    data = samples.astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, channels, rate,
                         rate * 2 * channels, 2 * channels, 16, b"data", len(data))
    path.write_bytes(header + data)


def make_speech_commands(root, extra_words, files_per_word=3):
    words = (*CLASSES12[:10], *extra_words)
    seed = 0
    for word in words:
        (root / word).mkdir(parents=True)
        for i in range(files_per_word):
            write_wav(root / word / f"{seed:04x}_nohash_{i}.wav", _tone(seed))
            seed += 1
    (root / "_background_noise_").mkdir()
    write_wav(root / "_background_noise_" / "white_noise.wav",
              np.round(np.random.default_rng(9).standard_normal(3 * 16000) * 500).astype(np.int16))
    first = {w: f"{w}/" + sorted(p.name for p in (root / w).glob("*.wav"))[0] for w in ("yes", "no", "bed")}
    (root / "validation_list.txt").write_text(f"{first['yes']}\n{first['bed']}\n")
    (root / "testing_list.txt").write_text(f"{first['no']}\n")
    return words


@pytest.mark.parametrize("extra", [V1_EXTRA, V2_EXTRA], ids=["v1", "v2"])
def test_speech_commands_splits_classes_and_cache(tmp_path, extra):
    root = tmp_path / "sc"
    make_speech_commands(root, extra)
    cache = tmp_path / "cache"
    train = load_audio_folder(root, "training", unknown_share=1.0, silence_share=0.2, progress=False,
                              cache_directory=cache)
    assert train.classes == CLASSES12 and train.layout == "speech-commands"
    assert "yes/0000_nohash_0.wav" not in train.files and "no/0003_nohash_0.wav" not in train.files
    keywords = 10 * 3 - 2                                         # two keyword files are in the lists
    assert int((train.labels < 10).sum()) == keywords
    assert int((train.labels == 10).sum()) == min(len(extra) * 3 - 1, keywords)   # unknown: share 1.0
    assert int((train.labels == 11).sum()) == round(0.2 * keywords)               # silence crops
    assert train.counts.shape[1:] == (250, 32) and train.counts.dtype == np.uint8
    val = load_audio_folder(root, "validation", progress=False, cache_directory=cache)
    assert "yes/0000_nohash_0.wav" in val.files and all(f.split("/")[0] in ("yes", "bed", "_background_noise_")
                                                       for f in val.files)
    test = load_audio_folder(root, "testing", progress=False, cache_directory=cache, silence_share=0.0)
    assert test.files == ("no/0003_nohash_0.wav",)
    # the counts are the front end of the clip after the reversed warm-up
    i = train.files.index("up/0006_nohash_0.wav")
    clip = _tone(6)
    warm = int(WARMUP_SECONDS * 16000)
    expected = FrontEnd(FrontEndConfig()).process(np.concatenate([clip[:warm][::-1], clip]))[warm // 64:]
    assert np.array_equal(train.counts[i], expected)
    # second load: everything from the cache; a changed file is recomputed
    again = load_audio_folder(root, "training", unknown_share=1.0, silence_share=0.2, progress=False,
                              cache_directory=cache)
    assert np.array_equal(again.counts, train.counts)
    from silifc.kws.audio import folders

    seen = []
    original = folders._flush
    folders._flush = lambda pending, *a: (seen.append(len(pending)), original(pending, *a))[1]
    try:
        load_audio_folder(root, "training", unknown_share=1.0, silence_share=0.2, progress=False, cache_directory=cache)
        assert seen == []
        write_wav(root / "up" / "0006_nohash_0.wav", _tone(1234))
        load_audio_folder(root, "training", unknown_share=1.0, silence_share=0.2, progress=False, cache_directory=cache)
        assert seen == [1]
    finally:
        folders._flush = original


def test_folder_per_label_resamples_and_mixes_down(tmp_path):
    root = tmp_path / "folders"
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    write_wav(root / "cat" / "a.wav", _tone(1))
    mono8k = _tone(2, 8000)
    _write_raw_wav(root / "dog" / "b.wav", np.stack([mono8k, mono8k], axis=1).reshape(-1), 8000, 2)
    data = load_audio_folder(root, progress=False, cache_directory=tmp_path / "cache")
    assert data.layout == "folders" and data.classes == ("cat", "dog") and list(data.labels) == [0, 1]
    upsampled = np.clip(np.round(resample(mono8k.astype(np.float64), 8000, 16000)), -32768, 32767).astype(np.int16)
    clip = np.zeros(16000, np.int16)
    clip[:len(upsampled)] = upsampled[:16000]
    warm = int(WARMUP_SECONDS * 16000)
    expected = FrontEnd(FrontEndConfig()).process(np.concatenate([clip[:warm][::-1], clip]))[warm // 64:]
    assert np.array_equal(data.counts[1], expected)


def test_errors(tmp_path):
    with pytest.raises(InputDataError, match="not a folder"):
        load_audio_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputDataError, match="no label folders"):
        load_audio_folder(tmp_path / "empty")
    root = tmp_path / "sc"
    (root / "yes").mkdir(parents=True)
    (root / "testing_list.txt").write_text("")
    with pytest.raises(InputDataError, match="without the keyword folders"):
        load_audio_folder(root, progress=False)
    (root / "yes" / "x.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    with pytest.raises(InputDataError):
        load_audio_folder(root, task="all", progress=False, cache_directory=tmp_path / "c")


def test_silifc_train_on_a_speech_commands_tree(tmp_path):
    root = tmp_path / "sc"
    make_speech_commands(root, V2_EXTRA, files_per_word=4)
    out = tmp_path / "gsc.pt"
    env_cache = {"SILIFC_CACHE": str(tmp_path / "cache")}
    import os

    result = subprocess.run([sys.executable, "-m", "silifc.cli", "train", str(root), "--test", str(root),
                             "--arch", "silif:8", "--epochs", "1", "--batch-size", "8", "--threads", "1",
                             "--out", str(out), "--json"], capture_output=True, text=True, timeout=600,
                            env={**os.environ, **env_cache})
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert "validation" in json.dumps(summary) or summary["best"]["val_accuracy"] is not None
    assert "testing" in summary["test"]
    from silifc.kws.model import load_kws_model

    model = load_kws_model(out)
    assert model.classes == CLASSES12 and model.keywords == 10
    assert out.with_suffix(".calibration.npz").exists() and model.calibration.endswith("gsc.calibration.npz")

"""A continuous recording with keywords at known times, for streaming (always-listening) tests."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dataset import KEYWORDS, pink_noise, white_noise
from .speech import check_voices, synthesize, trim_silence
from .wav import SAMPLE_RATE, write_wav


@dataclass(frozen=True)
class StreamEvent:
    word: str
    start: int                # first sample of the (trimmed) word
    end: int                  # one past its last sample

    def to_dict(self, sample_rate: int = SAMPLE_RATE) -> dict:
        return {"word": self.word, "start": self.start, "end": self.end,
                "start_s": self.start / sample_rate, "end_s": self.end / sample_rate}


@dataclass(frozen=True, eq=False)
class KeywordStream:
    pcm: np.ndarray           # int16 [n] at sample_rate
    sample_rate: int
    events: tuple[StreamEvent, ...]

    def labels_json(self) -> str:
        return json.dumps({"sample_rate": self.sample_rate, "samples": int(len(self.pcm)),
                           "events": [e.to_dict(self.sample_rate) for e in self.events]}, indent=1) + "\n"


def make_keyword_stream(words=KEYWORDS[:6], *, voice: str = "en-us+m3", seed: int = 0,
                        gap_seconds: tuple[float, float] = (0.6, 1.4), lead_seconds: float = 1.0,
                        tail_seconds: float = 1.0, peak_dbfs: float = -12.0, noise: str = "pink",
                        noise_dbfs: float = -50.0, speed: int = 170, pitch: int = 50,
                        path: str | Path | None = None) -> KeywordStream:
    """Speak `words` one after another with random gaps over continuous background noise.

    The first word starts after lead_seconds (time for the front end's noise floor to settle).
    noise: "pink", "white" or "none"; noise_dbfs is its RMS. With `path`, writes the WAV and a
    JSON sidecar (same name, .json) listing every word's start and end sample.
    """
    if noise not in ("pink", "white", "none"):
        raise ValueError(f"noise must be 'pink', 'white' or 'none', got {noise!r}")
    check_voices([voice])
    rng = np.random.default_rng(seed)
    pieces, events = [], []
    position = int(lead_seconds * SAMPLE_RATE)
    for index, word in enumerate(words):
        if index:
            position += int(rng.uniform(*gap_seconds) * SAMPLE_RATE)
        audio = trim_silence(synthesize(word, voice=voice, speed=speed, pitch=pitch)).astype(np.float64)
        audio *= 32768.0 * 10.0 ** (peak_dbfs / 20.0) / max(np.abs(audio).max(), 1.0)
        pieces.append((position, audio))
        events.append(StreamEvent(word, position, position + len(audio)))
        position += len(audio)
    total = position + int(tail_seconds * SAMPLE_RATE)
    signal = np.zeros(total)
    for start, audio in pieces:
        signal[start:start + len(audio)] += audio
    if noise != "none":
        background = pink_noise(rng, total) if noise == "pink" else white_noise(rng, total)
        background /= max(np.sqrt(np.mean(background ** 2)), 1e-12)
        signal += background * 32768.0 * 10.0 ** (noise_dbfs / 20.0)
    stream = KeywordStream(np.clip(np.round(signal), -32768, 32767).astype(np.int16), SAMPLE_RATE, tuple(events))
    if path is not None:
        path = Path(path)
        write_wav(path, stream.pcm, SAMPLE_RATE)
        path.with_suffix(".json").write_text(stream.labels_json())
    return stream


def read_stream_events(wav: str | Path) -> tuple[StreamEvent, ...] | None:
    """The words and times of a stream made by make_keyword_stream (its JSON sidecar beside
    the WAV), or None when there is no readable sidecar."""
    sidecar = Path(wav).with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text())
        return tuple(StreamEvent(e["word"], int(e["start"]), int(e["end"])) for e in data["events"])
    except (ValueError, KeyError, TypeError):
        return None

"""Scoring detections against the words a stream is known to contain (its JSON sidecar)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .audio.wav import SAMPLE_RATE
from .model import KWS_CLASSES, KWS_KEYWORDS


@dataclass(frozen=True)
class StreamScore:
    hits: int                    # spoken keywords detected with the right word in time
    misses: tuple[str, ...]      # spoken keywords not detected
    wrong: tuple[str, ...]       # detections of another keyword in a word's window
    false_alarms: tuple[str, ...]  # detections outside every word's window

    @property
    def correct(self) -> bool:
        return not (self.misses or self.wrong or self.false_alarms)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def score_detections(detections, events, sample_rate: int = SAMPLE_RATE, keywords=KWS_CLASSES[:KWS_KEYWORDS],
                     late_ms: float = 1000.0) -> StreamScore:
    """Match detections to the spoken words of a stream (audio.stream.StreamEvent): a word's
    window runs from its start to `late_ms` after its end. Non-keywords need no detection."""
    windows = [(e.word, 1000.0 * e.start / sample_rate, 1000.0 * e.end / sample_rate + late_ms) for e in events]
    used: set[int] = set()
    hits, misses, wrong = 0, [], []
    for word, start, end in windows:          # first pass: the right word inside its window
        right = [i for i, d in enumerate(detections) if start <= d.time_ms <= end and d.word == word and i not in used]
        if right:
            hits += 1
            used.add(right[0])
        elif word in keywords:
            misses.append(word)
    for word, start, end in windows:          # then: other detections inside a word's window
        for i, d in enumerate(detections):
            if i not in used and start <= d.time_ms <= end:
                used.add(i)
                wrong.append(f"{d.word}@{d.time_ms}ms (said {word})")
    false_alarms = [f"{d.word}@{d.time_ms}ms" for i, d in enumerate(detections) if i not in used]
    return StreamScore(hits, tuple(misses), tuple(wrong), tuple(false_alarms))

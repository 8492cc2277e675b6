"""Streaming evaluation of a keyword model: hits, misses, wrong words, false alarms per hour,
detection latency; detector tuning on validation streams.
`silifc kws-eval MODEL STREAMS/ [--labels labels.json]` is the command line.

Labels: `labels.json` in the folder (or --labels), `{"file.wav": {"sample_rate": 16000,
"events": [{"word": "yes", "start": 16000, "end": 24000, "keyword": true}, ...]}, ...}`
(written by silifc.kws.audio.corpus.write_streams), or per WAV a JSON sidecar of
silifc.kws.audio.labelled_streams (`events` with word/start/end; keyword = the word is a model keyword).

Scoring (`score_stream`): a keyword's window runs from its start to `late_ms` (default
1000 ms) after its end. The first detection of the right word in the window is a **hit**
(latency = detection time - the word's end); a keyword without one is a **miss**; a detection
of another keyword inside a keyword's window is **wrong**; every other detection — during
running speech, pauses, noise, or a second detection of the same keyword — is a **false
alarm**. False alarms per hour are over the total duration of the streams scored.
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputDataError
from .detector import NONE, DetectorConfig


@dataclass(frozen=True)
class Event:
    word: str
    start: int
    end: int
    keyword: bool


@dataclass
class Score:
    keywords: int = 0
    hits: int = 0
    misses: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    false_alarms: list = field(default_factory=list)
    latencies_ms: list = field(default_factory=list)
    seconds: float = 0.0
    streams: int = 0

    def add(self, other: "Score") -> None:
        self.keywords += other.keywords
        self.hits += other.hits
        self.misses += other.misses
        self.wrong += other.wrong
        self.false_alarms += other.false_alarms
        self.latencies_ms += other.latencies_ms
        self.seconds += other.seconds
        self.streams += other.streams

    @property
    def hit_rate(self) -> float:
        return self.hits / self.keywords if self.keywords else float("nan")

    @property
    def false_alarms_per_hour(self) -> float:
        return len(self.false_alarms) * 3600.0 / self.seconds if self.seconds else float("nan")

    def summary(self) -> dict:
        lat = np.asarray(self.latencies_ms, np.float64)
        return {"streams": self.streams, "hours": round(self.seconds / 3600.0, 4), "keywords": self.keywords,
                "hits": self.hits, "hit_rate": round(self.hit_rate, 4) if self.keywords else None,
                "misses": len(self.misses), "wrong": len(self.wrong), "false_alarms": len(self.false_alarms),
                "false_alarms_per_hour": round(self.false_alarms_per_hour, 3) if self.seconds else None,
                "latency_ms": ({"median": float(np.median(lat)), "p10": float(np.percentile(lat, 10)),
                                "p90": float(np.percentile(lat, 90))} if lat.size else None)}

    def line(self) -> str:
        s = self.summary()
        lat = s["latency_ms"]
        return (f"{s['hits']}/{s['keywords']} keywords hit ({100 * self.hit_rate:.1f} %), {s['misses']} missed, "
                f"{s['wrong']} wrong word, {s['false_alarms']} false alarms in {self.seconds / 3600:.3f} h "
                f"({self.false_alarms_per_hour:.2f}/h)"
                + (f", latency after the word's end: median {lat['median']:.0f} ms (p10 {lat['p10']:.0f}, "
                   f"p90 {lat['p90']:.0f})" if lat else ""))


def score_stream(detections, events, keywords, sample_rate: int = 16000, late_ms: float = 1000.0,
                 seconds: float = 0.0) -> Score:
    """detections: objects with .word and .time_ms; events: [Event]."""
    score = Score(seconds=seconds, streams=1)
    used = set()
    windows = [(e, 1000.0 * e.start / sample_rate, 1000.0 * e.end / sample_rate) for e in events if e.keyword]
    for event, start, end in windows:
        score.keywords += 1
        for i, d in enumerate(detections):
            if i not in used and d.word == event.word and start <= d.time_ms <= end + late_ms:
                used.add(i)
                score.hits += 1
                score.latencies_ms.append(d.time_ms - end)
                break
        else:
            score.misses.append(f"{event.word}@{start:.0f}ms")
    for event, start, end in windows:
        for i, d in enumerate(detections):
            if i not in used and d.word != event.word and d.word in keywords and start <= d.time_ms <= end + late_ms:
                used.add(i)
                score.wrong.append(f"{d.word}@{d.time_ms}ms (said {event.word})")
    score.false_alarms = [f"{d.word}@{d.time_ms}ms" for i, d in enumerate(detections) if i not in used]
    return score


# ---------------------------------------------------------------- reading a folder of streams

def read_labels(folder: Path, labels: Path | None, keywords) -> dict[str, tuple[int, list[Event]]]:
    """{wav file name: (sample_rate, events)} for every labelled WAV of the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputDataError(f"{folder}: not a folder of WAV files")
    table = {}
    path = Path(labels) if labels else folder / "labels.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise InputDataError(f"{path}: not JSON ({exc})") from None
        for name, entry in data.items():
            table[name] = entry
    elif labels:
        raise InputDataError(f"{labels}: no such labels file")
    for wav in sorted(folder.glob("*.wav")):
        if wav.name not in table and wav.with_suffix(".json").is_file():
            table[wav.name] = json.loads(wav.with_suffix(".json").read_text())
    if not table:
        raise InputDataError(f"{folder}: no labels (labels.json, --labels, or a .json sidecar per WAV)")
    out = {}
    for name, entry in sorted(table.items()):
        if not (folder / name).is_file():
            raise InputDataError(f"{path}: labels name {name}, which is not in {folder}")
        try:
            events = [Event(str(e["word"]), int(e["start"]), int(e["end"]),
                            bool(e.get("keyword", e["word"] in keywords))) for e in entry["events"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputDataError(f"labels of {name}: each event needs word, start, end ({exc})") from None
        out[name] = (int(entry.get("sample_rate", 16000)), events)
    return out


@dataclass(frozen=True, eq=False)
class StreamProbabilities:
    """A stream's per-step softmax (integer reference): the detector can be re-run on it."""

    name: str
    probabilities: np.ndarray
    events: list
    seconds: float


def stream_probabilities(model, folder: Path, labels: Path | None = None, progress=None,
                         frontend_engine: str = "c") -> list[StreamProbabilities]:
    """Front end + network (integer reference) over every labelled WAV of a folder."""
    from .audio.wav import read_wav
    from .stream import StreamingNetwork

    table = read_labels(folder, labels, model.classes[:model.keywords])
    out = []
    started = time.time()
    for index, (name, (rate, events)) in enumerate(table.items()):
        if rate != model.frontend.sample_rate:
            raise InputDataError(f"{name}: labels say {rate} Hz; the model's front end takes "
                                 f"{model.frontend.sample_rate} Hz")
        pcm = read_wav(Path(folder) / name, model.frontend.sample_rate)
        p = StreamingNetwork(model.quantized).probabilities(stream_counts(model.frontend, pcm, frontend_engine))
        out.append(StreamProbabilities(name, p, events, len(pcm) / rate))
        if progress:
            progress(f"  {index + 1}/{len(table)} {name}: {len(pcm) / rate:.0f} s ({time.time() - started:.0f} s)")
    return out


FRONTEND_ENGINES = ("c", "python")


def stream_counts(frontend, pcm, engine: str = "c") -> np.ndarray:
    """Front-end counts of a whole stream from the power-on state, cached by the sha256 of the
    PCM and the front end's digest. engine "c": the runtime's C front end built for the host
    (silifc.kws.audio.frontend_host; bit-exact with the Python specification, ~100x faster: an
    hour of audio in seconds); "python": the specification itself (~10 us per sample)."""
    import hashlib

    from ..io.files import cache_dir, save_npy_atomically
    from .audio.frontend import FrontEnd, design
    from .audio.frontend_host import frontend_counts_host

    if engine not in FRONTEND_ENGINES:
        raise InputDataError(f"front-end engine must be one of {', '.join(FRONTEND_ENGINES)}, got {engine!r}")

    pcm = np.ascontiguousarray(pcm, dtype=np.int16)
    key = hashlib.sha256(pcm.tobytes() + design(frontend).digest().encode()).hexdigest()
    path = cache_dir() / "stream-counts" / f"{key}.npy"
    if path.exists():
        return np.load(path).astype(np.int64)
    counts = frontend_counts_host(pcm, frontend) if engine == "c" else FrontEnd(frontend).process(pcm)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_npy_atomically(path, counts.astype(np.uint8))
    return counts.astype(np.int64)


def detect(model, probabilities: np.ndarray, detector: DetectorConfig | None = None):
    """The detector alone over stored per-step probabilities -> detections (as run_stream)."""
    from .detector import Detector
    from .stream import Detection, time_ms as _time_ms

    config = detector or model.detector
    params = config.params(len(model.classes), model.keywords, model.step_ms)
    machine = Detector(params)
    f = model.frontend
    out = []
    for t, p in enumerate(probabilities):
        k = machine.step(p)
        if k != NONE:
            out.append(Detection(k, model.classes[k], t, _time_ms(t, f.step_samples, f.sample_rate)))
    return out


def score_probabilities(model, streams: list[StreamProbabilities], detector: DetectorConfig | None = None,
                        late_ms: float = 1000.0) -> Score:
    total = Score()
    keywords = model.classes[:model.keywords]
    for stream in streams:
        detections = detect(model, stream.probabilities, detector)
        total.add(score_stream(detections, stream.events, keywords, model.frontend.sample_rate, late_ms,
                               stream.seconds))
    return total


# ---------------------------------------------------------------- detector tuning

def detect_many(params_list, probabilities: np.ndarray) -> list[list[tuple[int, int]]]:
    """The detector (Detector's rules) for many parameter sets at once, vectorised over the
    sets: -> per set, [(step, class)] of its detections. Same integers as Detector.step
    (tests/test_kws_eval.py)."""
    n = len(params_list)
    classes = probabilities.shape[1]
    shift = np.array([p.shift for p in params_list], np.int64)[:, None]
    on = np.array([p.on for p in params_list], np.int64)
    off = np.array([p.off for p in params_list], np.int64)
    hold_steps = np.array([p.hold_steps for p in params_list], np.int64)
    keywords = params_list[0].keywords
    acc = np.zeros((n, classes), np.int64)
    hold = np.zeros(n, np.int64)
    last = np.full(n, NONE, np.int64)
    rows = np.arange(n)
    found: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    p_all = probabilities.astype(np.int64)
    for t in range(len(p_all)):
        acc = (acc - (acc >> shift) + p_all[t]) & 0xFFFFFFFF
        hold = np.maximum(hold - 1, 0)
        has_last = last >= 0
        faded = has_last & (acc[rows, np.maximum(last, 0)] < off)
        last = np.where(faded, NONE, last)
        best = acc.argmax(axis=1)
        fire = (hold == 0) & (best < keywords) & (best != last) & (acc[rows, best] >= on)
        if fire.any():
            for i in np.nonzero(fire)[0]:
                found[i].append((t, int(best[i])))
            last = np.where(fire, best, last)
            hold = np.where(fire, hold_steps, hold)
    return found


def tune_detector(model, streams: list[StreamProbabilities], grid=None, late_ms: float = 1000.0,
                  max_false_alarms_per_hour: float | None = None, negative: list[StreamProbabilities] | None = None):
    """Grid search of the detector on validation streams. Merit: hits - wrong - false alarms
    on the streams (and, with `negative` streams, configurations whose false alarms per hour
    there exceed `max_false_alarms_per_hour` are dropped). Returns (best config, table), the
    table ranked allowed first; the best config is None when no configuration is allowed."""
    from .stream import Detection, time_ms as _time_ms

    if grid is None:
        grid = [DetectorConfig(shift=s, on=round(float(on), 3), off=round(float(on) * r, 3), hold_ms=h)
                for s, on, r, h in itertools.product((4, 5, 6, 7), np.arange(0.10, 0.92, 0.02), (0.5, 0.8),
                                                     (300.0, 600.0, 1000.0))]
    params = [c.params(len(model.classes), model.keywords, model.step_ms) for c in grid]
    keywords = model.classes[:model.keywords]
    f = model.frontend

    def scores(stream_set):
        totals = [Score() for _ in grid]
        for stream in stream_set:
            found = detect_many(params, stream.probabilities)
            for i, hits in enumerate(found):
                detections = [Detection(k, model.classes[k], t, _time_ms(t, f.step_samples, f.sample_rate))
                              for t, k in hits]
                totals[i].add(score_stream(detections, stream.events, keywords, f.sample_rate, late_ms,
                                           stream.seconds))
        return totals

    on_streams = scores(streams)
    on_negative = scores(negative) if negative else [None] * len(grid)
    table = []
    for config, s, neg in zip(grid, on_streams, on_negative):
        merit = s.hits - len(s.wrong) - len(s.false_alarms)
        allowed = neg is None or max_false_alarms_per_hour is None or \
            neg.false_alarms_per_hour <= max_false_alarms_per_hour
        table.append({"config": config.to_dict(), "merit": merit, "allowed": allowed, "streams": s.summary(),
                      "negative": neg.summary() if neg is not None else None})
    ranked = sorted(range(len(grid)), key=lambda i: (table[i]["allowed"], table[i]["merit"],
                                                     -(on_negative[i].false_alarms_per_hour if on_negative[i] else 0),
                                                     -grid[i].shift), reverse=True)
    best = grid[ranked[0]] if table[ranked[0]]["allowed"] else None
    return best, [table[i] for i in ranked]


def evaluate_folder(model, folder, labels=None, late_ms: float = 1000.0, progress=None,
                    frontend_engine: str = "c") -> tuple[Score, list]:
    """Score the integer reference (= the firmware) on every labelled WAV of a folder."""
    streams = stream_probabilities(model, Path(folder), labels, progress, frontend_engine)
    total = Score()
    per_stream = []
    keywords = model.classes[:model.keywords]
    for stream in streams:
        detections = detect(model, stream.probabilities)
        score = score_stream(detections, stream.events, keywords, model.frontend.sample_rate, late_ms, stream.seconds)
        per_stream.append({"file": stream.name, **score.summary(), "missed": score.misses, "wrong_words": score.wrong,
                           "false_alarm_list": score.false_alarms})
        total.add(score)
    return total, per_stream

"""The keyword corpus for streams: many synthesizers and voices, augmentation, keywords
embedded in running speech and noise. 

Voices are split by whole voice *and* whole synthesizer (`split_voices`):

| split | voices | used for |
|---|---|---|
| `train` | espeak-ng: every English accent x every voice variant except the val/test ones; festival: kal, ked, slt (HTS) | training |
| `val` | espeak-ng: accents x `VAL_VARIANTS`; festival voices (other utterances and seeds) | model selection, detector tuning |
| `test` | espeak-ng: accents x `TEST_VARIANTS` (variants training never heard) | the held-out-voice numbers |
| `unseen` | piper (joe, neural) and hibari (heart, neural): synthesizers training never used | the held-out-synthesizer numbers |

flite is not here: it is reserved for an independent test (silifc.kws.audio.voices).

**Training windows** (`make_window_set`): 1.28 s (320 steps of 4 ms) that the network sees
from its zero state, after a warm-up the front end alone sees (its noise floor settles).
A window holds a *target* — a keyword, for `unknown` a non-keyword word or a running-speech
phrase, nothing for `silence` — often preceded and followed by running non-keyword speech
(another utterance of the same or another voice), over continuous noise (white, pink, brown,
mains hum, babble of running speech, cafe) at 0–30 dB SNR. The target is augmented (speaking
rate, pitch, vocal-tract length, tempo), the speech track gets a room, a microphone or a
telephone channel, the mix a level and sometimes clipping. `mask` [N, T] marks the steps
from the target's start to 300 ms after its end: the loss is taken there (silifc.train's
masked loss), so the network learns to name a keyword while and just after it is heard,
whatever came before, and to answer `unknown` on running speech.

**Streams** (`make_stream`): minutes of one talker saying keywords between running speech
and pauses, over noise, with the words' sample ranges (labels) — for tuning and evaluation
(`silifc kws-eval`). `make_negative_stream`: running speech without any keyword (≥ 1 hour
for false alarms per hour).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...io.files import save_npz_atomically, write_if_changed
from . import augment as A
from .dataset import KEYWORDS, TEST_VARIANTS, UNKNOWN_WORDS, VAL_VARIANTS
from .frontend import ALGORITHM_VERSION, FrontEnd, FrontEndConfig
from .speech import ENGLISH_ACCENTS, installed_variants
from .voices import FESTIVAL_VOICES, HIBARI_VOICES, PIPER_VOICES, Voice, speak_many, synthesizer_versions

CORPUS_VERSION = 1
RATE = 16000
CLASSES = (*KEYWORDS, "unknown", "silence")
SPLITS = ("train", "val", "test", "unseen")
EXCLUDED_VARIANTS = ("Storm",)           # not an English voice variant file of its own
RATES = (0.8, 1.0, 1.25)                  # speaking rates asked of the synthesizers


def running_vocabulary() -> tuple[tuple[str, ...], np.ndarray]:
    """(words, sampling probabilities) of running non-keyword speech."""
    text = (files("silifc.kws.audio") / "running_words.txt").read_text(encoding="utf-8")
    words, counts = [], []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, count = line.split()
            if word not in KEYWORDS:
                words.append(word)
                counts.append(float(count))
    weights = np.sqrt(np.asarray(counts))
    return tuple(words), weights / weights.sum()


def split_voices(split: str) -> list[Voice]:
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
    if split == "unseen":
        return [Voice("piper", v) for v in PIPER_VOICES] + [Voice("hibari", v) for v in HIBARI_VOICES]
    held = set(VAL_VARIANTS) | set(TEST_VARIANTS) | set(EXCLUDED_VARIANTS)
    variants = {"train": sorted(v for v in installed_variants() if v not in held),
                "val": list(VAL_VARIANTS), "test": list(TEST_VARIANTS)}[split]
    voices = [Voice("espeak", f"{accent}+{variant}") for variant in variants for accent in ENGLISH_ACCENTS]
    if split in ("train", "val"):
        voices += [Voice("festival", v) for v in FESTIVAL_VOICES]
    return voices


@dataclass(frozen=True)
class WindowSpec:
    """Everything that determines a window set (hashed into its cache key)."""

    per_class: int = 400
    unknown_per_class_factor: float = 2.0      # unknown windows = factor x per_class (running speech is varied)
    window_seconds: float = 1.28
    warmup_seconds: float = 0.512
    festival_share: float = 0.35               # of targets in splits that have festival voices
    snr_db: tuple[float, float] = (0.0, 30.0)
    peak_dbfs: tuple[float, float] = (-36.0, -3.0)
    quiet_share: float = 0.15                  # windows with only faint white noise (-95..-70 dBFS)
    context_share: float = 0.75                # windows with running speech before the target
    after_share: float = 0.5                   # ... and after it
    mask_after_seconds: float = 0.3
    phrase_bank: int = 400
    seed: int = 0
    frontend: FrontEndConfig = field(default_factory=FrontEndConfig)

    @property
    def steps(self) -> int:
        return round(self.window_seconds * RATE) // self.frontend.step_samples

    def digest(self, split: str) -> str:
        voices = [v.key for v in split_voices(split)]
        key = {"spec": json.loads(json.dumps(dataclasses.asdict(self))), "split": split, "voices": voices,
               "version": CORPUS_VERSION, "frontend": ALGORITHM_VERSION,
               "synth": synthesizer_versions({v.synth for v in split_voices(split)})}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- synthesis bank

class SpeechBank:
    """Synthesizes (voice, text, rate) jobs once, in parallel, festival jobs batched per voice."""

    def __init__(self, workers: int = 2, progress=None, independent_test: bool = False):
        self.audio: dict[tuple, np.ndarray] = {}
        self.workers = workers
        self.progress = progress
        self.independent_test = independent_test     # allows flite (silifc.kws.audio.voices)

    def fill(self, jobs) -> None:
        todo = sorted({j for j in jobs if j not in self.audio})
        groups: dict[tuple, list[str]] = {}
        for voice, text, rate in todo:
            groups.setdefault((voice, rate), []).append(text)
        batches = []
        for (voice, rate), texts in groups.items():
            size = 200 if voice.synth == "festival" else 16
            batches += [(voice, rate, texts[i:i + size]) for i in range(0, len(texts), size)]
        started, done = time.time(), 0

        def run(batch):
            voice, rate, texts = batch
            return batch, speak_many(voice, texts, rate=rate, seed=len(texts), independent_test=self.independent_test)

        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            for (voice, rate, texts), outs in pool.map(run, batches):
                for text, out in zip(texts, outs):
                    self.audio[(voice, text, rate)] = out
                done += len(texts)
                if self.progress and (done == len(todo) or done % 500 < len(texts)):
                    self.progress(f"  speech {done}/{len(todo)} ({time.time() - started:.0f} s)")

    def __getitem__(self, job) -> np.ndarray:
        return self.audio[job]


def _phrase(rng, words, probabilities, low=2, high=8) -> str:
    return " ".join(rng.choice(words, size=int(rng.integers(low, high + 1)), p=probabilities))


def _pick_voice(rng, voices: list[Voice], festival_share: float) -> Voice:
    festival = [v for v in voices if v.synth == "festival"]
    others = [v for v in voices if v.synth != "festival"]
    if festival and others and rng.random() < festival_share:
        return festival[int(rng.integers(len(festival)))]
    pool = others or festival
    return pool[int(rng.integers(len(pool)))]


def _augment_utterance(x: np.ndarray, rng) -> np.ndarray:
    y = np.asarray(x, np.float64)
    if rng.random() < 0.5:
        y = A.pitch_shift(y, float(rng.uniform(-4.0, 4.0)))
    if rng.random() < 0.5:
        y = A.warp_vocal_tract(y, float(rng.uniform(0.86, 1.14)))
    if rng.random() < 0.3:
        y = A.time_stretch(y, float(rng.uniform(0.8, 1.25)))
    return y


def _channel(speech: np.ndarray, rng) -> np.ndarray:
    """Room, then microphone or telephone: applied to the whole speech track."""
    y = speech
    if rng.random() < 0.3:
        y = A.room(y, rng)
    r = rng.random()
    if r < 0.1:
        y = A.band_limit(y, rng, "telephone")
    elif r < 0.4:
        y = A.band_limit(y, rng, "mic")
    return y


def _noise(rng, n: int, bank_audio: list[np.ndarray]) -> tuple[np.ndarray, str]:
    kind = A.NOISES[int(rng.integers(len(A.NOISES)))]
    return A.make_noise(rng, n, kind, bank_audio), kind


# ---------------------------------------------------------------- training windows

@dataclass(frozen=True)
class _Window:
    label: int
    target: tuple | None          # (voice, text, rate) or None
    before: tuple | None
    after: tuple | None
    seed: int


def _plan_windows(spec: WindowSpec, split: str, voices, bank_phrases) -> list[_Window]:
    words, probabilities = running_vocabulary()
    plan = []
    split_index = SPLITS.index(split)
    for label, cls in enumerate(CLASSES):
        count = spec.per_class if cls != "unknown" else int(round(spec.per_class * spec.unknown_per_class_factor))
        for index in range(count):
            rng = np.random.default_rng([spec.seed, split_index, label, index])
            rate = RATES[int(rng.integers(len(RATES)))]
            target = None
            if cls in KEYWORDS:
                target = (_pick_voice(rng, voices, spec.festival_share), cls, rate)
            elif cls == "unknown":
                if rng.random() < 0.5:
                    text = UNKNOWN_WORDS[int(rng.integers(len(UNKNOWN_WORDS)))]
                else:
                    text = _phrase(rng, words, probabilities, 1, 4)
                target = (_pick_voice(rng, voices, spec.festival_share), text, rate)
            before = after = None
            if cls != "silence" and rng.random() < spec.context_share:
                before = bank_phrases[int(rng.integers(len(bank_phrases)))]
            if cls != "silence" and rng.random() < spec.after_share:
                after = bank_phrases[int(rng.integers(len(bank_phrases)))]
            plan.append(_Window(label, target, before, after, int(rng.integers(1 << 62))))
    return plan


def _bank_phrases(spec: WindowSpec, split: str, voices, count: int) -> list[tuple]:
    words, probabilities = running_vocabulary()
    rng = np.random.default_rng([spec.seed, SPLITS.index(split), 1 << 20])
    return [(_pick_voice(rng, voices, spec.festival_share), _phrase(rng, words, probabilities),
             RATES[int(rng.integers(len(RATES)))]) for _ in range(count)]


def _render_window(spec: WindowSpec, window: _Window, bank: SpeechBank, babble: list[np.ndarray]):
    """-> (int16 PCM of warm-up + window, mask [steps] uint8)."""
    rng = np.random.default_rng(window.seed)
    step = spec.frontend.step_samples
    warmup, length = round(spec.warmup_seconds * RATE), round(spec.window_seconds * RATE)
    total = warmup + length
    speech = np.zeros(total)
    mask = np.zeros(spec.steps, np.uint8)
    target_rms = None
    if window.target is not None:
        tail = round(spec.mask_after_seconds * RATE)
        earliest = warmup + round(0.2 * RATE)
        word = _augment_utterance(bank[window.target], rng)[:total - earliest]
        latest = max(earliest, total - tail - len(word))
        start = int(rng.integers(earliest, latest + 1))
        speech[start:start + len(word)] += word / max(A.rms(word), 1e-9)
        target_rms = 1.0
        first, last = (start - warmup) // step, min(spec.steps, -(-(start + len(word) + tail - warmup) // step))
        mask[first:last] = 1
        end = start + len(word)
        for job, side in ((window.before, "before"), (window.after, "after")):
            if job is None:
                continue
            other = _augment_utterance(bank[job], rng)
            other = other / max(A.rms(other), 1e-9) * 10.0 ** (rng.uniform(-10.0, 6.0) / 20.0)
            gap = int(rng.uniform(0.05, 0.5) * RATE) if side == "before" else int(rng.uniform(0.1, 0.6) * RATE)
            at = start - gap - len(other) if side == "before" else end + gap
            lo, hi = max(at, 0), min(at + len(other), total)
            if hi > lo:
                speech[lo:hi] += other[lo - at:hi - at]
    else:
        first = int(rng.integers(0, spec.steps - 125))
        mask[first:first + 125] = 1
    speech = _channel(speech, rng)
    noise, kind = _noise(rng, total, babble)
    if target_rms is None or rng.random() < spec.quiet_share:
        level = 10.0 ** (rng.uniform(-95.0, -70.0) / 20.0) * 32768.0 if (target_rms is not None or rng.random() < 0.3) \
            else 10.0 ** (rng.uniform(-75.0, -30.0) / 20.0) * 32768.0
        noise_part = noise * level
        if target_rms is None:
            mix = noise_part
        else:
            mix = speech
            peak = max(np.abs(mix).max(), 1e-9)
            mix = mix * (32768.0 * 10.0 ** (rng.uniform(*spec.peak_dbfs) / 20.0) / peak) + noise_part
        return np.clip(np.round(mix), -32768, 32767).astype(np.int16), mask
    snr = rng.uniform(*spec.snr_db)
    mix = speech + noise * 10.0 ** (-snr / 20.0)
    mix = A.gain_and_clip(mix, rng, float(rng.uniform(*spec.peak_dbfs)), clip_probability=0.08)
    return np.clip(np.round(mix), -32768, 32767).astype(np.int16), mask


def keep_mask_tail(mask: np.ndarray, steps: int) -> np.ndarray:
    """Each row's mask cut to its last `steps` marked steps (the framewise loss's target: from
    ~0.1 s before a word's end to 0.3 s after it, where the word can be known)."""
    mask = np.asarray(mask).astype(bool)
    end = mask.shape[1] - np.argmax(mask[:, ::-1], axis=1)          # one past the last marked step
    t = np.arange(mask.shape[1])[None, :]
    return (mask & (t >= (end - steps)[:, None])).astype(np.uint8)


def framewise_window_set(path: Path, steps: int = 100) -> Path:
    """windows.npz -> windows-framewise.npz beside it, masks cut by keep_mask_tail (cached)."""
    out = Path(path).with_name(f"windows-framewise{steps}.npz")
    if not out.exists():
        data = dict(np.load(path, allow_pickle=False))
        data["mask"] = keep_mask_tail(data["mask"], steps)
        save_npz_atomically(out, **data)
    return out


def corpus_cache_dir() -> Path:
    from ...io.files import cache_dir

    return cache_dir() / "kws-corpus"


def make_window_set(split: str, spec: WindowSpec | None = None, *, workers: int = 2, progress=None,
                    force: bool = False, cache: Path | None = None) -> Path:
    """Generate (or reuse) a split's training windows -> path of an .npz with `inputs` uint8
    [N, T, bands], `labels` [N], `mask` uint8 [N, T], `classes`, `texts`, `voices`."""
    spec = spec or WindowSpec()
    digest = spec.digest(split)
    directory = (cache or corpus_cache_dir()) / f"windows-{split}-{digest[:16]}"
    path = directory / "windows.npz"
    if path.exists() and not force:
        return path
    started = time.time()
    voices = split_voices(split)
    if progress:
        progress(f"{split}: {len(voices)} voices; planning windows")
    phrases = _bank_phrases(spec, split, voices, spec.phrase_bank)
    plan = _plan_windows(spec, split, voices, phrases)
    bank = SpeechBank(workers, progress)
    jobs = set(phrases) | {w.target for w in plan if w.target is not None}
    if progress:
        progress(f"{split}: synthesizing {len(jobs)} utterances for {len(plan)} windows")
    bank.fill(jobs)
    babble = [bank[p] for p in phrases]
    if progress:
        progress(f"{split}: rendering and front end")
    pcm, masks = zip(*(_render_window(spec, w, bank, babble) for w in plan))
    pcm = np.stack(pcm)
    skip = round(spec.warmup_seconds * RATE) // spec.frontend.step_samples
    inputs = np.concatenate([FrontEnd(spec.frontend).process(pcm[i:i + 256])[:, skip:] for i in range(0, len(pcm), 256)])
    order = np.random.default_rng([spec.seed, SPLITS.index(split), 1 << 21]).permutation(len(plan))
    directory.mkdir(parents=True, exist_ok=True)
    save_npz_atomically(path, inputs=inputs[order].astype(np.uint8),
                        labels=np.array([w.label for w in plan], np.int64)[order],
                        mask=np.stack(masks)[order], classes=np.array(CLASSES),
                        texts=np.array([w.target[1] if w.target else "" for w in plan])[order],
                        voices=np.array([w.target[0].key if w.target else "" for w in plan])[order])
    write_if_changed(directory / "meta.json", json.dumps({
        "split": split, "windows": len(plan), "voices": [v.key for v in voices], "digest": digest,
        "spec": json.loads(json.dumps(dataclasses.asdict(spec))), "seconds": round(time.time() - started, 1),
        "synthesizers": synthesizer_versions({v.synth for v in voices})}, indent=1) + "\n")
    if progress:
        progress(f"{split}: {len(plan)} windows in {time.time() - started:.0f} s -> {path}")
    return path


# ---------------------------------------------------------------- labelled streams

@dataclass(frozen=True)
class StreamEvent:
    word: str
    start: int
    end: int
    keyword: bool

    def to_dict(self) -> dict:
        return {"word": self.word, "start": self.start, "end": self.end, "keyword": self.keyword}


@dataclass(frozen=True, eq=False)
class LabelledStream:
    pcm: np.ndarray
    events: tuple[StreamEvent, ...]
    info: dict

    def labels(self) -> dict:
        return {"sample_rate": RATE, "samples": int(len(self.pcm)), "info": self.info,
                "events": [e.to_dict() for e in self.events]}


def _compose_stream(items, rng, bank: SpeechBank, babble, snr_db, peak_dbfs, pauses=(0.3, 1.5),
                    lead=1.0, tail=1.5, augment=True):
    """items: [(job, is_keyword)] spoken in order with pauses; one channel, one noise."""
    pieces, events, position = [], [], int(lead * RATE)
    for job, is_keyword in items:
        x = bank[job]
        x = _augment_utterance(x, rng) if augment else np.asarray(x, np.float64)
        x = x / max(A.rms(x), 1e-9) * (1.0 if is_keyword else 10.0 ** (rng.uniform(-6.0, 3.0) / 20.0))
        pieces.append((position, x))
        events.append(StreamEvent(job[1], position, position + len(x), is_keyword))
        position += len(x) + int(rng.uniform(*pauses) * RATE)
    total = position + int(tail * RATE)
    speech = np.zeros(total)
    for at, x in pieces:
        speech[at:at + len(x)] += x
    speech = _channel(speech, rng)
    noise, kind = _noise(rng, total, babble)
    snr = float(rng.uniform(*snr_db))
    mix = speech + noise * 10.0 ** (-snr / 20.0)
    peak = float(rng.uniform(*peak_dbfs))
    mix = A.gain_and_clip(mix, rng, peak, clip_probability=0.05)
    pcm = np.clip(np.round(mix), -32768, 32767).astype(np.int16)
    return pcm, tuple(events), {"noise": kind, "snr_db": round(snr, 1), "peak_dbfs": round(peak, 1)}


def make_streams(split: str, count: int, *, keywords_per_stream: int = 8, seed: int = 0, workers: int = 2,
                 progress=None, snr_db=(5.0, 30.0), peak_dbfs=(-30.0, -3.0), voices=None,
                 independent_test: bool = False) -> list[LabelledStream]:
    """`count` streams of one talker each (a voice of `split`): keywords in random order,
    each preceded by running speech or an unknown word half of the time, with pauses."""
    voices = voices or split_voices(split)
    words, probabilities = running_vocabulary()
    plans = []
    for index in range(count):
        rng = np.random.default_rng([seed, SPLITS.index(split) if split in SPLITS else 9, index, 77])
        voice = voices[int(rng.integers(len(voices)))]
        items = []
        for k in range(keywords_per_stream):
            if rng.random() < 0.6:
                filler = _phrase(rng, words, probabilities) if rng.random() < 0.7 else \
                    UNKNOWN_WORDS[int(rng.integers(len(UNKNOWN_WORDS)))]
                items.append(((voice, filler, RATES[int(rng.integers(len(RATES)))]), False))
            items.append(((voice, KEYWORDS[int(rng.integers(len(KEYWORDS)))],
                           RATES[int(rng.integers(len(RATES)))]), True))
        plans.append((voice, items, int(rng.integers(1 << 62))))
    rng = np.random.default_rng([seed, 4242])
    babble_jobs = [(voices[int(rng.integers(len(voices)))], _phrase(rng, words, probabilities),
                    RATES[int(rng.integers(len(RATES)))]) for _ in range(48)]
    bank = SpeechBank(workers, progress, independent_test)
    bank.fill({job for _, items, _ in plans for job, _ in items} | set(babble_jobs))
    babble = [bank[j] for j in babble_jobs]
    streams = []
    for voice, items, stream_seed in plans:
        rng = np.random.default_rng(stream_seed)
        pcm, events, info = _compose_stream(items, rng, bank, babble, snr_db, peak_dbfs)
        streams.append(LabelledStream(pcm, events, {"voice": voice.key, **info}))
    return streams


def make_negative_stream(seconds: float, split: str = "test", *, seed: int = 0, workers: int = 2, progress=None,
                         voices=None, snr_db=(5.0, 30.0)) -> LabelledStream:
    """Running speech without any keyword token for `seconds` (talkers change every ~minute),
    over noise; its labels list the phrases (none is a keyword)."""
    voices = voices or split_voices(split)
    words, probabilities = running_vocabulary()
    rng = np.random.default_rng([seed, 31337])
    segments = []
    elapsed = 0.0
    while elapsed < seconds:
        voice = voices[int(rng.integers(len(voices)))]
        items = [((voice, _phrase(rng, words, probabilities, 3, 12), RATES[int(rng.integers(len(RATES)))]), False)
                 for _ in range(24)]
        segments.append((items, int(rng.integers(1 << 62))))
        elapsed += 24 * 3.2
    babble_jobs = [(voices[int(rng.integers(len(voices)))], _phrase(rng, words, probabilities),
                    RATES[int(rng.integers(len(RATES)))]) for _ in range(48)]
    bank = SpeechBank(workers, progress)
    bank.fill({job for items, _ in segments for job, _ in items} | set(babble_jobs))
    babble = [bank[j] for j in babble_jobs]
    pcm_parts, events, offset = [], [], 0
    for items, segment_seed in segments:
        pcm, segment_events, _ = _compose_stream(items, np.random.default_rng(segment_seed), bank, babble, snr_db,
                                                 (-30.0, -3.0), lead=0.5, tail=0.5)
        pcm_parts.append(pcm)
        events += [dataclasses.replace(e, start=e.start + offset, end=e.end + offset) for e in segment_events]
        offset += len(pcm)
    pcm = np.concatenate(pcm_parts)[:int(seconds * RATE)]
    events = [e for e in events if e.end <= len(pcm)]
    return LabelledStream(pcm, tuple(events), {"voices": sorted({v.key for v in voices}), "seconds": len(pcm) / RATE})


def write_streams(streams: list[LabelledStream], directory: str | Path, prefix: str = "stream") -> Path:
    """WAV files plus one labels.json {file name: labels} (what `silifc kws-eval` reads)."""
    from .wav import write_wav

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    labels = {}
    for index, stream in enumerate(streams):
        name = f"{prefix}{index:03d}.wav"
        write_wav(directory / name, stream.pcm)
        labels[name] = stream.labels()
    (directory / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    return directory / "labels.json"

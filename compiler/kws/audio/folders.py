"""Labelled WAV folders as training data, through the same integer front end as the device:
the Google Speech Commands layout (v1 and v2) and a plain folder-per-label layout.

* **Speech Commands** (a folder with `validation_list.txt`, `testing_list.txt` and/or
  `_background_noise_/`): one folder per word; the lists name the validation and test files
  (`word/file.wav`), training is every other file. `task="12"` (default) is the standard
  12-class task the paper reports: `yes no up down left right on off stop go`, `unknown`
  (every other word; a seeded subsample of `unknown_share` x the keyword clips of the split)
  and `silence` (seeded 1-second crops of `_background_noise_/*.wav`, `silence_share` x the
  keyword clips; the test split's crops come from other seeds). `task="all"`: one class per
  word folder (35 in v2, 30 in v1), no silence.
* **Folder per label** (any other folder): `root/<label>/*.wav`, classes in sorted order;
  every file is one sample (split with `--val-split`, or pass another folder as `--val`).

Each clip: 16-bit PCM of any rate and channel count (mixed down, resampled to 16 kHz with
silifc.kws.audio.speech.resample), cut or zero-padded to `clip_seconds`. Before the front end a
warm-up of the clip's first 256 ms, time-reversed (so it joins the clip without a click),
lets the noise floor settle; those steps are dropped (docs/audio.md). Counts are cached per
file by the sha256 of the file's bytes and the front-end digest, so a second run (or another
split, or another task) reads them back; the first run shows a progress bar.
"""
from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import InputDataError
from ...io.files import save_npy_atomically
from .frontend import FrontEnd, FrontEndConfig, design
from .speech import resample
from .wav import AudioFormatError, parse_wav

KEYWORDS12 = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
CLASSES12 = (*KEYWORDS12, "unknown", "silence")
SPLIT_FILES = {"validation": "validation_list.txt", "testing": "testing_list.txt"}
SPLITS = ("training", "validation", "testing", "all")
BACKGROUND = "_background_noise_"
WARMUP_SECONDS = 0.256


def is_speech_commands(root: Path) -> bool:
    root = Path(root)
    return any((root / name).exists() for name in (*SPLIT_FILES.values(), BACKGROUND))


def _wav_mono_16k(data: bytes, source: str, rate: int) -> np.ndarray:
    wav = parse_wav(data, source)
    if wav.bits != 16 or wav.samples.dtype != np.int16:
        raise AudioFormatError(f"{source}: {wav.bits}-bit samples; this loader reads 16-bit PCM WAV "
                               "(convert with: sox IN.wav -b 16 OUT.wav)")
    x = wav.samples.astype(np.float64).mean(axis=1)
    if wav.sample_rate != rate:
        x = resample(x, wav.sample_rate, rate)
    return x


def _clip(x: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros(length)
    out[:min(length, len(x))] = x[:length]
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


class _Progress:
    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.stream = label, total, stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.time()
        self.reported = -1

    def update(self, done: int):
        if self.tty:
            filled = int(24 * done / max(self.total, 1))
            self.stream.write(f"\r{self.label} |{'#' * filled}{'.' * (24 - filled)}| {done}/{self.total} "
                              f"({time.time() - self.started:.0f} s)")
            if done == self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif done * 10 // max(self.total, 1) > self.reported or done == self.total:
            self.reported = done * 10 // max(self.total, 1)
            self.stream.write(f"{self.label}: {done}/{self.total} clips ({time.time() - self.started:.0f} s)\n")
            self.stream.flush()


@dataclass(frozen=True)
class _Item:
    label: int
    path: Path | None            # None: a silence crop
    crop: tuple | None = None    # (noise file, start sample) for silence


class CountsCache:
    """Front-end counts per clip, keyed by the file's sha256 + the front end + the clip rules."""

    def __init__(self, frontend: FrontEndConfig, clip_seconds: float, directory: Path | None = None):
        from ...io.files import cache_dir

        key = f"{design(frontend).digest()}|{clip_seconds}|{WARMUP_SECONDS}|v1"
        self.tag = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.directory = Path(directory or cache_dir() / "audio-counts") / self.tag
        self.computed = 0          # clips that went through the front end (tests)

    def path(self, digest: str) -> Path:
        return self.directory / digest[:2] / f"{digest}.npy"


def _counts(items, root: Path, frontend: FrontEndConfig, clip_seconds: float, cache: CountsCache,
            progress: bool, label: str) -> np.ndarray:
    rate = frontend.sample_rate
    length = round(clip_seconds * rate)
    warm = round(WARMUP_SECONDS * rate)
    skip = warm // frontend.step_samples
    steps = length // frontend.step_samples
    out = np.zeros((len(items), steps, frontend.bands), np.uint8)
    pending, keys = [], []
    noise_cache: dict[Path, np.ndarray] = {}
    noise_digest: dict[Path, str] = {}
    bar = _Progress(label, len(items)) if progress else None
    done = 0
    for index, item in enumerate(items):
        if item.path is not None:
            data = item.path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
        else:
            noise_path, start = item.crop
            if noise_path not in noise_digest:
                noise_digest[noise_path] = hashlib.sha256(noise_path.read_bytes()).hexdigest()
            digest = hashlib.sha256(f"{noise_digest[noise_path]}|{start}".encode()).hexdigest()
        path = cache.path(digest)
        if path.exists():
            out[index] = np.load(path)
            done += 1
            continue
        if item.path is not None:
            x = _wav_mono_16k(data, str(item.path.relative_to(root)), rate)
        else:
            noise_path, start = item.crop
            if noise_path not in noise_cache:
                noise_cache[noise_path] = _wav_mono_16k(noise_path.read_bytes(), str(noise_path), rate)
            x = noise_cache[noise_path][start:start + length]
        clip = _clip(x, length)
        pending.append(np.concatenate([clip[:warm][::-1], clip]))
        keys.append((index, path))
        if len(pending) == 128:
            done += _flush(pending, keys, out, frontend, skip, cache)
            pending, keys = [], []
        if bar:
            bar.update(done + len(pending))
    if pending:
        done += _flush(pending, keys, out, frontend, skip, cache)
    if bar:
        bar.update(len(items))
    return out


def _flush(pending, keys, out, frontend, skip, cache) -> int:
    counts = FrontEnd(frontend).process(np.stack(pending))[:, skip:]
    for (index, path), row in zip(keys, counts):
        path.parent.mkdir(parents=True, exist_ok=True)
        save_npy_atomically(path, row.astype(np.uint8))
        out[index] = row
    cache.computed += len(pending)
    return len(pending)


# ---------------------------------------------------------------- listing

def _read_list(root: Path, name: str) -> set[str]:
    path = root / name
    if not path.is_file():
        return set()
    return {line.strip().replace("\\", "/") for line in path.read_text().splitlines() if line.strip()}


def _word_folders(root: Path) -> list[str]:
    return sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))


def _split_of(relative: str, validation: set, testing: set) -> str:
    return "validation" if relative in validation else "testing" if relative in testing else "training"


@dataclass(frozen=True, eq=False)
class AudioFolder:
    counts: np.ndarray           # [N, T, bands] uint8
    labels: np.ndarray           # [N] int64
    classes: tuple[str, ...]
    files: tuple[str, ...]       # relative paths; silence crops as "_background_noise_/x.wav@start"
    layout: str                  # "speech-commands" or "folders"
    split: str


def load_audio_folder(root, split: str = "training", task: str = "12", frontend: FrontEndConfig | None = None,
                      clip_seconds: float = 1.0, unknown_share: float = 0.1, silence_share: float = 0.1,
                      seed: int = 0, progress: bool = True, cache_directory=None) -> AudioFolder:
    """Labelled clips of a Speech Commands or folder-per-label tree -> front-end counts."""
    root = Path(root)
    if not root.is_dir():
        raise InputDataError(f"{root}: not a folder")
    if split not in SPLITS:
        raise InputDataError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if task not in ("12", "all"):
        raise InputDataError(f"task must be '12' (Speech Commands 12 classes) or 'all' (one class per folder)")
    frontend = frontend or FrontEndConfig()
    cache = CountsCache(frontend, clip_seconds, cache_directory)
    words = _word_folders(root)
    if not words:
        raise InputDataError(f"{root}: no label folders (expected <root>/<label>/*.wav)")
    speech_commands = is_speech_commands(root)
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    items: list[_Item] = []
    if speech_commands:
        validation, testing = _read_list(root, SPLIT_FILES["validation"]), _read_list(root, SPLIT_FILES["testing"])
        if task == "12":
            classes = CLASSES12
            missing = [w for w in KEYWORDS12 if w not in words]
            if missing:
                raise InputDataError(f"{root}: Speech Commands layout without the keyword folders {missing}; "
                                     "use task 'all' for another word set")
        else:
            classes = tuple(words)
        keyword_items, unknown_items = [], []
        for word in words:
            for wav in sorted((root / word).glob("*.wav")):
                relative = f"{word}/{wav.name}"
                if split != "all" and _split_of(relative, validation, testing) != split:
                    continue
                if task == "all":
                    keyword_items.append(_Item(classes.index(word), wav))
                elif word in KEYWORDS12:
                    keyword_items.append(_Item(classes.index(word), wav))
                else:
                    unknown_items.append(_Item(classes.index("unknown"), wav))
        items = list(keyword_items)
        if task == "12":
            n_unknown = min(len(unknown_items), int(round(unknown_share * len(keyword_items))))
            chosen = np.sort(rng.permutation(len(unknown_items))[:n_unknown])
            items += [unknown_items[i] for i in chosen]
            noises = sorted((root / BACKGROUND).glob("*.wav")) if (root / BACKGROUND).is_dir() else []
            n_silence = int(round(silence_share * len(keyword_items)))
            if n_silence and not noises:
                raise InputDataError(f"{root}: no {BACKGROUND}/*.wav for the silence class; add the noise "
                                     "files or use silence_share=0")
            lengths = {n: len(_wav_mono_16k(n.read_bytes(), str(n), frontend.sample_rate)) for n in noises}
            length = round(clip_seconds * frontend.sample_rate)
            for _ in range(n_silence):
                noise = noises[int(rng.integers(len(noises)))]
                start = int(rng.integers(0, max(lengths[noise] - length, 0) + 1))
                items.append(_Item(classes.index("silence"), None, (noise, start)))
        layout = "speech-commands"
    else:
        classes = tuple(words)
        for word in words:
            items += [_Item(classes.index(word), wav) for wav in sorted((root / word).glob("*.wav"))]
        layout = "folders"
    if not items:
        raise InputDataError(f"{root}: no WAV files in the {split} split")
    counts = _counts(items, root, frontend, clip_seconds, cache, progress, f"front end, {root.name} {split}")
    files = tuple(str(i.path.relative_to(root)) if i.path is not None else
                  f"{i.crop[0].relative_to(root)}@{i.crop[1]}" for i in items)
    return AudioFolder(counts=counts, labels=np.array([i.label for i in items], np.int64), classes=classes,
                       files=files, layout=layout, split=split)

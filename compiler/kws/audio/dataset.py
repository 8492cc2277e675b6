"""A keyword-spotting data set made here: espeak-ng speech -> noise -> integer front end.

Classes: 10 keywords (yes no up down left right on off stop go), `unknown` (25 other
words) and `silence` (background noise only), as in the 12-class Speech Commands task.
Voices are eSpeak accents x voice variants; whole variants are held out: the `val` and
`test` splits use variants that `train` never hears (in every accent).

Per clip (seeded by (seed, split, class, index), so a clip does not depend on the others):
1. word, voice, speed (wpm) and pitch drawn at random; espeak-ng speaks the word; the
   result is resampled to 16 kHz and trimmed to its loud part;
2. scaled to a random peak level and placed at a random time inside the 1-second clip;
3. background noise over warm-up + clip: white, pink, babble (other words from the same
   split's voices) or very quiet white, at a random SNR (silence: at a random absolute level);
4. the front end (silifc.kws.audio.frontend) runs over warm-up + clip; the warm-up steps are
   dropped, so the noise floor has settled as it would have on a device listening all along.

Output (cache directory named by a hash of every setting, the espeak-ng version and the
generator version): train.npz, val.npz, test.npz with `inputs` uint8 [N, T, bands],
`labels` int64 [N], `classes`, `words`, `voices`, `frontend_config` (JSON) — the format
silifc.io.inputs.load_input reads — plus meta.json; optionally `<split>_audio.npz` with the
exact int16 PCM the front end saw (warm-up included).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import ConfigError, SilifcError
from ...progress import bar
from .frontend import ALGORITHM_VERSION, FrontEnd, FrontEndConfig, design
from .speech import ENGLISH_ACCENTS, check_voices, espeak_version, synthesize, trim_silence
from .wav import write_wav

GENERATOR_VERSION = 1
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                 "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "backward", "forward", "follow", "learn", "visual")
UNKNOWN, SILENCE = "unknown", "silence"
SPLITS = ("train", "val", "test")
# eSpeak voice variants (espeak-ng-data/voices/!v). Robotic and whispering presets are left out.
TRAIN_VARIANTS = ("m1", "m2", "m3", "m5", "m6", "m7", "f1", "f2", "f4", "klatt", "klatt2", "klatt4",
                  "croak", "adam", "Alex", "Andy", "anika", "belinda", "benjamin", "david", "edward",
                  "grandma", "iven", "john", "max", "paul", "quincy", "steph", "travis", "zac")
VAL_VARIANTS = ("m8", "f5", "klatt5", "Annie", "ed")
TEST_VARIANTS = ("m4", "f3", "klatt3", "linda", "norbert", "grandpa", "Alicia", "victor")
NOISE_KINDS = ("white", "pink", "babble", "quiet")


@dataclass(frozen=True)
class KwsSpec:
    """Everything that determines the data set (hashed into the cache key)."""

    keywords: tuple[str, ...] = KEYWORDS
    unknown_words: tuple[str, ...] = UNKNOWN_WORDS
    accents: tuple[str, ...] = ENGLISH_ACCENTS
    train_variants: tuple[str, ...] = TRAIN_VARIANTS
    val_variants: tuple[str, ...] = VAL_VARIANTS
    test_variants: tuple[str, ...] = TEST_VARIANTS
    clips_per_class: tuple[int, int, int] = (256, 32, 48)      # train, val, test
    clip_seconds: float = 1.0
    warmup_seconds: float = 0.256
    speed_wpm: tuple[int, int] = (130, 230)
    pitch: tuple[int, int] = (25, 75)                           # espeak-ng -p (0..99)
    peak_dbfs: tuple[float, float] = (-36.0, -3.0)
    snr_db: tuple[float, float] = (5.0, 35.0)
    silence_dbfs: tuple[float, float] = (-75.0, -30.0)          # noise RMS of `silence` clips
    quiet_dbfs: tuple[float, float] = (-95.0, -75.0)            # noise RMS of the `quiet` kind
    noise_kinds: tuple[str, ...] = NOISE_KINDS
    babble_bank: int = 64                                       # utterances per split for babble
    seed: int = 0
    frontend: FrontEndConfig = field(default_factory=FrontEndConfig)

    def __post_init__(self):
        def bad(message):
            raise ConfigError(f"keyword data set: {message}")

        if not self.keywords or len(set(self.keywords)) != len(self.keywords):
            bad("keywords must be distinct and not empty")
        if set(self.keywords) & set(self.unknown_words) or not self.unknown_words:
            bad("unknown_words must be non-empty and disjoint from the keywords")
        splits = (self.train_variants, self.val_variants, self.test_variants)
        if any(not v for v in splits):
            bad("every split needs at least one voice variant")
        if len(set().union(*map(set, splits))) != sum(len(set(v)) for v in splits):
            bad("a voice variant may belong to one split only (voices are held out)")
        if len(self.clips_per_class) != 3 or any(n < 0 for n in self.clips_per_class) or self.clips_per_class[0] < 1:
            bad(f"clips_per_class is (train, val, test), train >= 1; got {self.clips_per_class}")
        step = self.frontend.step_samples
        for name in ("clip_seconds", "warmup_seconds"):
            samples = getattr(self, name) * self.frontend.sample_rate
            if samples != round(samples) or round(samples) % step or samples < (step if name == "clip_seconds" else 0):
                bad(f"{name} must be a whole number of front-end steps ({step} samples)")
        unknown = set(self.noise_kinds) - set(NOISE_KINDS)
        if not self.noise_kinds or unknown:
            bad(f"noise_kinds must be taken from {', '.join(NOISE_KINDS)}")
        for name in ("speed_wpm", "pitch", "peak_dbfs", "snr_db", "silence_dbfs", "quiet_dbfs"):
            low, high = getattr(self, name)
            if low > high:
                bad(f"{name} range ({low}, {high}) is reversed")

    @property
    def classes(self) -> tuple[str, ...]:
        return (*self.keywords, UNKNOWN, SILENCE)

    def variants(self, split: str) -> tuple[str, ...]:
        return {"train": self.train_variants, "val": self.val_variants, "test": self.test_variants}[split]

    def voices(self, split: str) -> list[str]:
        return [f"{accent}+{variant}" for variant in self.variants(split) for accent in self.accents]

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def digest(self) -> str:
        key = {"spec": self.to_dict(), "generator": GENERATOR_VERSION, "frontend": ALGORITHM_VERSION,
               "espeak-ng": espeak_version()}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class KwsDataset:
    directory: Path
    spec: KwsSpec
    meta: dict

    @property
    def classes(self) -> tuple[str, ...]:
        return self.spec.classes

    def path(self, split: str) -> Path:
        return self.directory / f"{split}.npz"

    def load(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(inputs uint8 [N, T, bands], labels int64 [N]) of a split."""
        with np.load(self.path(split), allow_pickle=False) as data:
            return data["inputs"], data["labels"]


# ---------------------------------------------------------------- noise

def white_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """1/f power spectrum (FFT-shaped white noise), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    return x / max(np.sqrt(np.mean(x ** 2)), 1e-12)


def babble_noise(rng: np.random.Generator, n: int, bank: list[np.ndarray], talkers: int = 3) -> np.ndarray:
    """`talkers` streams of back-to-back words from `bank`, summed, unit RMS."""
    out = np.zeros(n)
    for _ in range(talkers):
        position = -int(rng.integers(0, 8000))
        while position < n:
            word = bank[int(rng.integers(len(bank)))].astype(np.float64)
            word = word / max(np.sqrt(np.mean(word ** 2)), 1e-9)
            start, end = max(position, 0), min(position + len(word), n)
            if end > start:
                out[start:end] += word[start - position:end - position]
            position += len(word) + int(rng.integers(400, 3200))
    return out / max(np.sqrt(np.mean(out ** 2)), 1e-12)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


# ---------------------------------------------------------------- generation

@dataclass(frozen=True)
class _Clip:
    label: int
    word: str                 # "" for silence
    voice: str
    speed: int
    pitch: int
    peak_dbfs: float
    start_fraction: float     # where the word starts within the room the clip leaves
    noise: str
    level_db: float           # SNR (words) or noise RMS in dBFS (silence, quiet)
    noise_seed: int


def _plan(spec: KwsSpec, split: int) -> list[_Clip]:
    name = SPLITS[split]
    voices = spec.voices(name)
    count = spec.clips_per_class[split]
    clips = []
    for label, cls in enumerate(spec.classes):
        for index in range(count):
            rng = np.random.default_rng([spec.seed, split, label, index])
            noise = spec.noise_kinds[int(rng.integers(len(spec.noise_kinds)))]
            if cls == SILENCE:
                word, voice, speed, pitch, peak = "", "", 0, 0, 0.0
                if noise == "quiet":
                    level = float(rng.uniform(*spec.quiet_dbfs))
                else:
                    level = float(rng.uniform(*spec.silence_dbfs))
            else:
                word = cls if cls != UNKNOWN else spec.unknown_words[int(rng.integers(len(spec.unknown_words)))]
                voice = voices[int(rng.integers(len(voices)))]
                speed = int(rng.integers(spec.speed_wpm[0], spec.speed_wpm[1] + 1))
                pitch = int(rng.integers(spec.pitch[0], spec.pitch[1] + 1))
                peak = float(rng.uniform(*spec.peak_dbfs))
                level = float(rng.uniform(*(spec.quiet_dbfs if noise == "quiet" else spec.snr_db)))
            clips.append(_Clip(label, word, voice, speed, pitch, peak, float(rng.random()), noise, level,
                               int(rng.integers(1 << 62))))
    return clips


def _synthesize_all(jobs: set, workers: int) -> dict:
    ordered = sorted(jobs)
    shown = bar(len(ordered), "synthesizing", "clip")        # a bar on a terminal: ~10 clips/s per worker
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, shown:
        results = []
        for audio in pool.map(lambda job: trim_silence(synthesize(job[0], voice=job[1], speed=job[2], pitch=job[3])),
                              ordered):
            results.append(audio)
            shown.update(1)
        return dict(zip(ordered, results))


def _babble_bank(spec: KwsSpec, split: int, workers: int) -> list[np.ndarray]:
    rng = np.random.default_rng([spec.seed, split, 1 << 20])
    voices = spec.voices(SPLITS[split])
    jobs = [(spec.unknown_words[int(rng.integers(len(spec.unknown_words)))], voices[int(rng.integers(len(voices)))],
             int(rng.integers(spec.speed_wpm[0], spec.speed_wpm[1] + 1)),
             int(rng.integers(spec.pitch[0], spec.pitch[1] + 1))) for _ in range(spec.babble_bank)]
    audio = _synthesize_all(set(jobs), workers)
    return [audio[job] for job in jobs]


def _render(spec: KwsSpec, clip: _Clip, speech: np.ndarray | None, bank: list[np.ndarray]) -> np.ndarray:
    """int16 PCM of warm-up + clip."""
    rate = spec.frontend.sample_rate
    warmup = round(spec.warmup_seconds * rate)
    length = round(spec.clip_seconds * rate)
    total = warmup + length
    rng = np.random.default_rng(clip.noise_seed)
    signal = np.zeros(total)
    speech_rms = 0.0
    if speech is not None and len(speech):
        word = speech[:length].astype(np.float64)
        word *= 32768.0 * 10.0 ** (clip.peak_dbfs / 20.0) / max(np.abs(word).max(), 1.0)
        start = warmup + int(clip.start_fraction * (length - len(word)))
        signal[start:start + len(word)] = word
        speech_rms = _rms(word)
    if clip.noise == "white" or clip.noise == "quiet":
        noise = white_noise(rng, total)
    elif clip.noise == "pink":
        noise = pink_noise(rng, total)
    else:
        noise = babble_noise(rng, total, bank)
    if clip.noise == "quiet" or speech is None:
        noise_rms = 32768.0 * 10.0 ** (clip.level_db / 20.0)
    else:
        noise_rms = speech_rms / 10.0 ** (clip.level_db / 20.0)
    signal += noise / max(_rms(noise), 1e-12) * noise_rms
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)


def _generate_split(spec: KwsSpec, split: int, workers: int, keep_audio: bool, progress) -> dict:
    clips = _plan(spec, split)
    name = SPLITS[split]
    rate, step = spec.frontend.sample_rate, spec.frontend.step_samples
    if not clips:
        steps = round(spec.clip_seconds * rate) // step
        empty = {"inputs": np.zeros((0, steps, spec.frontend.bands), np.uint8), "labels": np.zeros(0, np.int64),
                 "words": np.zeros(0, str), "voices": np.zeros(0, str), "noise": np.zeros(0, str)}
        if keep_audio:
            empty["pcm"] = np.zeros((0, round((spec.warmup_seconds + spec.clip_seconds) * rate)), np.int16)
        return empty
    if progress:
        progress(f"{name}: synthesizing {len(clips)} clips")
    speech = _synthesize_all({(c.word, c.voice, c.speed, c.pitch) for c in clips if c.word}, workers)
    bank = _babble_bank(spec, split, workers) if "babble" in spec.noise_kinds else []
    pcm = np.stack([_render(spec, c, speech.get((c.word, c.voice, c.speed, c.pitch)) if c.word else None, bank)
                    for c in clips])
    if progress:
        progress(f"{name}: front end over {len(clips)} clips")
    skip = round(spec.warmup_seconds * rate) // step
    inputs = np.concatenate([FrontEnd(spec.frontend).process(pcm[i:i + 256])[:, skip:]
                             for i in range(0, len(pcm), 256)])
    order = np.random.default_rng([spec.seed, split, 1 << 21]).permutation(len(clips))
    result = {
        "inputs": inputs[order],
        "labels": np.array([c.label for c in clips], np.int64)[order],
        "words": np.array([c.word for c in clips], dtype=str)[order],
        "voices": np.array([c.voice for c in clips], dtype=str)[order],
        "noise": np.array([c.noise for c in clips], dtype=str)[order],
    }
    if keep_audio:
        result["pcm"] = pcm[order]
    return result


def make_kws_dataset(out_dir: str | Path | None = None, spec: KwsSpec | None = None, *,
                     cache_dir: str | Path | None = None, keep_audio: bool = False, force: bool = False,
                     workers: int = 2, progress=None) -> KwsDataset:
    """Generate (or reuse from the cache) the keyword data set; copy it to out_dir if given.

    The cache directory is <cache>/kws/<hash>, with <cache> = cache_dir, else $SILIFC_CACHE,
    else ~/.cache/silifc. keep_audio also stores the PCM (<split>_audio.npz, int16 [N, samples]).
    """
    spec = spec if spec is not None else KwsSpec()
    check_voices(v for split in SPLITS for v in spec.voices(split))
    if cache_dir is None:
        from ...io.files import cache_dir as default_cache_dir

        cache_dir = default_cache_dir()
    digest = spec.digest()
    directory = Path(cache_dir) / "kws" / digest[:16]
    audio_missing = keep_audio and not all((directory / f"{s}_audio.npz").exists() for s in SPLITS)
    if force or not (directory / "meta.json").exists() or audio_missing:
        _generate(spec, directory, digest, keep_audio, workers, progress)
    meta = json.loads((directory / "meta.json").read_text())
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in sorted(directory.iterdir()):
            shutil.copy2(path, out_dir / path.name)
        directory = out_dir
    return KwsDataset(directory=directory, spec=spec, meta=meta)


def _generate(spec: KwsSpec, directory: Path, digest: str, keep_audio: bool, workers: int, progress) -> None:
    started = time.perf_counter()
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=directory.name + ".tmp-", dir=directory.parent))
    try:
        classes = np.array(spec.classes, dtype=str)
        config_json = json.dumps(spec.frontend.to_dict(), sort_keys=True)
        counts = {}
        for split in range(len(SPLITS)):
            name = SPLITS[split]
            data = _generate_split(spec, split, workers, keep_audio, progress)
            pcm = data.pop("pcm", None)
            np.savez_compressed(tmp / f"{name}.npz", classes=classes, frontend_config=np.array(config_json),
                                frontend_digest=np.array(design(spec.frontend).digest()), **data)
            if pcm is not None:
                np.savez(tmp / f"{name}_audio.npz", pcm=pcm, labels=data["labels"],
                         warmup_samples=np.array(round(spec.warmup_seconds * spec.frontend.sample_rate)))
            counts[name] = {cls: int((data["labels"] == i).sum()) for i, cls in enumerate(spec.classes)}
            counts[name]["total"] = int(len(data["labels"]))
        meta = {
            "classes": list(spec.classes),
            "counts": counts,
            "voices": {name: spec.voices(name) for name in SPLITS},
            "steps": round(spec.clip_seconds * spec.frontend.sample_rate) // spec.frontend.step_samples,
            "bands": spec.frontend.bands,
            "spec": spec.to_dict(),
            "digest": digest,
            "frontend_digest": design(spec.frontend).digest(),
            "espeak_ng": espeak_version(),
            "generator_version": GENERATOR_VERSION,
            "numpy": np.__version__,
            "generation_seconds": round(time.perf_counter() - started, 1),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        _move_in(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _move_in(new: Path, directory: Path) -> None:
    """Put the folder `new` at `directory` by renames: an older folder there is moved aside first
    and removed after, so a process reading the data set never finds it half-removed. When another
    process puts its folder there in between (the same digest: the same data), that one is kept."""
    old = Path(tempfile.mkdtemp(prefix=directory.name + ".old-", dir=directory.parent))
    try:
        with contextlib.suppress(FileNotFoundError):
            os.replace(directory, old / directory.name)
        try:
            os.replace(new, directory)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def export_wavs(dataset: KwsDataset, split: str, out_dir: str | Path, limit: int | None = None) -> list[Path]:
    """Write the clips of a split (made with keep_audio=True) as WAV files <index>_<class>.wav
    (<index>_unknown_<word>.wav), without the warm-up."""
    audio = dataset.directory / f"{split}_audio.npz"
    if not audio.exists():
        raise ConfigError(f"{audio} does not exist: make the data set with keep_audio=True (--keep-audio)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with np.load(audio, allow_pickle=False) as data, np.load(dataset.path(split), allow_pickle=False) as info:
        warmup = int(data["warmup_samples"])
        pcm, labels, words = data["pcm"], info["labels"], info["words"]
        paths = []
        for i in range(len(pcm) if limit is None else min(limit, len(pcm))):
            cls, word = dataset.classes[labels[i]], str(words[i])
            name = f"{i:05d}_{cls}.wav" if word in (cls, "") else f"{i:05d}_{cls}_{word}.wav"
            paths.append(write_wav(out_dir / name, pcm[i, warmup:]))
    return paths


# ---------------------------------------------------------------- command line

def main(argv=None) -> int:
    """`python -m silifc.kws.audio.dataset`: make the keyword data set (wired into silifc later)."""
    parser = argparse.ArgumentParser(prog="python -m silifc.kws.audio.dataset", description=main.__doc__)
    parser.add_argument("--out", type=Path, help="also copy the files here")
    parser.add_argument("--clips-per-class", type=int, nargs=3, metavar=("TRAIN", "VAL", "TEST"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bands", type=int, help="front-end bands (default 32)")
    parser.add_argument("--keep-audio", action="store_true", help="also store the PCM (<split>_audio.npz)")
    parser.add_argument("--wavs", type=Path, help="with --keep-audio: write the test clips as WAV files here")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    changes = {"seed": args.seed}
    if args.clips_per_class:
        changes["clips_per_class"] = tuple(args.clips_per_class)
    try:
        if args.bands is not None:
            changes["frontend"] = FrontEndConfig(bands=args.bands)
        spec = KwsSpec(**changes)
        dataset = make_kws_dataset(args.out, spec, keep_audio=args.keep_audio or bool(args.wavs), force=args.force,
                                   workers=args.workers, progress=lambda text: print(text, file=sys.stderr))
        if args.wavs:
            export_wavs(dataset, "test", args.wavs)
    except SilifcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = dataset.meta
    print(f"{dataset.directory}: {len(meta['classes'])} classes, "
          + ", ".join(f"{s} {meta['counts'][s]['total']}" for s in SPLITS)
          + f" clips; inputs [N, {meta['steps']}, {meta['bands']}] uint8; generated in {meta['generation_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speech from espeak-ng (Debian package espeak-ng), resampled to 16 kHz.

espeak-ng writes 22050 Hz; `resample` converts with a windowed-sinc polyphase filter in
float64 (deterministic for given numpy), and `synthesize` returns int16 at 16 kHz.
Voices are "<accent>+<variant>": eSpeak's English accents crossed with its voice variants
(formant/pitch/breathiness presets). MBROLA voices are not in Debian main, so they are
not used.
"""
from __future__ import annotations

import functools
import math
import shutil
import subprocess

import numpy as np

from ...errors import SilifcError
from ...target.processes import run_child
from .wav import SAMPLE_RATE, parse_wav

ESPEAK = "espeak-ng"
ENGLISH_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                   "en-gb-x-rp", "en-029", "en-us-nyc")


class SpeechSynthesisError(SilifcError):
    """espeak-ng is missing, or failed on a word or voice."""


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def _espeak() -> str:
    path = shutil.which(ESPEAK)
    if path is None:
        raise SpeechSynthesisError("espeak-ng not found: install the Debian package espeak-ng "
                                   "(apt-get install --no-install-recommends espeak-ng) or run scripts/setup.sh")
    return path


@functools.lru_cache(maxsize=1)
def espeak_version() -> str:
    """e.g. 'eSpeak NG text-to-speech: 1.51  Data at: ...' reduced to '1.51'."""
    out = subprocess.run([_espeak(), "--version"], capture_output=True, text=True).stdout
    words = out.split()
    return words[words.index("text-to-speech:") + 1] if "text-to-speech:" in words else out.strip()


@functools.lru_cache(maxsize=1)
def installed_variants() -> frozenset[str]:
    """Voice variants espeak-ng can find (it silently falls back to the default for others)."""
    out = subprocess.run([_espeak(), "--voices=variant"], capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5 and parts[-1].startswith("!v/"):
            names.add(parts[-1][3:])
        elif len(parts) >= 4 and "!v/" in line:
            names.add(line.split("!v/")[1].split()[0])
    return frozenset(names)


def check_voices(voices) -> None:
    """Refuse voices whose accent or variant espeak-ng lacks (it would substitute silently)."""
    variants = installed_variants()
    for voice in voices:
        accent, _, variant = voice.partition("+")
        if accent not in ENGLISH_ACCENTS:
            raise SpeechSynthesisError(f"voice {voice!r}: accent {accent!r} is not one of {', '.join(ENGLISH_ACCENTS)}")
        if variant and variant not in variants:
            raise SpeechSynthesisError(f"voice {voice!r}: espeak-ng {espeak_version()} has no variant {variant!r}")


@functools.lru_cache(maxsize=8)
def _polyphase_kernel(up: int, down: int, half_taps: int) -> np.ndarray:
    """[up, 2 * half_taps] weights: phase p of output n = (n * down) // up + (p / up) samples."""
    cutoff = 0.5 * min(1.0, up / down) * 0.92        # of the input rate; 7.36 kHz for 22050 -> 16000
    taps = np.arange(-half_taps + 1, half_taps + 1, dtype=np.float64)
    phase = np.arange(up, dtype=np.float64)[:, None] / up
    x = taps[None, :] - phase                        # input sample offset from the output instant
    beta = 8.0                                       # Kaiser window, evaluated at fractional offsets
    w = np.i0(beta * np.sqrt(np.clip(1.0 - (x / half_taps) ** 2, 0.0, None))) / np.i0(beta)
    h = 2 * cutoff * np.sinc(2 * cutoff * x) * w
    return h / h.sum(axis=1, keepdims=True)


def resample(samples, from_rate: int, to_rate: int = SAMPLE_RATE, half_taps: int = 16) -> np.ndarray:
    """Band-limited resampling (float64 in, float64 out), deterministic."""
    x = np.asarray(samples, dtype=np.float64)
    if from_rate == to_rate:
        return x.copy()
    g = math.gcd(from_rate, to_rate)
    up, down = to_rate // g, from_rate // g
    kernel = _polyphase_kernel(up, down, half_taps)
    n_out = (len(x) * up) // down
    n = np.arange(n_out, dtype=np.int64)
    base = (n * down) // up
    phase = (n * down) % up
    index = base[:, None] + np.arange(-half_taps + 1, half_taps + 1)[None, :]
    padded = np.concatenate([np.zeros(half_taps), x, np.zeros(half_taps + 1)])
    return np.einsum("ij,ij->i", padded[index + half_taps], kernel[phase])


def synthesize(text: str, voice: str = "en-us", speed: int = 175, pitch: int = 50,
               sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Speak `text` with espeak-ng -> int16 [n] at `sample_rate`, as espeak-ng levels it
    (amplitude 100, peaks around -6 dBFS); leading/trailing silence included."""
    if not text or text.startswith("-") or any(c in text for c in "\n\r\0"):
        raise SpeechSynthesisError(f"cannot speak {text!r}")
    command = [_espeak(), "--stdout", "-v", voice, "-s", str(int(speed)), "-p", str(int(pitch)), "-a", "100", text]
    result = run_child(command)
    if result.returncode != 0 or not result.stdout:
        raise SpeechSynthesisError(f"espeak-ng failed for {text!r} with voice {voice!r}: "
                                   f"{result.stderr.decode(errors='replace').strip() or 'no audio'}")
    wav = parse_wav(result.stdout, f"espeak-ng output for {text!r}")
    mono = wav.samples[:, 0].astype(np.float64)
    out = resample(mono, wav.sample_rate, sample_rate)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def trim_silence(pcm, threshold_db: float = -40.0, pad: int = 160) -> np.ndarray:
    """Cut leading/trailing parts quieter than threshold_db below the peak (10 ms frames),
    keeping `pad` samples of margin."""
    x = np.asarray(pcm)
    if x.size == 0:
        return x
    frame = 160
    n = -(-len(x) // frame)
    padded = np.zeros(n * frame, dtype=np.float64)
    padded[:len(x)] = x
    rms = np.sqrt((padded.reshape(n, frame) ** 2).mean(axis=1))
    loud = np.nonzero(rms > rms.max() * 10.0 ** (threshold_db / 20.0))[0]
    if loud.size == 0:
        return x[:0]
    start = max(0, loud[0] * frame - pad)
    end = min(len(x), (loud[-1] + 1) * frame + pad)
    return x[start:end]

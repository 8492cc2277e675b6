"""Augmentations for synthesized speech (float64 numpy, deterministic for a given rng).

Each takes and returns float64 samples at 16 kHz:

* `change_speed` — resampling: tempo, pitch and formants move together (a faster, higher talker);
* `time_stretch` — WSOLA: tempo only (pitch and formants kept);
* `pitch_shift` — speed change, then WSOLA back to the original duration (to within a few
  samples): pitch and formants move, duration does not;
* `warp_vocal_tract` — VTLP (Jaitly & Hinton 2013): the STFT magnitude's frequency axis is
  warped by `alpha` (formants move, the harmonics' spacing mostly not), phase kept;
* `room` — convolution with a synthetic room impulse response (exponentially decaying
  noise for RT60, a direct path, early reflections), mixed at a direct-to-reverberant ratio;
* `band_limit` — telephone (300–3400 Hz, optional 8 kHz / mu-law round trip) or a random
  microphone tilt / low cut;
* `gain_and_clip` — peak level, then optional hard or soft clipping;
* noise makers: white, pink, brown, hum (mains harmonics), babble (several talkers of running
  non-keyword speech) and `add_noise` at an SNR.
"""
from __future__ import annotations

import numpy as np

from .speech import resample

RATE = 16000


def rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(x, np.float64))))) if len(x) else 0.0


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """factor > 1: faster and higher (fewer samples)."""
    if abs(factor - 1.0) < 1e-6:
        return np.asarray(x, np.float64).copy()
    # resample from a pretend rate of RATE*factor to RATE, on an integer grid of 10 Hz
    source = int(round(RATE * factor / 10.0)) * 10
    return resample(x, source, RATE)


def time_stretch(x: np.ndarray, factor: float, frame: int = 384, search: int = 96) -> np.ndarray:
    """WSOLA: output duration = input / factor; pitch unchanged."""
    x = np.asarray(x, np.float64)
    if abs(factor - 1.0) < 1e-6 or len(x) < 2 * frame:
        return x.copy()
    hop = frame // 2
    window = np.hanning(frame)
    n_out = int(len(x) / factor)
    out = np.zeros(n_out + frame)
    norm = np.zeros(n_out + frame)
    padded = np.concatenate([x, np.zeros(frame + 2 * search)])
    previous = 0
    for position in range(0, n_out, hop):
        target = int(position * factor)
        if position == 0:
            best = 0
        else:
            natural = padded[previous + hop:previous + hop + frame]       # what would follow the last frame
            lo, hi = max(0, target - search), min(len(x), target + search)
            if hi <= lo:
                break
            candidates = np.lib.stride_tricks.sliding_window_view(padded[lo:hi + frame], frame)[:hi - lo]
            best = lo + int(np.argmax(candidates @ natural))
        out[position:position + frame] += padded[best:best + frame] * window
        norm[position:position + frame] += window
        previous = best
    norm[norm < 1e-3] = 1.0
    return (out / norm)[:n_out]


def pitch_shift(x: np.ndarray, semitones: float) -> np.ndarray:
    factor = 2.0 ** (semitones / 12.0)
    shifted = change_speed(x, factor)
    return time_stretch(shifted, 1.0 / factor)[:len(x)] if len(shifted) else shifted


def _stft(x, frame=512, hop=128):
    window = np.hanning(frame)
    padded = np.concatenate([np.zeros(frame), x, np.zeros(frame)])
    count = 1 + (len(padded) - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop][:count] * window
    return np.fft.rfft(frames, axis=1), window, len(padded)


def _istft(spec, window, length, frame=512, hop=128):
    frames = np.fft.irfft(spec, n=frame, axis=1) * window
    out = np.zeros(length)
    norm = np.zeros(length)
    for i, f in enumerate(frames):
        out[i * hop:i * hop + frame] += f
        norm[i * hop:i * hop + frame] += window ** 2
    norm[norm < 1e-6] = 1.0
    return out / norm


def warp_vocal_tract(x: np.ndarray, alpha: float, cutoff_hz: float = 4800.0) -> np.ndarray:
    """Piecewise-linear VTLP: f -> alpha f below the cutoff, then linear to Nyquist."""
    x = np.asarray(x, np.float64)
    if abs(alpha - 1.0) < 1e-6 or len(x) == 0:
        return x.copy()
    spec, window, length = _stft(x)
    bins = spec.shape[1]
    f = np.linspace(0, RATE / 2, bins)
    nyquist = RATE / 2
    knee = cutoff_hz * min(alpha, 1.0) / alpha
    warped = np.where(f <= knee, alpha * f,
                      nyquist - (nyquist - alpha * knee) / (nyquist - knee) * (nyquist - f))
    # magnitude at output frequency g comes from input frequency warp^-1(g)
    source = np.interp(f, warped, f)
    magnitude = np.abs(spec)
    new_magnitude = np.stack([np.interp(source, f, row) for row in magnitude])
    phase = np.exp(1j * np.angle(spec))
    out = _istft(new_magnitude * phase, window, length)[512:512 + len(x)]
    return out * (rms(x) / max(rms(out), 1e-9))


def room_impulse_response(rng: np.random.Generator, rt60: float, drr_db: float) -> np.ndarray:
    length = int(min(rt60, 1.2) * RATE)
    t = np.arange(length) / RATE
    tail = rng.standard_normal(length) * 10.0 ** (-3.0 * t / rt60)   # -60 dB at rt60
    tail[:int(0.002 * RATE)] = 0.0                                     # the tail starts after the direct path
    for _ in range(int(rng.integers(3, 8))):                          # early reflections
        delay = int(rng.uniform(0.002, 0.03) * RATE)
        tail[delay] += rng.uniform(-1, 1) * 3.0
    tail /= max(np.sqrt(np.sum(tail ** 2)), 1e-9)
    h = tail * 10.0 ** (-drr_db / 20.0)
    h[0] += 1.0
    return h


def room(x: np.ndarray, rng: np.random.Generator, rt60=(0.15, 0.9), drr_db=(-3.0, 12.0)) -> np.ndarray:
    h = room_impulse_response(rng, float(rng.uniform(*rt60)), float(rng.uniform(*drr_db)))
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:len(x)]
    return wet * (rms(x) / max(rms(wet), 1e-9))


def _fft_filter(x: np.ndarray, gain_of_hz) -> np.ndarray:
    size = 1 << max(len(x) - 1, 1).bit_length()
    f = np.fft.rfftfreq(size, 1.0 / RATE)
    return np.fft.irfft(np.fft.rfft(x, size) * gain_of_hz(f), size)[:len(x)]


def band_limit(x: np.ndarray, rng: np.random.Generator, kind: str) -> np.ndarray:
    """kind: 'telephone' (300–3400 Hz, sometimes an 8 kHz mu-law round trip) or 'mic'
    (random low cut 50–300 Hz and a tilt of -6..+6 dB per octave above 1 kHz)."""
    x = np.asarray(x, np.float64)
    if kind == "telephone":
        low, high = rng.uniform(200, 400), rng.uniform(3000, 3600)
        y = _fft_filter(x, lambda f: 1.0 / np.sqrt(1 + (low / np.maximum(f, 1.0)) ** 8) / np.sqrt(1 + (f / high) ** 8))
        if rng.random() < 0.5:                                        # 8 kHz G.711-like round trip
            peak = max(np.abs(y).max(), 1.0)
            narrow = resample(y / peak, RATE, 8000)
            mu = 255.0
            coded = np.sign(narrow) * np.log1p(mu * np.minimum(np.abs(narrow), 1.0)) / np.log1p(mu)
            coded = np.round(coded * 127) / 127
            decoded = np.sign(coded) * ((1 + mu) ** np.abs(coded) - 1) / mu
            y = resample(decoded, 8000, RATE)[:len(x)] * peak
            y = np.concatenate([y, np.zeros(len(x) - len(y))])
        return y
    if kind == "mic":
        cut = rng.uniform(50, 300)
        tilt = rng.uniform(-6, 6)
        return _fft_filter(x, lambda f: (1.0 / np.sqrt(1 + (cut / np.maximum(f, 1.0)) ** 4))
                           * np.where(f > 1000, (np.maximum(f, 1.0) / 1000.0) ** (tilt / 6.02), 1.0))
    raise ValueError(f"band_limit kind must be 'telephone' or 'mic', got {kind!r}")


def gain_and_clip(x: np.ndarray, rng: np.random.Generator, peak_dbfs: float, clip_probability: float = 0.1,
                  ) -> np.ndarray:
    """Scale to a peak level; sometimes drive it 3–15 dB into hard or soft (tanh) clipping."""
    x = np.asarray(x, np.float64)
    peak = max(np.abs(x).max(), 1e-9)
    y = x * (32768.0 * 10.0 ** (peak_dbfs / 20.0) / peak)
    if rng.random() < clip_probability:                             # overdriven: the peak is 3-15 dB above the limit
        limit = np.abs(y).max() * 10.0 ** (-rng.uniform(3.0, 15.0) / 20.0)
        y = np.clip(y, -limit, limit) if rng.random() < 0.5 else limit * np.tanh(y / limit)
    return y


# ---------------------------------------------------------------- noise

def white(rng, n):
    return rng.standard_normal(n)


def _colored(rng, n, exponent):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / f ** (exponent / 2.0), n)
    return x / max(rms(x), 1e-12)


def pink(rng, n):
    return _colored(rng, n, 1.0)


def brown(rng, n):
    return _colored(rng, n, 2.0)


def hum(rng, n):
    f0 = 50.0 if rng.random() < 0.5 else 60.0
    t = np.arange(n) / RATE
    x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi)) for k in range(1, 8))
    x = x + 0.05 * rng.standard_normal(n)
    return x / max(rms(x), 1e-12)


def babble(rng, n, bank: list[np.ndarray], talkers: int) -> np.ndarray:
    """`talkers` streams of back-to-back utterances from `bank`, summed, unit RMS."""
    out = np.zeros(n)
    for _ in range(talkers):
        position = -int(rng.integers(0, RATE))
        gain = rng.uniform(0.5, 1.0)
        while position < n:
            piece = np.asarray(bank[int(rng.integers(len(bank)))], np.float64)
            piece = piece / max(rms(piece), 1e-9)
            start, end = max(position, 0), min(position + len(piece), n)
            if end > start:
                out[start:end] += gain * piece[start - position:end - position]
            position += len(piece) + int(rng.integers(800, 6400))
    return out / max(rms(out), 1e-12)


NOISES = ("white", "pink", "brown", "hum", "babble", "cafe")


def make_noise(rng, n: int, kind: str, bank: list[np.ndarray] | None = None) -> np.ndarray:
    if kind == "white":
        return white(rng, n)
    if kind == "pink":
        return pink(rng, n)
    if kind == "brown":
        return brown(rng, n)
    if kind == "hum":
        return hum(rng, n)
    if kind in ("babble", "cafe"):
        if not bank:
            return pink(rng, n)
        x = babble(rng, n, bank, int(rng.integers(3, 9)))
        if kind == "cafe":
            x = x + pink(rng, n) * rng.uniform(0.3, 1.0)
            x /= max(rms(x), 1e-12)
        return x
    raise ValueError(f"unknown noise {kind!r}; known: {', '.join(NOISES)}")

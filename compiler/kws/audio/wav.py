"""WAV files: 16 kHz mono 16-bit PCM, what the front end takes.

`read_wav` refuses anything else with a message saying how to convert; `parse_wav` is the
lenient reader underneath (any rate, channel count; also the streaming headers espeak-ng
writes to a pipe, whose sizes are placeholders).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import InputDataError

SAMPLE_RATE = 16000
_CONVERT_HINT = ("convert it with `sox IN.wav -r 16000 -c 1 -b 16 -e signed-integer OUT.wav` "
                 "or `ffmpeg -i IN -ar 16000 -ac 1 -c:a pcm_s16le OUT.wav`")
_FORMAT_PCM = 1
_FORMAT_EXTENSIBLE = 0xFFFE
_FORMAT_NAMES = {1: "integer PCM", 3: "32-bit float", 6: "A-law", 7: "mu-law", 0x55: "MP3", 0x11: "IMA ADPCM"}


class AudioFormatError(InputDataError):
    """An audio file is not 16 kHz mono 16-bit PCM WAV (or not a WAV file at all)."""


@dataclass(frozen=True, eq=False)
class WavData:
    sample_rate: int
    channels: int
    bits: int
    format_tag: int
    samples: np.ndarray       # int16 [n, channels] for 16-bit PCM, else raw bytes as uint8
    missing_bytes: int = 0    # audio bytes the data chunk declares but the file lacks (a truncated file)


# Data-chunk sizes that streaming writers put in a header they cannot seek back to (espeak-ng
# --stdout writes 0x7FFFF000; others 0xFFFFFFFF or 0): not a truncation.
_PLACEHOLDER_SIZE = 0x7FFF0000


def parse_wav(data: bytes, source: str = "WAV data") -> WavData:
    """Parse a RIFF/WAVE file. A data chunk whose size runs past the end (streaming writers)
    is taken up to the end of the file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFormatError(f"{source}: not a WAV file (no RIFF/WAVE header); {_CONVERT_HINT}")
    offset, fmt = 12, None
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = data[offset + 8:offset + 8 + size]
        if chunk == b"fmt ":
            if len(body) < 16:
                raise AudioFormatError(f"{source}: truncated fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == _FORMAT_EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[0]      # first two bytes of the sub-format GUID
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data":
            if fmt is None:
                raise AudioFormatError(f"{source}: data chunk before the fmt chunk")
            tag, channels, rate, bits = fmt
            if tag == _FORMAT_PCM and bits == 16 and channels >= 1:
                frame = 2 * channels
                usable = len(body) - len(body) % frame
                samples = np.frombuffer(body[:usable], dtype="<i2").astype(np.int16).reshape(-1, channels)
            else:
                samples = np.frombuffer(body, dtype=np.uint8)
            declared_real = 0 < size < _PLACEHOLDER_SIZE
            missing = size - len(body) if declared_real and size > len(body) else 0
            return WavData(rate, channels, bits, tag, samples, missing)
        offset += 8 + size + (size & 1)
    raise AudioFormatError(f"{source}: no {'data' if fmt else 'fmt'} chunk; is the file truncated?")


def read_wav(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Samples of a mono 16-bit PCM WAV file at `sample_rate` Hz -> int16 [n]."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AudioFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise AudioFormatError(f"{path}: cannot read ({exc.strerror})") from None
    wav = parse_wav(data, str(path))
    problems = []
    if wav.format_tag != _FORMAT_PCM:
        problems.append(_FORMAT_NAMES.get(wav.format_tag, f"format tag {wav.format_tag:#x}"))
    elif wav.bits != 16:
        problems.append(f"{wav.bits}-bit")
    if wav.channels != 1:
        problems.append(f"{wav.channels} channels")
    if wav.sample_rate != sample_rate:
        problems.append(f"{wav.sample_rate} Hz")
    if problems:
        raise AudioFormatError(f"{path}: {', '.join(problems)}; silifc needs {sample_rate} Hz mono 16-bit "
                               f"PCM: {_CONVERT_HINT}")
    if wav.missing_bytes:
        have = len(wav.samples)
        raise AudioFormatError(f"{path}: truncated: its header declares {have + wav.missing_bytes // 2:,} samples but "
                               f"the file holds {have:,} ({wav.missing_bytes // 2 / sample_rate:.2f} s missing); copy "
                               "or record the file again")
    if len(wav.samples) == 0:
        raise AudioFormatError(f"{path}: holds no audio samples (an empty data chunk)")
    return wav.samples[:, 0].copy()


def write_wav(path: str | Path, pcm, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write int16 samples [n] as a mono 16-bit PCM WAV file."""
    samples = np.asarray(pcm)
    if samples.ndim != 1:
        raise ValueError(f"write_wav takes mono samples [n], got shape {list(samples.shape)}")
    if samples.dtype != np.int16:
        if samples.dtype.kind not in "iu" or (samples.size and (samples.min() < -32768 or samples.max() > 32767)):
            raise ValueError(f"write_wav needs int16 samples, got {samples.dtype}")
        samples = samples.astype(np.int16)
    body = samples.astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, _FORMAT_PCM, 1, sample_rate, 2 * sample_rate, 2, 16)
    header += b"data" + struct.pack("<I", len(body))
    path = Path(path)
    path.write_bytes(header + body)
    return path

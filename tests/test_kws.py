"""Keyword spotting end to end with the bundled model (models/kws/): the streaming integer
reference (silifc.kws.stream) against the int_ref kernels, the detections on multi-keyword streams
of held-out voices, the streaming firmware in QEMU against the reference step for step
(front-end counts, per-step probabilities, detections), and the command line.
No training here: the model is the bundled one.
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from silifc.kws.audio.labelled_streams import StreamEvent
from silifc.kws.audio.wav import read_wav, write_wav
from silifc.kws.model import KWS_CLASSES, load_kws_model
from silifc.kws.firmware import PER_STEP_PHASES, build_audio_firmware, run_audio_firmware
from silifc.kws.detector import PROB_ONE
from silifc.kws.stream import StreamingNetwork, step_probabilities
from silifc.kws.score import score_detections

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "models" / "kws"
MODEL = BUNDLED / "kws_silif.pt"
WAV = BUNDLED / "stream.wav"
_missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "gcc") if shutil.which(tool) is None]
needs_firmware_tools = pytest.mark.skipif(bool(_missing), reason=f"not installed: {', '.join(_missing)}")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def spoken(wav: Path):
    data = json.loads(wav.with_suffix(".json").read_text())
    return tuple(StreamEvent(e["word"], e["start"], e["end"]) for e in data["events"])


@pytest.fixture(scope="module")
def model():
    return load_kws_model(MODEL)


@pytest.fixture(scope="module")
def reference(model):
    return model.listen(read_wav(WAV))


@pytest.fixture(scope="module")
def firmware_build(model):
    from silifc.codegen.boards import load_board

    return build_audio_firmware(model, load_board("nrf52840"))


# ---------------------------------------------------------------- the bundled files (unit)

@pytest.mark.unit
def test_bundled_model_and_stream(model):
    from silifc.kws.audio.dataset import KwsSpec

    assert MODEL.stat().st_size < 1_000_000 and WAV.stat().st_size < 300_000
    assert model.classes == KWS_CLASSES and model.keywords == 10
    assert model.frontend == KwsSpec().frontend                # the data set's front end
    assert Path(model.calibration) == BUNDLED / "calibration.npz"
    pcm = read_wav(WAV)
    assert 5 * 16000 <= len(pcm) <= 8 * 16000
    words = [e.word for e in spoken(WAV)]
    assert len(words) >= 4 and set(words) <= set(KWS_CLASSES[:10])


# ---------------------------------------------------------------- the reference

@pytest.mark.unit
def test_streaming_network_is_the_integer_reference(model):
    """Per-step softmax summed over a clip = int_ref.run_int's totals; chunking changes nothing."""
    from silifc.reference.int_ref import run_int

    clips = np.load(BUNDLED / "calibration.npz")["inputs"][:4].astype(np.int64)
    expected = run_int(model.quantized, clips).outputs
    for clip, totals in zip(clips, expected):
        assert np.array_equal(step_probabilities(model.quantized, clip).sum(axis=0), totals)
    stream = clips.reshape(-1, clips.shape[2])                # 4 clips back to back, no reset
    network = StreamingNetwork(model.quantized)
    pieces = [network.probabilities(stream[a:b]) for a, b in ((0, 1), (1, 300), (300, 301), (301, None))]
    assert np.array_equal(np.concatenate(pieces), step_probabilities(model.quantized, stream))


@pytest.mark.unit
def test_reference_detects_the_bundled_stream(reference):
    score = score_detections(reference.detections, spoken(WAV))
    assert score.correct, score
    assert [d.word for d in reference.detections] == [e.word for e in spoken(WAV)]
    lines = reference.lines()
    assert lines[0].startswith(f"detected {spoken(WAV)[0].word} at ") and lines[-1].startswith("end of stream: ")


@pytest.mark.unit
def test_reference_probabilities_are_each_steps_softmax(model, reference):
    """p of every step is the readout's softmax of that step: in [0, 1] (Q16), summing to about 1, and
    the same as a network run from the zero state over the same counts (never reset, never re-initialised)."""
    p = reference.probabilities
    assert p.shape == (reference.steps, len(model.classes))
    assert p.min() >= 0 and p.max() <= PROB_ONE
    assert np.all(np.abs(p.sum(axis=1) - PROB_ONE) <= len(model.classes))
    assert np.array_equal(p, step_probabilities(model.quantized, reference.counts))


# ---------------------------------------------------------------- firmware in QEMU

@pytest.mark.firmware
@needs_firmware_tools
def test_firmware_stream_matches_reference(model, reference, firmware_build, record_property):
    audio, image = firmware_build
    run = run_audio_firmware(audio, image, model, WAV)
    assert reference.equal(run.trace), reference.first_difference(run.trace)
    assert run.trace.detections == reference.detections
    assert run.stdout.strip().splitlines() == reference.lines()
    budget = 64_000_000 * 0.004
    per_step = {name: run.per_step(name) for name in PER_STEP_PHASES}
    record_property("instructions_per_step", per_step)
    assert 10_000 < per_step["audio_phase_frontend"] < 0.1 * budget
    assert sum(per_step.values()) < 0.5 * budget
    assert run.flash_used < 128 * 1024 and run.ram_used < 32 * 1024


@pytest.mark.slow
@pytest.mark.firmware
@needs_firmware_tools
def test_firmware_probabilities_stay_exact_after_the_totals_saturate(model, firmware_build, tmp_path):
    """A stream long enough for the model's totals to saturate at 2^31 - 1: 4 minutes of silence
    (p(silence) is about 0.58 there, so its total passes 2^31 - 1 after about 57,000 steps), then
    the bundled stream twice. The app reads p from <prefix>_step()'s output and never
    re-initialises: every step still equals the reference and every word is heard."""
    silence_steps = 60_000
    pcm = np.concatenate([np.zeros(silence_steps * 64, np.int16), np.tile(read_wav(WAV), 2)])
    write_wav(tmp_path / "long.wav", pcm)
    audio, image = firmware_build
    run = run_audio_firmware(audio, image, model, tmp_path / "long.wav")
    expected = model.listen(pcm)
    totals = np.cumsum(expected.probabilities, axis=0)
    assert totals[silence_steps - 1].max() > 2 ** 31 - 1          # saturated before the first word
    assert expected.equal(run.trace), expected.first_difference(run.trace)
    assert [d.word for d in run.trace.detections] == [e.word for e in spoken(WAV)] * 2

@pytest.mark.firmware
@needs_firmware_tools
@needs_espeak
def test_firmware_multi_keyword_stream_of_a_held_out_voice(model, firmware_build, tmp_path):
    from silifc.kws.audio.labelled_streams import make_keyword_stream

    stream = make_keyword_stream(("no", "right", "up", "off"), voice="en-gb+m4", seed=11, gap_seconds=(0.6, 1.0),
                                 lead_seconds=0.8, tail_seconds=0.6, path=tmp_path / "stream.wav")
    audio, image = firmware_build
    run = run_audio_firmware(audio, image, model, tmp_path / "stream.wav")
    expected = model.listen(stream.pcm)
    assert expected.equal(run.trace), expected.first_difference(run.trace)
    score = score_detections(run.trace.detections, stream.events)
    assert score.correct, score
    for detection, event in zip(run.trace.detections, stream.events):
        assert event.start / 16 <= detection.time_ms <= event.end / 16 + 1000   # during or just after the word


def _rewrite_wav(pcm, path: Path, extra_chunk: bool, streaming: bool, channels: int = 1):
    data = np.asarray(pcm, "<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, 16000, 16000 * 2 * channels, 2 * channels, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        chunks += b"LIST" + struct.pack("<I", 5) + b"abcde" + b"\0"      # odd size: padded
    chunks += b"data" + struct.pack("<I", 0xFFFFFFFF if streaming else len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)
    return path


@pytest.mark.firmware
@needs_firmware_tools
def test_firmware_wav_reader(model, firmware_build, tmp_path):
    from silifc.target.qemu import run_firmware

    audio, image = firmware_build
    pcm = read_wav(WAV)[:16000 + 100]                        # not a whole number of steps: the tail is dropped
    odd = _rewrite_wav(pcm, tmp_path / "odd.wav", extra_chunk=True, streaming=True)
    run = run_audio_firmware(audio, image, model, odd)
    expected = model.listen(pcm)
    assert run.trace.steps == len(pcm) // 64 and expected.equal(run.trace)
    stereo = _rewrite_wav(np.repeat(pcm, 2), tmp_path / "stereo.wav", False, False, channels=2)
    bad = run_firmware(image, image.board, args=[str(stereo)], check=False)
    assert bad.exit_status == 12 and "16 kHz mono" in bad.stdout
    missing = run_firmware(image, image.board, args=[str(tmp_path / "none.wav")], check=False)
    assert missing.exit_status == 11


# ---------------------------------------------------------------- command line

def _parse(argv):
    from silifc.cli import build_parser

    return build_parser().parse_args(argv)


@pytest.mark.unit
def test_listen_command(reference, capsys):
    from silifc.cli import main

    assert main(["listen", "--wav", str(WAV)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[3:3 + len(reference.lines())] == reference.lines()
    assert out[-1] == f"score: {len(spoken(WAV))}/{len(spoken(WAV))} keywords detected"
    assert main(["listen", "kws_silif.pt", "--wav", str(WAV), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [d["word"] for d in report["detections"]] == [d.word for d in reference.detections]


@pytest.mark.unit
def test_listen_refuses_other_audio(tmp_path, capsys):
    from silifc.cli import main

    write_wav(tmp_path / "x.wav", np.zeros(1000, np.int16), 8000)
    assert main(["listen", "--wav", str(tmp_path / "x.wav")]) == 2
    assert "16000 Hz" in capsys.readouterr().err


@pytest.mark.firmware
@needs_firmware_tools
def test_compile_audio_project_builds_with_make_and_runs(model, reference, tmp_path, capsys):
    from silifc.codegen.boards import load_board
    from silifc.cli.audio import compile_audio
    from silifc.target.qemu import run_firmware

    args = _parse(["compile", "kws_silif.pt", "--board", "nrf52840", "-o", str(tmp_path / "p"), "--prefix", "kws"])
    assert compile_audio(args) == 0
    assert "always-listening" in capsys.readouterr().out
    for name in ("audio/main.c", "audio/pcm_source.h", "audio/pcm_source_semihost.c", "audio/Makefile",
                 "runtime/frontend/slf_detect.h", "model/kws_model.h", "kws/kws_kws.h", "kws/kws_kws.c"):
        assert (tmp_path / "p" / name).is_file(), name
    subprocess.run(["make", "-s", "-C", str(tmp_path / "p"), "-f", "audio/Makefile"], check=True, capture_output=True)
    run = run_firmware(tmp_path / "p" / "build" / "audio.elf", load_board("nrf52840"), args=[str(WAV)])
    assert run.stdout.strip().splitlines() == reference.lines()


@pytest.mark.firmware
@needs_firmware_tools
def test_run_audio_command(firmware_build, capsys):
    from silifc.cli.audio import run_audio

    args = _parse(["run", "kws_silif.pt", "--board", "nrf52840"])
    args.wav = str(WAV)                                      # `silifc run ... --wav` once cli_firmware has it
    assert run_audio(args) == 0
    out = capsys.readouterr().out
    assert "RESULT: bit-exact" in out and "instructions, est." in out and "cycles per 4 ms step" in out
    args.json = True
    assert run_audio(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bit_exact"] and report["budget_fraction"] < 0.5
    assert report["score"]["misses"] == [] and report["score"]["false_alarms"] == []

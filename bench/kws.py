#!/usr/bin/env python3
"""The bundled keyword model (models/kws/): how it was made and what it measures.

    .venv/bin/python bench/kws.py all            # everything below, in order (~35 min on 1 core)
    .venv/bin/python bench/kws.py data           # data set (cached) + models/kws/calibration.npz
    .venv/bin/python bench/kws.py train silif    # `silifc train ...` (the command is printed), + meta
    .venv/bin/python bench/kws.py train csilif   # the C-SiLIF comparison model
    .venv/bin/python bench/kws.py tune           # detector thresholds on streams of validation voices
    .venv/bin/python bench/kws.py wav            # models/kws/stream.wav (+ .json): the README's demo stream
    .venv/bin/python bench/kws.py evaluate       # accuracies, stream detection, cost -> bench/kws.json
    .venv/bin/python bench/kws.py demo           # only the demo stream's cost in bench/kws.json

Training runs `silifc train` with one torch thread. `train` then adds meta["kws"] to the
native file (class names, keyword count, front-end config, calibration file, detector
settings): `silifc listen/compile --audio/run --wav` read it. Accuracies are on the test
split, whose voice variants training never heard: float64 reference, bit-exact integer
reference (int8 weights, calibrated on models/kws/calibration.npz) and the firmware in
QEMU (compared output for output with the integer reference).
"""
from __future__ import annotations

import argparse
import itertools
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models" / "kws"
SILIFC = Path(sys.executable).parent / "silifc"
ARCH = {"silif": "silif:128,silif:128", "csilif": "csilif:128,csilif:128"}
EPOCHS = {"silif": 20, "csilif": 10}
CALIBRATION_PER_CLASS = 2
# Streams: 5 keywords and one other word each, a held-out voice, random level, speed, pitch, noise.
TUNE_STREAMS = ("val", 12, 100)      # split, streams, first seed
TEST_STREAMS = ("test", 16, 200)
DEMO_STREAM = dict(words=("yes", "left", "stop", "down", "go"), voice="en-us+f3", seed=7, gap_seconds=(0.5, 0.9),
                   lead_seconds=0.6, tail_seconds=0.5, peak_dbfs=-10.0, noise="pink", noise_dbfs=-45.0)


def _torch_one_thread():
    import torch

    torch.set_num_threads(1)


def dataset():
    from silifc.kws.audio.dataset import make_kws_dataset

    return make_kws_dataset(progress=lambda text: print(text, file=sys.stderr))


# ---------------------------------------------------------------- data and training

def cmd_data(args) -> None:
    data = dataset()
    x, y = data.load("train")
    chosen = np.concatenate([np.nonzero(y == k)[0][:CALIBRATION_PER_CLASS] for k in range(len(data.classes))])
    MODELS.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(MODELS / "calibration.npz", inputs=x[chosen], labels=y[chosen])
    print(f"data set {data.directory}; wrote {MODELS / 'calibration.npz'} ({len(chosen)} training clips)")


def annotate(path: Path, detector: dict | None = None) -> None:
    """Add meta["kws"] to a native model (weights untouched)."""
    import torch

    from silifc.kws.audio.dataset import KwsSpec
    from silifc.kws.detector import DetectorConfig
    from silifc.io.native import read_native, save_native

    _, spec, meta = read_native(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    spec_kws = KwsSpec()
    previous = meta.get("kws", {})
    meta["kws"] = {"classes": list(spec_kws.classes), "keywords": len(spec_kws.keywords),
                   "frontend": spec_kws.frontend.to_dict(), "calibration": "calibration.npz",
                   "detector": detector or previous.get("detector") or DetectorConfig().to_dict()}
    save_native(path, state, spec, meta)


def cmd_train(args) -> None:
    data = dataset()
    out = MODELS / f"kws_{args.kind}.pt"
    command = [str(SILIFC), "train", str(data.path("train")), "--val", str(data.path("val")),
               "--test", str(data.path("test")), "--arch", ARCH[args.kind], "--epochs", str(args.epochs or EPOCHS[args.kind]),
               "--threads", "1", "--seed", "0", "--out", str(out), "--json", "--history"]
    print("$ " + shlex.join(command), flush=True)
    started = time.time()
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    summary = json.loads(result.stdout)
    summary["wall_seconds"] = round(time.time() - started, 1)
    summary["command"] = shlex.join(command).replace(str(data.directory), "<cache>/kws/<hash>").replace(str(ROOT) + "/", "")
    summary["out"], summary["test"] = str(out.relative_to(ROOT)), "<cache>/kws/<hash>/test.npz"
    (MODELS / f"kws_{args.kind}.train.json").write_text(json.dumps(summary, indent=1) + "\n")
    annotate(out)
    print(f"wrote {out} in {summary['wall_seconds'] / 60:.1f} min; best {summary['best']}, "
          f"test {100 * summary.get('test_accuracy', float('nan')):.2f} % (float32 module)")


# ---------------------------------------------------------------- streams

def make_streams(split: str, count: int, first_seed: int):
    """Streams of held-out voices: 5 random keywords and one other word each."""
    from silifc.kws.audio.dataset import KEYWORDS, UNKNOWN_WORDS, KwsSpec
    from silifc.kws.audio.labelled_streams import make_keyword_stream

    voices = KwsSpec().voices(split)
    streams = []
    for seed in range(first_seed, first_seed + count):
        rng = np.random.default_rng(seed)
        words = list(rng.choice(KEYWORDS, 5, replace=False))
        words.insert(int(rng.integers(0, 6)), str(rng.choice(UNKNOWN_WORDS)))
        streams.append(make_keyword_stream(
            words, voice=str(rng.choice(voices)), seed=seed, gap_seconds=(0.5, 1.2),
            peak_dbfs=float(rng.uniform(-24, -6)), noise=str(rng.choice(["pink", "white"])),
            noise_dbfs=float(rng.uniform(-60, -40)), speed=int(rng.integers(140, 210)),
            pitch=int(rng.integers(30, 70))))
    return streams


def score_streams(model, streams, probabilities=None, detector=None):
    """Detections of the integer reference on each stream, scored against the spoken words
    (with `probabilities`, the stored per-step softmax of each stream: the detector alone)."""
    import dataclasses

    from silifc.kws.score import score_detections

    if detector is not None:
        model = dataclasses.replace(model, detector=detector)
    totals = {"keywords": 0, "hits": 0, "misses": 0, "wrong": 0, "false_alarms": 0, "streams_correct": 0}
    for index, stream in enumerate(streams):
        trace = model.listen(stream.pcm) if probabilities is None else _replay(model, probabilities[index])
        score = score_detections(trace.detections, stream.events, stream.sample_rate, model.classes[:model.keywords])
        totals["keywords"] += sum(e.word in model.classes[:model.keywords] for e in stream.events)
        totals["hits"] += score.hits
        totals["misses"] += len(score.misses)
        totals["wrong"] += len(score.wrong)
        totals["false_alarms"] += len(score.false_alarms)
        totals["streams_correct"] += score.correct
    return totals


def _replay(model, p):
    """The detector alone over stored per-step probabilities."""
    from silifc.kws.detector import NONE, Detector
    from silifc.kws.stream import Detection, StreamTrace, time_ms

    detector = Detector(model.params)
    detected = np.array([detector.step(row) for row in p])
    f = model.frontend
    detections = tuple(Detection(int(k), model.classes[k], t, time_ms(t, f.step_samples, f.sample_rate))
                       for t, k in enumerate(detected) if k != NONE)
    return StreamTrace(counts=np.zeros((len(p), 0), np.int64), probabilities=np.asarray(p), detected=detected,
                       detections=detections, step_samples=f.step_samples, sample_rate=f.sample_rate)


def cmd_tune(args) -> None:
    from silifc.kws.detector import DetectorConfig
    from silifc.kws.model import load_kws_model
    from silifc.kws.stream import step_probabilities

    _torch_one_thread()
    path = MODELS / f"kws_{args.kind}.pt"
    model = load_kws_model(path)
    streams = make_streams(*TUNE_STREAMS)
    probabilities = [step_probabilities(model.quantized, model.counts(s.pcm)) for s in streams]
    results = []
    for shift, on, gap, hold in itertools.product((5, 6, 7, 8), np.arange(0.08, 0.32, 0.01), (0.02, 0.04),
                                                  (300.0, 600.0)):
        config = DetectorConfig(shift=shift, on=round(float(on), 2), off=round(float(on) - gap, 2), hold_ms=hold)
        score = score_streams(model, streams, probabilities, config)
        merit = score["hits"] - score["wrong"] - score["false_alarms"]
        results.append((merit, score["hits"], -score["false_alarms"], config, score))
    results.sort(key=lambda r: (r[0], r[1], r[2], -r[3].shift), reverse=True)
    for merit, _, _, config, score in results[:8]:
        print(f"{merit:4d} {config}  {score}")
    best = results[0][3]
    annotate(path, best.to_dict())
    print(f"{path}: detector {best.to_dict()} (meta kws.detector)")


def cmd_wav(args) -> None:
    from silifc.kws.audio.labelled_streams import make_keyword_stream

    stream = make_keyword_stream(path=MODELS / "stream.wav", **DEMO_STREAM)
    print(f"wrote {MODELS / 'stream.wav'}: {len(stream.pcm) / 16000:.2f} s, "
          + ", ".join(f"{e.word}@{e.start / 16000:.2f}s" for e in stream.events))


# ---------------------------------------------------------------- evaluation

def accuracies(kind: str, firmware: bool) -> dict:
    from silifc.codegen.boards import load_board
    from silifc.pipeline import build_model_firmware
    from silifc.target.firmware import run_model
    from silifc.reference.float_ref import run_float
    from silifc.passes.fold import fold_network
    from silifc.reference.int_ref import run_int
    from silifc.kws.model import load_kws_model
    from silifc.io.models import load_model
    from silifc.pipeline import run_batched

    x, y = dataset().load("test")
    path = MODELS / f"kws_{kind}.pt"
    model = load_kws_model(path)
    row = {"model": path.name}
    folded = fold_network(load_model(path))
    row["float64"] = float((run_batched(lambda c: run_float(folded, c), x, batch=64).decisions == y).mean())
    reference = run_batched(lambda c: run_int(model.quantized, c), x, batch=64)
    row["int8"] = float((reference.decisions == y).mean())
    if firmware:
        board = load_board("nrf52840")
        project, image = build_model_firmware(model.quantized, board, "int8")
        report = run_model(project, image, model.quantized, x, insn_limit=None)
        row["firmware"] = float((report.result.decisions == y).mean())
        row["firmware_outputs_equal_int"] = int(np.all(report.result.outputs == reference.outputs, axis=1).sum())
        row["firmware_samples"] = int(len(y))
        row["network_instructions_per_step"] = report.instructions_per_step
    return row


def demo_stream() -> dict:
    """The bundled keyword model's firmware on the bundled stream in QEMU: lines, bit-exactness,
    instructions and est. cycles per step of each phase, memory (docs/kws.md, section 3)."""
    from silifc.codegen.boards import load_board
    from silifc.kws.audio.wav import read_wav
    from silifc.kws.firmware import PER_STEP_PHASES, build_audio_firmware, run_audio_firmware
    from silifc.kws.model import load_kws_model

    model = load_kws_model(MODELS / "kws_silif.pt")
    board = load_board("nrf52840")
    audio, image = build_audio_firmware(model, board)
    firmware = run_audio_firmware(audio, image, model, MODELS / "stream.wav")
    reference = model.listen(read_wav(MODELS / "stream.wav"))
    budget = board.clock_hz * model.step_ms / 1000
    demo = {
        "lines": firmware.stdout.strip().splitlines(), "bit_exact": reference.equal(firmware.trace),
        "per_step": {name: firmware.per_step(name) for name in PER_STEP_PHASES},
        "cycles_per_step": {name: firmware.cycles_per_step(name) for name in PER_STEP_PHASES},
        "cycle_model": firmware.cycle_model,
        "budget": budget, "flash_used": firmware.flash_used, "ram_used": firmware.ram_used}
    # estimated Cortex-M4 cycles against the budget (docs/cycles.md)
    demo["budget_fraction"] = sum(demo["cycles_per_step"].values()) / budget
    print(json.dumps(demo, indent=1))
    return demo


def cmd_demo(args) -> None:
    """Re-measure only the demo stream in bench/kws.json (the firmware changed, the models did not)."""
    out = ROOT / "bench" / "kws.json"
    results = json.loads(out.read_text())
    results["demo_stream"] = demo_stream()
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


def cmd_evaluate(args) -> None:
    from silifc.kws.model import load_kws_model

    _torch_one_thread()
    results = {"accuracy": [], "streams": {}}
    for kind in args.kinds:
        if (MODELS / f"kws_{kind}.pt").exists():
            started = time.time()
            results["accuracy"].append(accuracies(kind, firmware=not args.no_firmware))
            print(results["accuracy"][-1], f"({time.time() - started:.0f} s)", flush=True)
    tune_streams, test_streams = make_streams(*TUNE_STREAMS), make_streams(*TEST_STREAMS)
    for kind in args.kinds:
        if (MODELS / f"kws_{kind}.pt").exists():
            model = load_kws_model(MODELS / f"kws_{kind}.pt")
            results["streams"][kind] = {"detector": model.detector.to_dict(),
                                        "validation_voices": score_streams(model, tune_streams),
                                        "test_voices": score_streams(model, test_streams)}
            print(f"streams, {kind}:", results["streams"][kind], flush=True)
    results["demo_stream"] = demo_stream()
    out = ROOT / "bench" / "kws.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("data").set_defaults(func=cmd_data)
    train = sub.add_parser("train")
    train.add_argument("kind", choices=tuple(ARCH))
    train.add_argument("--epochs", type=int)
    train.set_defaults(func=cmd_train)
    tune = sub.add_parser("tune")
    tune.add_argument("--kind", choices=tuple(ARCH), default="silif")
    tune.set_defaults(func=cmd_tune)
    sub.add_parser("wav").set_defaults(func=cmd_wav)
    sub.add_parser("demo", help="re-measure the demo stream only").set_defaults(func=cmd_demo)
    evaluate = sub.add_parser("evaluate")
    evaluate.add_argument("--kinds", nargs="+", default=["silif", "csilif"])
    evaluate.add_argument("--no-firmware", action="store_true", help="skip the firmware accuracy runs")
    evaluate.set_defaults(func=cmd_evaluate)
    everything = sub.add_parser("all")
    everything.set_defaults(func=None)
    args = parser.parse_args(argv)
    if args.func is None:
        for step in (["data"], ["train", "silif"], ["train", "csilif"], ["tune"], ["wav"], ["evaluate"]):
            main(step)
        return 0
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

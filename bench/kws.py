#!/usr/bin/env python3
"""The bundled keyword models (models/kws/): the recipe that made them and what they measure.

    .venv/bin/python bench/kws.py corpus            # training windows: train / val / test / unseen (cached)
    .venv/bin/python bench/kws.py streams           # labelled streams + the 1-hour negative stream (cached)
    .venv/bin/python bench/kws.py train silif       # `silifc train ...` (printed), then meta["kws"]
    .venv/bin/python bench/kws.py train silif --from-stage 6   # only the last stage, from the bundled model
    .venv/bin/python bench/kws.py train csilif
    .venv/bin/python bench/kws.py tune silif        # detector on the validation streams
    .venv/bin/python bench/kws.py tune csilif
    .venv/bin/python bench/kws.py wav               # models/kws/stream.wav (+ .json): the README's demo stream
    .venv/bin/python bench/kws.py evaluate          # the must-show table -> bench/kws.json, bench/kws.md
    .venv/bin/python bench/kws.py demo              # only the firmware rows of it (cost, firmware = reference)
    .venv/bin/python bench/kws.py flite             # the independent test (flite: never used before this)

Data (silifc.kws.audio.corpus): voices split by whole voice and whole synthesizer. `train`:
espeak-ng (every English accent x every variant but the held-out ones) and festival (kal, ked,
slt); `val`: other espeak-ng variants + festival (model selection, detector tuning); `test`:
held-out espeak-ng variants; `unseen`: piper (joe) and hibari (heart), synthesizers training
never used. Streams are minutes of one talker saying keywords between running non-keyword
speech, over noise; the negative stream is >= 1 hour of running speech without keywords
(half the talkers held-out espeak-ng variants, half the unseen synthesizers).

The baseline ("old") models are the bundled models of commit a1da358, read from git.
Everything runs on the integer reference, which the firmware equals bit for bit (checked
here on the demo stream and on one stream of each test set in QEMU).
"""
from __future__ import annotations

import argparse
import dataclasses
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
EPOCHS = {"silif": 6, "csilif": 4}        # stage 1 (sum-softmax loss)
FRAMEWISE_EPOCHS = 2                      # stage 2 (framewise loss)
TRAIN_PER_CLASS = 400                     # training windows per keyword, stages 1 and 2
# stages 3-6 (framewise loss, warm restarts of the cosine schedule: validation accuracy was still
# rising at the end of each stage): (epochs, learning rate, training windows per keyword). Stage 6
# trains on three times the windows: validation had levelled off on 400 (data, not epochs); the
# first 400 per class of the larger set are the same windows (each window is seeded by its index).
RESTARTS = ((6, 0.003, 400), (10, 0.002, 400), (15, 0.003, 400), (6, 0.002, 1200))
BASELINE_COMMIT = "a1da358"
CALIBRATION_PER_CLASS = 2
# name: (split, streams, keywords per stream, seed)
STREAM_SETS = {"val": ("val", 24, 8, 100), "test": ("test", 30, 8, 200), "unseen": ("unseen", 30, 8, 300)}
NEGATIVE = {"val-negative": ("val", 600.0, 400), "negative": ("test+unseen", 3600.0, 500)}
DEMO_STREAM = dict(words=("yes", "left", "stop", "down", "go"), voice="en-us+f3", seed=7, gap_seconds=(0.5, 0.9),
                   lead_seconds=0.6, tail_seconds=0.5, peak_dbfs=-10.0, noise="pink", noise_dbfs=-45.0)
MAX_FALSE_ALARMS_PER_HOUR = 1.0


def _say(text):
    print(text, file=sys.stderr, flush=True)


def _torch_one_thread():
    import torch

    torch.set_num_threads(1)


def window_paths(train_per_class: int | None = None) -> dict:
    """Window sets of the four splits; the training set of the given size (default: the last
    stage's)."""
    from silifc.kws.audio.corpus import WindowSpec, make_window_set

    spec = WindowSpec(per_class=train_per_class or RESTARTS[-1][2])
    small = WindowSpec(per_class=60)
    return {split: make_window_set(split, spec if split == "train" else small, progress=_say)
            for split in ("train", "val", "test", "unseen")}


def streams_root() -> Path:
    from silifc.io.files import cache_dir

    return cache_dir() / "kws-streams"


def _negative_voices(which: str):
    from silifc.kws.audio.corpus import split_voices

    if which == "test+unseen":                # half the talkers from each source
        espeak, unseen = split_voices("test"), split_voices("unseen")
        return espeak + unseen * (len(espeak) // len(unseen))
    return split_voices(which)


# ---------------------------------------------------------------- data

def cmd_corpus(args) -> None:
    paths = window_paths()
    x, y = np.load(paths["train"])["inputs"], np.load(paths["train"])["labels"]
    chosen = np.concatenate([np.nonzero(y == k)[0][:CALIBRATION_PER_CLASS] for k in range(12)])
    np.savez_compressed(MODELS / "calibration.npz", inputs=x[chosen], labels=y[chosen])
    for split, path in paths.items():
        print(f"{split}: {path}")
    print(f"wrote {MODELS / 'calibration.npz'} ({len(chosen)} training windows)")


def cmd_streams(args) -> None:
    from silifc.kws.audio.corpus import make_negative_stream, make_streams, write_streams

    root = streams_root()
    for name, (split, count, keywords, seed) in STREAM_SETS.items():
        folder = root / name
        if (folder / "labels.json").exists() and not args.force:
            continue
        started = time.time()
        streams = make_streams(split, count, keywords_per_stream=keywords, seed=seed, progress=_say)
        write_streams(streams, folder, prefix=f"{name}-")
        _say(f"{name}: {count} streams, {sum(len(s.pcm) for s in streams) / 16000 / 60:.1f} min in "
             f"{time.time() - started:.0f} s -> {folder}")
    for name, (which, seconds, seed) in NEGATIVE.items():
        folder = root / name
        if (folder / "labels.json").exists() and not args.force:
            continue
        started = time.time()
        stream = make_negative_stream(seconds, seed=seed, voices=_negative_voices(which), progress=_say)
        write_streams([stream], folder, prefix=f"{name}-")
        _say(f"{name}: {len(stream.pcm) / 16000 / 60:.1f} min of running speech, {len(stream.events)} phrases, "
             f"in {time.time() - started:.0f} s -> {folder}")
    print(root)


# ---------------------------------------------------------------- training

def annotate(path: Path, detector: dict | None = None, low_false_alarms: dict | None = None) -> None:
    """Add meta["kws"] to a native model (weights untouched). Without `detector`, both detector
    settings are kept from the model's meta; with it (a new tuning), both are replaced, and a
    missing `low_false_alarms` removes the old one."""
    import torch

    from silifc.kws.audio.corpus import CLASSES
    from silifc.kws.audio.frontend import FrontEndConfig
    from silifc.kws.detector import DetectorConfig
    from silifc.io.native import read_native, save_native

    _, spec, meta = read_native(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    previous = meta.get("kws", {})
    meta["kws"] = {"classes": list(CLASSES), "keywords": 10, "frontend": FrontEndConfig().to_dict(),
                   "calibration": "calibration.npz",
                   "detector": detector or previous.get("detector") or DetectorConfig().to_dict()}
    if detector is None:
        low_false_alarms = previous.get("detector_low_false_alarms")
    if low_false_alarms:
        # a second operating point, for the report: the best merit with <= 1 false alarm per hour
        # on the validation negative stream (`--on/--off/--shift/--hold-ms` select it)
        meta["kws"]["detector_low_false_alarms"] = low_false_alarms
    save_native(path, state, spec, meta)


def cmd_train(args) -> None:
    """Six stages, all `silifc train` (printed): (1) from the baseline model, the authors' loss
    on the windows' masks (start of the word to 0.3 s after it); (2) from (1), the framewise
    loss on the masks' last 100 steps, which makes the per-step softmax peaked for the detector;
    (3)-(6) from the stage before, more framewise epochs (RESTARTS: warm restarts of the cosine
    schedule, because validation accuracy was still rising at the end of each stage; stage 6 on
    three times the training windows).
    `--from-stage N` (N >= 3) runs stages N.. only, from the bundled model taken as the output
    of stage N - 1."""
    from silifc.kws.audio.corpus import framewise_window_set

    def framewise_data(per_class: int) -> list[str]:
        paths = window_paths(per_class)
        framewise = {split: framewise_window_set(paths[split]) for split in ("train", "val", "test")}
        return [str(framewise["train"]), "--val", str(framewise["val"]), "--test", str(framewise["test"])]

    out = MODELS / f"kws_{args.kind}.pt"
    n_stages = 2 + len(RESTARTS)
    intermediate = [out.with_name(f"kws_{args.kind}.stage{n}.pt") for n in range(1, n_stages)]
    outputs = intermediate + [out]                   # outputs[n - 1]: stage n's model
    common = ["--threads", "1", "--seed", "0", "--json", "--history"]

    def stage_command(number: int) -> list[str]:     # built when the stage runs: only its data is made
        if number == 1:
            paths = window_paths(TRAIN_PER_CLASS)
            return [str(SILIFC), "train", str(paths["train"]), "--val", str(paths["val"]), "--test",
                    str(paths["test"]), "--init", str(_baseline(args.kind)), "--epochs", str(EPOCHS[args.kind]),
                    "--out", str(outputs[0]), *common]
        epochs, lr, per_class = (FRAMEWISE_EPOCHS, 0.005, TRAIN_PER_CLASS) if number == 2 else RESTARTS[number - 3]
        return [str(SILIFC), "train", *framewise_data(per_class), "--init", str(outputs[number - 2]), "--loss",
                "framewise", "--lr", str(lr), "--epochs", str(epochs), "--out", str(outputs[number - 1]), *common]

    summaries = []
    if args.from_stage > 1:              # the bundled model is the output of the stage before
        outputs[args.from_stage - 2].write_bytes(out.read_bytes())
        summaries = json.loads((MODELS / f"kws_{args.kind}.train.json").read_text())["stages"][:args.from_stage - 1]
    for number in range(args.from_stage, n_stages + 1):
        command = stage_command(number)
        print("$ " + shlex.join(command), flush=True)
        started = time.time()
        result = subprocess.run(command, check=True, capture_output=True, text=True)
        summary = json.loads(result.stdout)
        summary["wall_seconds"] = round(time.time() - started, 1)
        summary["command"] = _portable(shlex.join(command))
        summaries.append(summary)
    for path in intermediate:
        path.unlink(missing_ok=True)
    (MODELS / f"kws_{args.kind}.train.json").write_text(json.dumps({"stages": summaries}, indent=1) + "\n")
    annotate(out)
    print(f"wrote {out} in {sum(s.get('wall_seconds', s['seconds']) for s in summaries) / 60:.1f} min")


def _portable(text: str) -> str:
    from silifc.io.files import cache_dir

    return text.replace(str(cache_dir()), "<cache>").replace(str(ROOT) + "/", "")


def _baseline(kind: str) -> Path:
    """The bundled model of BASELINE_COMMIT (before stream training), with its calibration file."""
    from silifc.io.files import cache_dir

    folder = cache_dir() / f"kws-baseline-{BASELINE_COMMIT}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in (f"kws_{kind}.pt", "calibration.npz"):
        if not (folder / name).exists():
            data = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:models/kws/{name}"],
                                  check=True, capture_output=True).stdout
            (folder / name).write_bytes(data)
    return folder / f"kws_{kind}.pt"


# ---------------------------------------------------------------- detector

def _probabilities(model, name: str):
    from silifc.kws.eval import stream_probabilities

    return stream_probabilities(model, streams_root() / name, progress=_say)


def cmd_tune(args) -> None:
    from silifc.kws.model import load_kws_model
    from silifc.kws.eval import tune_detector

    _torch_one_thread()
    path = Path(args.model) if args.model else MODELS / f"kws_{args.kind}.pt"
    model = load_kws_model(path)
    streams = _probabilities(model, "val")
    negative = _probabilities(model, "val-negative")
    best, table = tune_detector(model, streams, negative=negative, max_false_alarms_per_hour=MAX_FALSE_ALARMS_PER_HOUR)
    for row in table[:8]:
        print(row["merit"], row["config"], row["streams"]["hit_rate"], row["streams"]["false_alarms"],
              row["negative"]["false_alarms_per_hour"])
    merit = max(table, key=lambda row: row["merit"])      # best merit, false alarms per hour not limited
    print("deployed (best merit):", merit["merit"], merit["config"], merit["streams"]["hit_rate"],
          merit["negative"]["false_alarms_per_hour"])
    if best is None:
        print(f"no setting of the grid keeps <= {MAX_FALSE_ALARMS_PER_HOUR} false alarm/h on val-negative: "
              "no second operating point")
    else:
        print(f"<= {MAX_FALSE_ALARMS_PER_HOUR} false alarm/h on val-negative:", best.to_dict())
    if not args.dry_run:
        annotate(path, merit["config"], best.to_dict() if best else None)
    print(f"{path}: detector {merit['config']}")


def cmd_wav(args) -> None:
    from silifc.kws.audio.labelled_streams import make_keyword_stream

    stream = make_keyword_stream(path=MODELS / "stream.wav", **DEMO_STREAM)
    print(f"wrote {MODELS / 'stream.wav'}: {len(stream.pcm) / 16000:.2f} s, "
          + ", ".join(f"{e.word}@{e.start / 16000:.2f}s" for e in stream.events))


# ---------------------------------------------------------------- evaluation

def _models() -> dict:
    from silifc.kws.model import load_kws_model

    out = {}
    for kind in ("silif", "csilif"):
        if (MODELS / f"kws_{kind}.pt").exists():
            out[f"{kind} (new)"] = load_kws_model(MODELS / f"kws_{kind}.pt")
        out[f"{kind} (old, {BASELINE_COMMIT})"] = load_kws_model(_baseline(kind))
    return out


def _low_false_alarm_detector(model):
    """The second operating point (meta["kws"]["detector_low_false_alarms"]): the best merit
    on the validation streams among settings with <= 1 false alarm per hour on the validation
    negative stream; None for a model without it."""
    from silifc.io.native import read_native
    from silifc.kws.detector import DetectorConfig

    try:
        _, _, meta = read_native(model.path)
    except Exception:                       # the authors' format has no meta
        return None
    config = meta.get("kws", {}).get("detector_low_false_alarms")
    return DetectorConfig(**config) if config else None


def _cost(model) -> dict:
    """Streaming firmware on the demo stream in QEMU: = the reference?, instructions and
    estimated Cortex-M4 cycles per step of each phase (docs/cycles.md), memory."""
    from silifc.kws.audio.wav import read_wav
    from silifc.codegen.boards import load_board
    from silifc.kws.firmware import PER_STEP_PHASES, build_audio_firmware, run_audio_firmware

    board = load_board("nrf52840")
    audio, image = build_audio_firmware(model, board)
    run = run_audio_firmware(audio, image, model, MODELS / "stream.wav")
    reference = model.listen(read_wav(MODELS / "stream.wav"))
    budget = board.clock_hz * model.step_ms / 1000

    def phases(value) -> dict:
        out = {key: round(value(name)) for key, name in zip(("frontend", "network", "detector"), PER_STEP_PHASES)}
        return {**out, "total": round(sum(value(name) for name in PER_STEP_PHASES))}

    instructions, cycles = phases(run.per_step), phases(run.cycles_per_step)
    return {"bit_exact_demo": bool(reference.equal(run.trace)), "lines": run.stdout.strip().splitlines(),
            "instructions_per_step": instructions, "estimated_cycles_per_step": cycles,
            "cycle_model": run.cycle_model, "budget_cycles": budget,
            "budget_fraction": cycles["total"] / budget,     # estimated cycles / cycles of a 4 ms step at 64 MHz
            "flash_used": run.flash_used, "ram_used": run.ram_used}


def _firmware_equals_reference(model, folder: Path) -> dict:
    """The firmware in QEMU on the first stream of a set, step for step against the reference."""
    from silifc.kws.audio.wav import read_wav
    from silifc.codegen.boards import load_board
    from silifc.kws.firmware import build_audio_firmware, run_audio_firmware

    wav = sorted(folder.glob("*.wav"))[0]
    audio, image = build_audio_firmware(model, load_board("nrf52840"))
    run = run_audio_firmware(audio, image, model, wav)
    reference = model.listen(read_wav(wav))
    return {"file": wav.name, "steps": reference.steps, "bit_exact": bool(reference.equal(run.trace))}


def _firmware_rows(name: str, model) -> dict:
    """What `evaluate` measures in QEMU: the cost on the demo stream, and (new models) the
    firmware against the reference on the first stream of the test and unseen sets."""
    row = {"cost": _cost(model)}
    if "new" in name:
        row["firmware_check"] = {s: _firmware_equals_reference(model, streams_root() / s) for s in ("test", "unseen")}
    return row


def _write_results(results: dict) -> None:
    out = ROOT / "bench" / "kws.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    (ROOT / "bench" / "kws.md").write_text(table(results) + "\n")
    print(table(results))
    print(f"wrote {out}, {out.with_suffix('.md')}")


def cmd_evaluate(args) -> None:
    from silifc.kws.eval import score_probabilities

    _torch_one_thread()
    results = {"models": {}}
    for name, model in _models().items():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        row = {"detector": model.detector.to_dict()}
        other = _low_false_alarm_detector(model)
        for set_name in ("test", "unseen", "negative"):
            started = time.time()
            probabilities = _probabilities(model, set_name)
            row[set_name] = score_probabilities(model, probabilities).summary()
            if other is not None:
                row.setdefault("low_false_alarm_detector", {"detector": other.to_dict()})[set_name] = \
                    score_probabilities(model, probabilities, other).summary()
            _say(f"{name} {set_name}: {row[set_name]} ({time.time() - started:.0f} s)")
        if not args.no_firmware:
            row.update(_firmware_rows(name, model))
        results["models"][name] = row
        print(name, json.dumps(row), flush=True)
    out = ROOT / "bench" / "kws.json"
    previous = json.loads(out.read_text()) if out.exists() and args.only else {"models": {}}
    previous["models"].update(results["models"])
    _write_results(previous)


def cmd_demo(args) -> None:
    """Re-measure only what runs in QEMU (cost on the demo stream, firmware = reference on a
    test and an unseen stream) in bench/kws.json: for when the firmware changed and the models
    and the integer reference did not. The scores (integer reference) are kept."""
    out = ROOT / "bench" / "kws.json"
    results = json.loads(out.read_text())
    for name, model in _models().items():
        if name not in results["models"]:
            raise SystemExit(f"{out} has no row for {name}: run `bench/kws.py evaluate` first")
        started = time.time()
        results["models"][name].update(_firmware_rows(name, model))
        _say(f"{name}: {json.dumps(results['models'][name]['cost'])} ({time.time() - started:.0f} s)")
    _write_results(results)


def table(results: dict) -> str:
    lines = ["| model | held-out espeak-ng voices: hit | unseen synthesizers: hit | false alarms / h (1 h negative) "
             "| latency after the word, median | instructions / step | est. cycles / step (% of 64 MHz) "
             "| flash | RAM |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, row in results["models"].items():
        cost = row.get("cost")
        lat = row.get("test", {}).get("latency_ms")
        neg = row.get("negative", {})
        lines.append(
            f"| {name} | {_hit(row, 'test')} | {_hit(row, 'unseen')} | "
            f"{neg.get('false_alarms', '-')} in {neg.get('hours', 0):.2f} h = {neg.get('false_alarms_per_hour', '-')} | "
            + (f"{lat['median']:.0f} ms" if lat else "-") + " | "
            + (f"{cost['instructions_per_step']['total']:,} | {cost['estimated_cycles_per_step']['total']:,} "
               f"({100 * cost['budget_fraction']:.1f} %)" if cost else "- | -") + " | "
            + (f"{cost['flash_used']:,} B" if cost else "-") + " | " + (f"{cost['ram_used']:,} B" if cost else "-")
            + " |")
    lines += ["", "Operating points:", "",
              "| model | detector | held-out espeak-ng: hit | unseen synth.: hit | false alarms / h (negative) |",
              "|---|---|---|---|---|"]
    for name, row in results["models"].items():
        points = [("deployed", row)]
        if "low_false_alarm_detector" in row:
            points.append((f"<= {MAX_FALSE_ALARMS_PER_HOUR:g} FA/h on val-negative", row["low_false_alarm_detector"]))
        for label, point in points:
            d = point["detector"]
            neg = point.get("negative", {})
            lines.append(f"| {name} | {label}: shift {d['shift']}, on {d['on']:g}, off {d['off']:g}, hold "
                         f"{d['hold_ms']:g} ms | {_hit(point, 'test')} | {_hit(point, 'unseen')} | "
                         f"{neg.get('false_alarms', '-')} in {neg.get('hours', 0):g} h |")
    lines += ["", "Cost on the nRF52840 (demo stream, QEMU mps2-an386; exact instructions and estimated Cortex-M4 "
              "cycles per 4 ms step, docs/cycles.md; the network part depends on the input's spikes):", "",
              "| model | front end + events | network (with its per-step output) | detector | total instructions "
              "| est. cycles (% of 256,000) | flash | RAM | firmware = reference |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, row in results["models"].items():
        cost = row.get("cost")
        if not cost:
            continue
        i, c = cost["instructions_per_step"], cost["estimated_cycles_per_step"]
        checks = ["demo stream: " + ("yes" if cost["bit_exact_demo"] else "NO")]
        checks += [f"{s} {v['file']} ({v['steps']} steps): " + ("yes" if v["bit_exact"] else "NO")
                   for s, v in row.get("firmware_check", {}).items()]
        lines.append(f"| {name} | {i['frontend']:,} | {i['network']:,} | {i['detector']:,} | **{i['total']:,}** | "
                     f"**{c['total']:,}** ({100 * cost['budget_fraction']:.1f} %) | {cost['flash_used']:,} B | "
                     f"{cost['ram_used']:,} B | {'; '.join(checks)} |")
    return "\n".join(lines)


def _hit(row: dict, name: str) -> str:
    s = row.get(name)
    return f"{s['hits']}/{s['keywords']} = {100 * s['hit_rate']:.1f} %" if s else "-"


def cmd_flite(args) -> None:
    """Independent test: streams spoken by flite voices, never used for training, validation
    or tuning; run once with the detector as tuned."""
    from silifc.kws.audio.corpus import make_streams, write_streams
    from silifc.kws.audio.voices import FLITE_VOICES, Voice
    from silifc.kws.eval import score_probabilities

    folder = streams_root() / "flite"
    if not (folder / "labels.json").exists():
        voices = [Voice("flite", v) for v in FLITE_VOICES]
        streams = make_streams("flite", 16, seed=900, voices=voices, progress=_say, independent_test=True)
        write_streams(streams, folder, prefix="flite-")
    out = {}
    for name, model in _models().items():
        out[name] = score_probabilities(model, _probabilities(model, "flite")).summary()
        print(name, out[name], flush=True)
    (ROOT / "bench" / "kws_flite.json").write_text(json.dumps(out, indent=1) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("corpus").set_defaults(func=cmd_corpus)
    streams = sub.add_parser("streams")
    streams.add_argument("--force", action="store_true")
    streams.set_defaults(func=cmd_streams)
    train = sub.add_parser("train")
    train.add_argument("kind", choices=tuple(ARCH))
    train.add_argument("--from-stage", type=int, choices=(1, *range(3, 3 + len(RESTARTS))), default=1,
                       help="N >= 3: run stages N.. only, from the bundled model as stage N - 1's output "
                            "(default 1: all)")
    train.set_defaults(func=cmd_train)
    tune = sub.add_parser("tune")
    tune.add_argument("kind", choices=tuple(ARCH))
    tune.add_argument("--model", help="tune this file instead of models/kws/kws_KIND.pt")
    tune.add_argument("--dry-run", action="store_true", help="print, do not write the model's meta")
    tune.set_defaults(func=cmd_tune)
    sub.add_parser("wav").set_defaults(func=cmd_wav)
    sub.add_parser("demo", help="re-measure the firmware rows only (cost, firmware = reference)").set_defaults(func=cmd_demo)
    evaluate = sub.add_parser("evaluate")
    evaluate.add_argument("--only", nargs="+", help="models whose name starts with one of these")
    evaluate.add_argument("--no-firmware", action="store_true")
    evaluate.set_defaults(func=cmd_evaluate)
    sub.add_parser("flite").set_defaults(func=cmd_flite)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

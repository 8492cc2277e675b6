"""`silifc` command line."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import ConfigError, SilifcError

DEFAULT_MODEL = "silif_ssc_4ms.pth"


def bundled_model_path(name: str = DEFAULT_MODEL) -> Path:
    """A bundled model file by name, searched in every folder of models/ (paper-ssc, kws,
    timing, ...); the paper-ssc path when no folder has it."""
    from importlib.resources import files

    root = files("silifc.models")
    for folder in sorted((entry for entry in root.iterdir() if entry.is_dir()), key=lambda e: e.name):
        if folder.joinpath(name).is_file():
            return Path(str(folder / name))
    return Path(str(root / "paper-ssc" / name))


def _model_path(value: str) -> Path:
    """A path, or the name of a bundled model (e.g. `silif_ssc_4ms.pth`, `kws_silif.pt`)."""
    path = Path(value)
    if not path.exists() and not path.parent.parts:
        bundled = bundled_model_path(value)
        if bundled.exists():
            return bundled
    return path


def _progress(done: int, total: int) -> None:
    print(f"\r  {done}/{total} samples", end="\n" if done == total else "", file=sys.stderr, flush=True)


def _config_overrides(args) -> dict:
    return {"spatial_bin": args.spatial_bin, "time_step_ms": args.time_step_ms,
            "nb_steps": args.nb_steps, "max_time_s": args.max_time_s}


def _load_counts(args, network):
    """Input events for check/infer: --input file, else seeded random events (said so)."""
    from .inputs import load_input, random_input

    if args.input:
        spikes = load_input(args.input, network.n_inputs, network.config)
        return spikes.counts, spikes.labels, spikes.source
    counts = random_input(network.n_inputs, 8, network.config.nb_steps, 0.02, network.config.spatial_bin, seed=1234)
    return counts, None, "random events (8 samples, 2 % per raw channel, seed 1234; pass --input for real data)"


def _calibration(args, network):
    if not getattr(args, "calibration", None):
        return None
    from .inputs import load_input

    return load_input(args.calibration, network.n_inputs, network.config).counts


def _emit(args, report: dict, text: str) -> None:
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print(text)


def cmd_check(args) -> int:
    from .fold import fold_network
    from .fidelity import compare
    from .float_ref import run_float
    from .int_ref import run_int
    from .native import load_model  # either format: native files carry their own settings
    from .pipeline import WEIGHT_CHOICES, run_batched
    from .quantize import quantize_network

    path = _model_path(args.model)
    network = load_model(path, _config_overrides(args))
    folded = fold_network(network)
    quantized = quantize_network(folded, _calibration(args, network), WEIGHT_CHOICES[args.weights], args.headroom)
    counts, labels, source = _load_counts(args, network)
    progress = None if args.json else _progress
    float_result = run_batched(lambda c: run_float(folded, c), counts, progress=progress)
    int_result = run_batched(lambda c: run_int(quantized, c), counts, progress=progress)
    report = compare(quantized, counts, float_result, int_result, labels)
    arch = " -> ".join(str(w) for w in network.widths)
    kinds = "/".join(layer.kind for layer in network.layers)
    header = (f"model  {path} (sha256 {network.sha256[:12]}...)\n"
              f"arch   {arch} ({kinds})\n"
              f"input  {source}")
    payload = {"model": str(path), "sha256": network.sha256, "widths": list(network.widths),
               "kinds": [layer.kind for layer in network.layers], "input": source, **report.to_dict()}
    _emit(args, payload, header + "\n\n" + report.to_text())
    return 0


def cmd_infer(args) -> int:
    from .fold import fold_network
    from .float_ref import run_float, run_float32
    from .int_ref import run_int
    from .native import load_model  # either format: native files carry their own settings
    from .pipeline import WEIGHT_CHOICES, run_batched
    from .quantize import quantize_network

    path = _model_path(args.model)
    network = load_model(path, _config_overrides(args))
    counts, labels, source = _load_counts(args, network)
    if args.engine == "float":
        folded = fold_network(network)
        engine = lambda c: run_float(folded, c)  # noqa: E731
    elif args.engine == "float32":
        engine = lambda c: run_float32(network, c)  # noqa: E731
    else:
        quantized = quantize_network(fold_network(network), _calibration(args, network),
                                     WEIGHT_CHOICES[args.weights], args.headroom)
        engine = lambda c: run_int(quantized, c)  # noqa: E731
    result = run_batched(engine, counts, progress=None if args.json else _progress)
    if args.out:
        result.save(args.out)
    report = {"model": str(path), "engine": args.engine, "input": source, "samples": int(counts.shape[0]),
              "decisions": result.decisions.tolist(), "outputs": result.outputs_float.tolist(),
              "spikes_per_layer": [int(s.sum()) for s in result.spikes], "out": args.out}
    if labels is not None:
        report["accuracy"] = float((result.decisions == labels).mean())
    lines = [f"engine {args.engine} on {source}: {counts.shape[0]} samples",
             "decisions: " + " ".join(map(str, result.decisions.tolist())),
             "hidden spikes per layer: " + ", ".join(map(str, report["spikes_per_layer"]))]
    if labels is not None:
        lines.append(f"accuracy: {100 * report['accuracy']:.2f} %")
    if args.out:
        lines.append(f"wrote {args.out} (outputs, decisions, spikes_l<k>)")
    _emit(args, report, "\n".join(lines))
    return 0


def cmd_boards(args) -> int:
    from .board import list_boards, load_board

    boards = [load_board(name) for name in list_boards()]
    report = [{"name": b.name, "cpu": b.cpu, "clock_hz": b.clock_hz, "flash": b.flash.size, "ram": b.ram.size,
               "dsp": b.has_dsp, "emulator": b.emulator.machine if b.emulator else None} for b in boards]
    lines = [f"{'board':<12} {'cpu':<14} {'MHz':>5} {'flash KB':>9} {'RAM KB':>7} {'DSP':>4}  emulator"]
    for b in report:
        lines.append(f"{b['name']:<12} {b['cpu']:<14} {b['clock_hz'] / 1e6:>5.0f} {b['flash'] // 1024:>9} "
                     f"{b['ram'] // 1024:>7} {'yes' if b['dsp'] else 'no':>4}  {b['emulator'] or 'none (build only)'}")
    _emit(args, report, "\n".join(lines))
    return 0


def cmd_train(args) -> int:
    import torch

    from .datasets import load_dataset
    from .native import load_module
    from .train import TrainOptions, accuracy, parameter_counts, parse_arch, train

    if args.threads:
        torch.set_num_threads(args.threads)
    data_options = dict(spatial_bin=args.spatial_bin, nb_steps=args.nb_steps, max_time_s=args.max_time_s,
                        time_step_ms=args.time_step_ms, channels=args.channels)
    data = load_dataset(args.data, n_classes=args.classes, **data_options)
    init_state = None
    if args.init:
        if args.arch or args.delays is not None:
            raise ConfigError("--init takes the architecture and delays from the model; drop --arch/--delays")
        init_model, spec = load_module(_model_path(args.init))
        if spec.n_inputs != data.n_inputs:
            raise ConfigError(f"--init model takes {spec.n_inputs} inputs but {data.source} has {data.n_inputs}")
        if args.classes is not None and args.classes != spec.n_classes:
            raise ConfigError(f"--init model has {spec.n_classes} classes, not --classes {args.classes}")
        if data.n_classes > spec.n_classes:
            raise ConfigError(f"{data.source} has labels up to {data.n_classes - 1}; the --init model has "
                              f"{spec.n_classes} classes")
        init_state = init_model.state_dict()
        spec = type(spec)(kinds=spec.kinds, widths=spec.widths, layer_max_delays=spec.layer_max_delays, io=data.io)
    else:
        n_classes = args.classes if args.classes is not None else data.n_classes
        spec = parse_arch(args.arch or "silif:64,silif:64", data.n_inputs, n_classes, args.delays or 0,
                          args.delay_layers, data.io)
    val = None
    from .audio.folders import is_speech_commands

    if not args.val and Path(args.data).is_dir() and is_speech_commands(Path(args.data)):
        args.val = args.data                        # its validation_list.txt
    if args.val:
        v = load_dataset(args.val, n_classes=spec.n_classes, **{**data_options, "channels": args.channels},
                         split="validation")
        val = (v.counts, v.labels, v.mask)
    chosen = dict(epochs=args.epochs, finetune_epochs=args.finetune_epochs, qat_epochs=args.qat_epochs,
                  qat_bits=WEIGHT_BITS[args.qat_weights], batch_size=args.batch_size, lr=args.lr,
                  delay_lr=args.delay_lr, dropout=args.dropout, val_split=args.val_split, seed=args.seed,
                  shards=args.shards)
    options = TrainOptions(**{k: v for k, v in chosen.items() if v is not None}, out=args.out,
                           progress=not args.quiet)
    if not args.quiet:
        counts = parameter_counts(spec)
        print(f"data   {data.source}: {data.counts.shape[0]} samples x {data.counts.shape[1]} steps x "
              f"{data.n_inputs} inputs, {spec.n_classes} classes", file=sys.stderr)
        print(f"model  {' -> '.join(map(str, spec.widths))} ({'/'.join(spec.kinds)}), {counts['weights']} weights"
              + (f", delays 0..{spec.max_delay} steps on layers "
                 f"{[i for i, d in enumerate(spec.layer_max_delays) if d]}" if spec.max_delay else ""),
              file=sys.stderr)
    meta = {"data": data.source}
    if data.classes:
        meta["classes"] = list(data.classes)
        if Path(args.data).is_dir() and not (int(os.environ.get("RANK", "0")) or args.out is None):
            meta["kws"] = _kws_meta_for_audio_folder(data, args.out)
    result = train(data.counts, data.labels, spec, options, val=val, init_state=init_state, meta=meta,
                   mask=data.mask)
    summary = result.summary()
    if args.test:
        test = load_dataset(args.test, n_classes=spec.n_classes, **data_options, split="testing")
        summary["test_accuracy"] = accuracy(result.model, test.counts, test.labels, mask=test.mask)
        summary["test"] = test.source
    if not args.history:
        summary.pop("history")
    best = result.best
    lines = [f"best   {best.get('phase')} epoch {best.get('epoch')}: validation accuracy "
             + (f"{100 * best['val_accuracy']:.2f} %" if best.get("val_accuracy") is not None else "- (no validation data)")
             + (f" (int{best['weight_bits']} weights simulated)" if best.get("weight_bits") else ""),
             f"wrote  {result.out} (silifc native model; use it with check, infer and every other command)"]
    if "test_accuracy" in summary:
        lines.append(f"test   {100 * summary['test_accuracy']:.2f} % (float32 module) on {summary['test']}")
    if os.environ.get("RANK", "0") != "0":          # under torchrun: rank 0 reports
        return 0
    _emit(args, summary, "\n".join(lines))
    return 0


def _kws_meta_for_audio_folder(data, out) -> dict:
    """A model trained on WAV folders is a keyword model: class names, front end, and a
    calibration file (2 training clips per class) beside it, for listen/compile --audio."""
    import numpy as np

    from .audio.frontend import FrontEndConfig

    classes = list(data.classes)
    keywords = sum(1 for name in classes if name not in ("unknown", "silence"))
    if classes[keywords:] != [name for name in classes if name in ("unknown", "silence")]:
        keywords = len(classes)                     # the keyword classes must come first
    calibration = Path(out).with_suffix(".calibration.npz")
    chosen = np.concatenate([np.nonzero(data.labels == k)[0][:2] for k in range(len(classes))])
    calibration.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(calibration, inputs=data.counts[chosen].astype(np.uint8), labels=data.labels[chosen])
    return {"classes": classes, "keywords": keywords, "frontend": FrontEndConfig().to_dict(),
            "calibration": calibration.name}


WEIGHT_BITS = {"int8": 8, "int16": 16}


def _add_train_parser(sub) -> None:
    train = sub.add_parser("train", help="train a SiLIF / C-SiLIF model (optionally with learned delays, QAT)",
                           description="Train on labelled spike data and write the best model in silifc's native "
                                       "format. Progress goes to stderr. See docs/training.md.")
    train.add_argument("data", help="training data: .npz (inputs [N,T,C], labels [N]), SHD/SSC-style .h5, or a "
                       "folder of WAV files (Speech Commands v1/v2 layout, or one folder per label) that goes "
                       "through the keyword front end")
    train.add_argument("--arch", help="hidden layers, KIND:WIDTH comma-separated (default 'silif:64,silif:64'; "
                                      "KIND silif or csilif); the readout is added")
    train.add_argument("--classes", type=int, help="number of classes (default: largest label + 1)")
    train.add_argument("--delays", type=int, metavar="MAX",
                       help="learn per-synapse delays 0..MAX steps (default: no delays)")
    train.add_argument("--delay-layers", choices=("hidden", "all", "first"), default="hidden",
                       help="layers whose input synapses get delays: every layer but the readout (default), "
                            "all (the readout too, as DCLS) or only the first")
    train.add_argument("--epochs", type=int, default=30, help="main training epochs (default 30)")
    train.add_argument("--finetune-epochs", type=int, default=5,
                       help="epochs on the rounded integer delays (default 5; only with --delays)")
    train.add_argument("--qat-epochs", type=int, default=0,
                       help="quantization-aware fine-tuning epochs at the end (default 0)")
    train.add_argument("--qat-weights", choices=("int8", "int16"), default="int8",
                       help="weight format simulated during QAT (default int8)")
    train.add_argument("--batch-size", type=int, default=64, help="default 64")
    train.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default 0.01, the authors')")
    train.add_argument("--delay-lr", type=float, help="Adam learning rate of the delay positions, in steps "
                                                      "(default 0.2)")
    train.add_argument("--dropout", type=float, help="dropout on hidden spikes during training (default 0.1)")
    train.add_argument("--seed", type=int, default=0, help="seed of initialisation, split and shuffling")
    train.add_argument("--val-split", type=float, default=0.1,
                       help="fraction of the data held out for validation (default 0.1)")
    train.add_argument("--val", help="validation data file instead of a split")
    train.add_argument("--test", help="test data file: report the best model's accuracy on it")
    train.add_argument("--init", help="start from this model (either format): keeps its architecture and "
                                      "delays, e.g. for --epochs 0 --qat-epochs 5")
    train.add_argument("--out", default="model.pt", help="best model, native format (default model.pt)")
    train.add_argument("--spatial-bin", type=int, help="raw channels summed per input (default 1 for .npz, "
                                                       "5 for .h5)")
    train.add_argument("--nb-steps", type=int, help="time bins for .h5 event lists (default 300)")
    train.add_argument("--max-time-s", type=float, help="last bin edge for .h5 event lists (default 1.2)")
    train.add_argument("--time-step-ms", type=float, help="duration of one step (default from the binning)")
    train.add_argument("--channels", type=int, help="raw channel count (default: from the data)")
    train.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    train.add_argument("--shards", type=int, help="cut each batch into N parts (batch norm per part, gradients "
                       "averaged): what N torchrun processes compute; set automatically under torchrun")
    train.add_argument("--history", action="store_true", help="include the per-epoch history in --json")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    train.set_defaults(func=cmd_train)


def _add_model_options(parser) -> None:
    parser.add_argument("model", help="checkpoint (.pth) or the name of a bundled model")
    parser.add_argument("--spatial-bin", type=int, help="raw channels per input (default 5: 700 -> 140)")
    parser.add_argument("--time-step-ms", type=float, help="duration of one step (default 4.0)")
    parser.add_argument("--nb-steps", type=int, help="time bins for HDF5 event lists (default 300)")
    parser.add_argument("--max-time-s", type=float, help="last bin edge for HDF5 event lists (default 1.2)")


def _add_quant_options(parser) -> None:
    from .quantize import DEFAULT_HEADROOM

    parser.add_argument("--weights", choices=("int8", "int16"), default="int8", help="weight format (default int8)")
    parser.add_argument("--headroom", type=float, default=DEFAULT_HEADROOM,
                        help=f"state range factor above the calibration maximum (default {DEFAULT_HEADROOM:g})")
    parser.add_argument("--calibration", help="input file to calibrate state formats on (default: seeded random events)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="silifc", description=__doc__)
    parser.add_argument("--version", action="version", version=f"silifc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="float vs integer reference fidelity table")
    _add_model_options(check)
    _add_quant_options(check)
    check.add_argument("--input", help="spike input: .npy, .npz or SHD/SSC-style .h5")
    check.add_argument("--json", action="store_true", help="machine-readable report")
    check.set_defaults(func=cmd_check)

    infer = sub.add_parser("infer", help="run one engine and write outputs, decisions and spikes")
    _add_model_options(infer)
    _add_quant_options(infer)
    infer.add_argument("--input", help="spike input: .npy, .npz or SHD/SSC-style .h5")
    infer.add_argument("--engine", choices=("float", "float32", "int"), default="int",
                       help="float: float64 reference; float32: the authors' order; int: bit-exact integer reference")
    infer.add_argument("--out", help="write results to this .npz")
    infer.add_argument("--json", action="store_true", help="machine-readable report")
    infer.set_defaults(func=cmd_infer)

    _add_train_parser(sub)

    from .cli_firmware import add_commands as add_firmware_commands

    add_firmware_commands(sub, _add_model_options, _add_quant_options)
    from .cli_audio import add_commands as add_audio_commands

    add_audio_commands(sub, _add_model_options, _add_quant_options)

    boards = sub.add_parser("boards", help="list the boards silifc can compile for")
    boards.add_argument("--json", action="store_true", help="machine-readable list")
    boards.set_defaults(func=cmd_boards)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SilifcError as exc:
        print(f"silifc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`silifc train`: train a SiLIF / C-SiLIF model (docs/training.md)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import ConfigError
from ..io.models import resolve_model
from ..ir import WEIGHT_FORMATS
from .common import emit


def cmd_train(args) -> int:
    import torch

    from ..io.datasets import load_dataset
    from ..reference.nn import load_module
    from ..train.training import (TrainOptions, accuracy, check_device, check_max_delay, delay_ram_warning,
                                  parameter_counts, parse_arch, train)

    if args.delays is not None:
        check_max_delay(args.delays)          # before loading data: the firmware's limit
    if args.device:
        check_device(args.device)             # before loading data
    if args.threads:
        torch.set_num_threads(args.threads)
    data_options = dict(spatial_bin=args.spatial_bin, nb_steps=args.nb_steps, max_time_s=args.max_time_s,
                        time_step_ms=args.time_step_ms, channels=args.channels)
    data = _load_data(args.data, "training", args.classes, data_options)
    init_state = None
    if args.init:
        if args.arch or args.delays is not None:
            raise ConfigError("--init takes the architecture and delays from the model; drop --arch/--delays")
        init_model, spec = load_module(resolve_model(args.init))
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
    warning = delay_ram_warning(spec)
    if warning:
        print(f"silifc: warning: {warning}", file=sys.stderr)
    val = None
    from ..kws.audio.folders import is_speech_commands

    if not args.val and Path(args.data).is_dir() and is_speech_commands(Path(args.data)):
        args.val = args.data                        # its validation_list.txt
    if args.val:
        v = _load_data(args.val, "validation", spec.n_classes, {**data_options, "channels": args.channels})
        val = (v.counts, v.labels, v.mask)
    chosen = dict(epochs=args.epochs, finetune_epochs=args.finetune_epochs, qat_epochs=args.qat_epochs,
                  qat_bits=WEIGHT_FORMATS[args.qat_weights], batch_size=args.batch_size, lr=args.lr,
                  delay_lr=args.delay_lr, dropout=args.dropout, val_split=args.val_split, seed=args.seed,
                  shards=args.shards, loss=args.loss, device=args.device)
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
        if Path(args.data).is_dir() and os.environ.get("RANK", "0") == "0":
            meta["kws"] = _kws_meta_for_audio_folder(data, args.out)
    result = train(data.counts, data.labels, spec, options, val=val, init_state=init_state, meta=meta,
                   mask=data.mask)
    summary = result.summary()
    if args.test:
        test = _load_data(args.test, "testing", spec.n_classes, data_options)
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
    emit(args, summary, "\n".join(lines))
    return 0


def _load_data(path: str, split: str, n_classes, data_options):
    """A dataset file (silifc.io.datasets), or a folder of WAV files through the keyword front
    end (Speech Commands layout: its `split`; folder per label: everything)."""
    from ..io.datasets import load_dataset

    if not Path(path).is_dir():
        return load_dataset(path, n_classes=n_classes, **data_options)
    import dataclasses

    from ..io.datasets import Dataset
    from ..io.inputs import check_dataset
    from ..ir import ModelConfig
    from ..kws.audio.folders import load_audio_folder

    folder = load_audio_folder(path, split=split)
    counts, labels = check_dataset(folder.counts, folder.labels, n_classes or len(folder.classes), path)
    steps = counts.shape[1]
    io = dataclasses.replace(ModelConfig(), spatial_bin=1, time_step_ms=4.0, nb_steps=steps,
                             max_time_s=(steps - 1) * 0.004)
    return Dataset(counts=counts, labels=labels, io=io, source=f"{path} ({folder.layout}, {split})",
                   classes=folder.classes)


def _kws_meta_for_audio_folder(data, out) -> dict:
    """A model trained on WAV folders is a keyword model: class names, front end, and a
    calibration file (2 training clips per class) beside it, for listen/compile --audio."""
    import numpy as np

    from ..kws.audio.frontend import FrontEndConfig

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


def add_commands(sub) -> None:
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
                       help="learn per-synapse delays 0..MAX steps, MAX <= 255 (default: no delays)")
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
    train.add_argument("--device", help="where the training steps run: cpu (default) or cuda[:N]; validation and "
                                        "the saved model stay on the CPU")
    train.add_argument("--loss", choices=("sum-softmax", "framewise"),
                       help="sum-softmax (default, the authors': CE on the sum over time of the softmax) or "
                            "framewise (per-step cross entropy over the masked steps: peaked per-step "
                            "probabilities for a streaming detector)")
    train.add_argument("--shards", type=int, help="cut each batch into N parts (batch norm per part, gradients "
                       "averaged): what N torchrun processes compute; set automatically under torchrun")
    train.add_argument("--history", action="store_true", help="include the per-epoch history in --json")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    train.set_defaults(func=cmd_train)

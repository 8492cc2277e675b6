"""Delays vs no delays on the timing task, float and integer, and QAT before/after.

    .venv/bin/python bench/delay_task.py [--seeds 0 1 2] [--epochs 25] [--qat-epochs 4] [--json out.json]

For every seed it trains (CPU, one thread, a few minutes in all):

* `no delays`          silif:16            640 weights
* `delays`             silif:16, delays 0..15 steps on the input synapses: 640 weights + 512 integer delays
* `no delays, 2 layers` silif:12,silif:12  624 weights (same weight count, more depth)
* `no delays, wide`    silif:28            1120 weights (~ the delay model's weights + delays)

and evaluates each best model on the test set with the float32 module, the compiler's
float64 reference (native file -> IR -> folded constants) and the bit-exact integer
reference at int8 and int16 weights. Then each of the first two models is fine-tuned with
int8 weights simulated (QAT, starting from the saved file) and evaluated again.
The printed table is what docs/training.md reports.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from silifc.passes.fold import fold_network
from silifc.reference.float_ref import run_float
from silifc.reference.int_ref import run_int
from silifc.ir import ModelConfig
from silifc.io.models import load_model
from silifc.reference.nn import load_module
from silifc.pipeline import run_batched
from silifc.passes.quantize import quantize_network
from silifc.train.tasks import TimingTask, make_timing_task
from silifc.train.training import TrainOptions, accuracy, parameter_counts, parse_arch, train

MODELS = [("no delays", "silif:16", 0), ("delays", "silif:16", 15),
          ("no delays, 2 layers", "silif:12,silif:12", 0), ("no delays, wide", "silif:28", 0)]
QAT_MODELS = ("no delays", "delays")


def evaluate(path, x_test, y_test, calibration):
    network = load_model(path)
    folded = fold_network(network)
    module, _ = load_module(path)
    row = {"float32": accuracy(module, x_test, y_test)}
    reference = run_batched(lambda c: run_float(folded, c), x_test, batch=200)
    row["float64_ref"] = float((reference.decisions == y_test).mean())
    row["module_vs_ref_spikes_equal"] = bool(all(
        np.array_equal(a, b) for a, b in zip(reference.spikes, _module_spikes(module, x_test))))
    for bits in (8, 16):
        quantized = quantize_network(folded, calibration, bits)
        result = run_batched(lambda c: run_int(quantized, c), x_test, batch=200)
        row[f"int{bits}"] = float((result.decisions == y_test).mean())
    return row


def _module_spikes(module, x):
    """Hidden spikes of the module in float64 (the float64 reference's precision)."""
    module = module.double().eval()
    with torch.no_grad():
        _, spikes = module(torch.as_tensor(x, dtype=torch.float64))
    module.float()
    return [s.numpy().astype(np.uint8) for s in spikes]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--qat-epochs", type=int, default=4, help="QAT epochs (and control fine-tune epochs)")
    parser.add_argument("--json", help="write all numbers here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    task = TimingTask()
    x_train, y_train, x_test, y_test = make_timing_task(task)
    calibration = x_train[:64]
    io = ModelConfig(spatial_bin=1, time_step_ms=4.0, nb_steps=task.steps, max_time_s=0.004 * (task.steps - 1))
    rows = []
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for name, arch, max_delay in MODELS:
                spec = parse_arch(arch, task.n_inputs, task.n_classes, max_delay, "hidden", io)
                path = Path(tmp) / f"{name.replace(' ', '_').replace(',', '')}_{seed}.pt"
                t0 = time.time()
                result = train(x_train, y_train, spec, TrainOptions(epochs=args.epochs, finetune_epochs=3, seed=seed,
                                                                    out=path, progress=False))
                row = {"model": name, "arch": arch, "max_delay": max_delay, "seed": seed,
                       **parameter_counts(spec), "val": result.best["val_accuracy"],
                       "train_s": round(time.time() - t0, 1), **evaluate(path, x_test, y_test, calibration)}
                if name in QAT_MODELS:
                    init, _ = load_module(path)
                    qat_path = path.with_name(path.stem + "_qat.pt")
                    t0 = time.time()
                    train(x_train, y_train, spec, TrainOptions(epochs=0, qat_epochs=args.qat_epochs, seed=seed,
                                                               out=qat_path, progress=False),
                          init_state=init.state_dict())
                    after = evaluate(qat_path, x_test, y_test, calibration)
                    row.update({"qat_s": round(time.time() - t0, 1), "qat_float32": after["float32"],
                                "qat_int8": after["int8"], "qat_int16": after["int16"]})
                    # Control: the same number of epochs at the same learning rate without QAT.
                    plain_path = path.with_name(path.stem + "_plain.pt")
                    options = TrainOptions(epochs=args.qat_epochs, lr=TrainOptions().qat_lr, seed=seed,
                                           out=plain_path, progress=False)
                    train(x_train, y_train, spec, options, init_state=init.state_dict())
                    plain = evaluate(plain_path, x_test, y_test, calibration)
                    row.update({"plain_ft_float32": plain["float32"], "plain_ft_int8": plain["int8"]})
                rows.append(row)
                print(f"  seed {seed} {name}: " + ", ".join(
                    f"{k} {100 * v:.1f}" for k, v in row.items() if k in ("float32", "int8", "int16", "qat_int8")),
                    file=sys.stderr, flush=True)
    total = time.time() - started
    print(table(rows, task, args, total))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "seconds": total, "task": task.__dict__}, indent=1))
    return 0


def table(rows, task, args, total) -> str:
    def stat(name, key):
        values = [100 * r[key] for r in rows if r["model"] == name and key in r]
        if not values:
            return "-"
        return f"{np.mean(values):.1f} ({min(values):.1f}-{max(values):.1f})"

    lines = [f"timing task: {task.n_inputs} inputs, {task.steps} steps, {task.n_classes} classes, "
             f"{task.n_train} train ({int(0.1 * task.n_train)} of them validation) / {task.n_test} test; "
             f"seeds {args.seeds}; {args.epochs} epochs; {total:.0f} s",
             "test accuracy %, mean (min-max) over seeds",
             "| model | weights | int delays | float32 module | float64 ref | int8 | int16 | int8 after QAT "
             "| float after QAT | int8 after plain fine-tune (control) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, _, _ in MODELS:
        first = next(r for r in rows if r["model"] == name)
        lines.append(f"| {name} ({first['arch']}) | {first['weights']} | {first['delays']} | {stat(name, 'float32')} | "
                     f"{stat(name, 'float64_ref')} | {stat(name, 'int8')} | {stat(name, 'int16')} | "
                     f"{stat(name, 'qat_int8')} | {stat(name, 'qat_float32')} | {stat(name, 'plain_ft_int8')} |")
    exact = all(r["module_vs_ref_spikes_equal"] for r in rows)
    lines.append(f"float64 module vs float64 reference: hidden spikes identical on every test sample: {exact}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

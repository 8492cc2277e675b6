"""What every command shares: model and quantization options, model and input loading,
progress and report printing."""
from __future__ import annotations

import json
import sys

from ..io.inputs import load_input, random_input
from ..io.models import load_model, resolve_model
from ..passes.quantize import DEFAULT_HEADROOM
from ..pipeline import Options


def say(message: str) -> None:
    """A progress or status line on stderr (stdout stays for the report)."""
    print(f"silifc: {message}", file=sys.stderr, flush=True)


def progress(done: int, total: int) -> None:
    print(f"\r  {done}/{total} samples", end="\n" if done == total else "", file=sys.stderr, flush=True)


def config_overrides(args) -> dict:
    return {"spatial_bin": args.spatial_bin, "time_step_ms": args.time_step_ms,
            "nb_steps": args.nb_steps, "max_time_s": args.max_time_s}


def load_network(args):
    """(path, raw network) of the command's MODEL argument."""
    path = resolve_model(args.model)
    return path, load_model(path, config_overrides(args))


def load_counts(args, network):
    """Input events for check/infer/run: --input file, else seeded random events (said so)."""
    if args.input:
        spikes = load_input(args.input, network.n_inputs, network.config)
        return spikes.counts, spikes.labels, spikes.source
    counts = random_input(network.n_inputs, 8, network.config.nb_steps, 0.02, network.config.spatial_bin, seed=1234)
    return counts, None, "random events (8 samples, 2 % per raw channel, seed 1234; pass --input for real data)"


def calibration_counts(args, network):
    if not getattr(args, "calibration", None):
        return None
    return load_input(args.calibration, network.n_inputs, network.config).counts


def pipeline_options(args, network, **more) -> Options:
    """The pipeline options the model and quantization options give."""
    return Options(weights=args.weights, headroom=args.headroom, calibration=calibration_counts(args, network),
                   config_overrides=config_overrides(args), **more)


def emit(args, report: dict, text: str) -> None:
    """The command's report: JSON with --json, else the text."""
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print(text)


def add_model_options(parser) -> None:
    parser.add_argument("model", help="checkpoint (.pth) or the name of a bundled model")
    parser.add_argument("--spatial-bin", type=int, help="raw channels per input (default 5: 700 -> 140)")
    parser.add_argument("--time-step-ms", type=float, help="duration of one step (default 4.0)")
    parser.add_argument("--nb-steps", type=int, help="time bins for HDF5 event lists (default 300)")
    parser.add_argument("--max-time-s", type=float, help="last bin edge for HDF5 event lists (default 1.2)")


def add_quant_options(parser) -> None:
    parser.add_argument("--weights", choices=("int8", "int16"), default="int8", help="weight format (default int8)")
    parser.add_argument("--headroom", type=float, default=DEFAULT_HEADROOM,
                        help=f"state range factor above the calibration maximum (default {DEFAULT_HEADROOM:g})")
    parser.add_argument("--calibration", help="input file to calibrate state formats on (default: seeded random events)")

"""What every command shares: model and quantization options, model and input loading,
progress and report printing."""
from __future__ import annotations

import json
import sys

import warnings

from .. import api
from ..io.nir.dialects import DIALECTS
from ..progress import Reporter
from ..passes.quantize import DEFAULT_HEADROOM


def say(message: str) -> None:
    """A progress or status line on stderr (stdout stays for the report)."""
    print(f"silifc: {message}", file=sys.stderr, flush=True)


def progress(desc: str = "samples", unit: str = "sample", args=None) -> Reporter | None:
    """A progress bar callback (done, total) for long work; None with --json (nothing on stderr
    but errors and status lines)."""
    if args is not None and getattr(args, "json", False):
        return None
    return Reporter(desc, unit)


def config_overrides(args) -> dict:
    return {"spatial_bin": args.spatial_bin, "time_step_ms": args.time_step_ms,
            "nb_steps": args.nb_steps, "max_time_s": args.max_time_s,
            "nir_dialect": args.nir_dialect, "nir_dt": args.dt}


def load_model(args):
    """The command's MODEL argument loaded through the Python API (silifc.api.load)."""
    return api.load(args.model, **{k: v for k, v in config_overrides(args).items() if v is not None})


def quantize(args, model, board=None):
    """The model quantized with the command's options; says on stderr what it was calibrated on,
    and warns when that is random events. board: refuse a model that cannot fit it first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.CalibrationWarning)     # said below, once, in the CLI's words
        quantized = model.quantize(weights=args.weights, calibration=getattr(args, "calibration", None),
                                   headroom=args.headroom, board=board,
                                   synapses=getattr(args, "synapses", None) or "event")
    say_calibration(quantized.calibration)
    return quantized


def say_calibration(calibration) -> None:
    if calibration.random:
        say(f"warning: calibrating the state formats on {calibration.source}")
    else:
        say(f"calibration: {calibration.source}")


def emit(args, report: dict, text: str) -> None:
    """The command's report: JSON with --json, else the text."""
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print(text)


def add_model_options(parser) -> None:
    parser.add_argument("model", help="checkpoint (.pth), NIR graph (.nir) or the name of a bundled model")
    parser.add_argument("--nir-dialect", choices=tuple(DIALECTS),
                        help="NIR graphs: the simulator whose discretization to reproduce, when the file's metadata "
                             "does not name it (docs/nir.md)")
    parser.add_argument("--dt", type=float, help="NIR graphs: the step (seconds) the time constants are read with "
                                                 "(default: the file's metadata, else the dialect's: snntorch 1e-4, "
                                                 "norse 1e-3)")
    parser.add_argument("--spatial-bin", type=int, help="raw channels per input (default 5: 700 -> 140)")
    parser.add_argument("--time-step-ms", type=float, help="duration of one step (default 4.0)")
    parser.add_argument("--nb-steps", type=int, help="time bins for HDF5 event lists (default 300)")
    parser.add_argument("--max-time-s", type=float, help="last bin edge for HDF5 event lists (default 1.2)")


def add_quant_options(parser) -> None:
    parser.add_argument("--weights", choices=("int8", "int16"), default="int8", help="weight format (default int8)")
    parser.add_argument("--headroom", type=float, default=DEFAULT_HEADROOM,
                        help=f"state range factor above the calibration maximum (default {DEFAULT_HEADROOM:g})")
    parser.add_argument("--calibration", help="input file to calibrate the state formats on (default: the data the "
                                              "model carries, e.g. a sidecar's [quantize] calibration, else seeded "
                                              "random events, with a warning)")

#!/usr/bin/env python3
"""What narrower neuron states would cost in fidelity: the paper models with their states held
in 32, 24, 20, 18 or 16 bits instead of int32.

The runtime keeps SiLIF and C-SiLIF states in int32 (docs/fixed-point.md). A neuron update
that works on two 16-bit states per instruction would be the way below ~30 estimated cycles
per neuron (docs/cycles.md, "Why the neuron update keeps 32-bit states"); this script measures
what it would lose. A state of b bits with the quantizer's headroom h has the fractional bits F
that an int32 state has with headroom h * 2^(32 - b) (quantize.choose_frac_bits:
F = floor(log2((2^31 - 1) / (headroom * peak)))), so each row is the current integer
specification quantized at that headroom: same arithmetic, F lowered by 32 - b. The quantizer
refuses F < MIN_FRAC_BITS (the threshold itself becomes coarse); this script lifts that
refusal, because the point is to measure what it protects against, and marks the rows it
would have refused.

Per row, on the golden inputs (8 samples x 300 steps) against the float64 reference: each
hidden layer's F, the largest |state| reached as a share of the b-bit range (above 1: a b-bit
state would have overflowed), the spike flip rate (run as a network, and the layer alone on
the float reference's input spikes), the output's relative error and decision agreement.

    .venv/bin/python bench/state_width.py [--out bench/state_width.md]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

import numpy as np

from silifc.io.inputs import spatial_binning
from silifc.passes import quantize
from silifc.pipeline import run_pipeline
from silifc.reference import fidelity, int_ref
from silifc.reference.float_ref import run_float

ROOT = Path(__file__).resolve().parents[1]
MODELS = {kind: ROOT / "models" / "paper-ssc" / f"{kind}_ssc_4ms.pth" for kind in ("silif", "csilif")}
GOLDEN_INPUT = ROOT / "models" / "paper-ssc" / "sample_inputs.npz"
# (state bits, headroom): the deployed format, then narrower ones at the default headroom, and
# 16 bits with the headroom squeezed to 1.25 (the calibration maximum plus a quarter).
ROWS = ((32, quantize.DEFAULT_HEADROOM), (24, quantize.DEFAULT_HEADROOM), (20, quantize.DEFAULT_HEADROOM),
        (18, quantize.DEFAULT_HEADROOM), (16, quantize.DEFAULT_HEADROOM), (16, 1.25))


def measure(kind: str, counts: np.ndarray) -> list[dict]:
    folded = run_pipeline(MODELS[kind], until="fold").folded
    x = spatial_binning(counts, folded.n_inputs, folded.config.spatial_bin, str(GOLDEN_INPUT))
    float_result = run_float(folded, x)
    rows = []
    for bits, headroom in ROWS:
        print(f"{kind}: {bits}-bit states, headroom {headroom:g}", file=sys.stderr, flush=True)
        with mock.patch.object(quantize, "MIN_FRAC_BITS", 1):
            quantized = quantize.quantize_network(folded, headroom=headroom * 2.0 ** (32 - bits))
        report = fidelity.compare(quantized, x, float_result, int_ref.run_int(quantized, x))
        rows.append({
            "model": kind, "bits": bits, "headroom": headroom,
            "frac_bits": [layer.frac_bits for layer in report.layers],
            "range_used": [layer.peak_int * 2.0 ** layer.frac_bits / 2.0 ** (bits - 1) for layer in report.layers],
            "flips": [layer.flip_rate for layer in report.layers],
            "flips_alone": [layer.flip_rate_alone for layer in report.layers],
            "refused": any(layer.frac_bits < quantize.MIN_FRAC_BITS for layer in report.layers),
            "output_relative_error": report.output_relative_error,
            "decisions": round(report.decision_agreement * report.samples), "samples": report.samples})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| model | state bits | headroom | F per hidden layer | largest state / range | spike flips (network) "
             "| flips (layer alone) | output rel. error | decisions = float |",
             "|---|---:|---:|---|---|---|---|---:|---:|"]
    for row in rows:
        joined = lambda values, fmt: " / ".join(fmt.format(v) for v in values)  # noqa: E731
        refused = " (refused: F < 8)" if row["refused"] else ""
        lines.append(f"| {row['model']} | {row['bits']} | {row['headroom']:g} | {joined(row['frac_bits'], '{}')}{refused} "
                     f"| {joined(row['range_used'], '{:.2f}')} | {joined([100 * v for v in row['flips']], '{:.2f} %')} "
                     f"| {joined([100 * v for v in row['flips_alone']], '{:.2f} %')} "
                     f"| {row['output_relative_error']:.2e} | {row['decisions']}/{row['samples']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args(argv)
    counts = np.load(GOLDEN_INPUT)["inputs"]
    rows = [row for kind in MODELS for row in measure(kind, counts)]
    text = table(rows)
    print(text)
    if args.out:
        args.out.write_text(
            "# Neuron state width vs fidelity (paper models, golden inputs)\n\nGenerated by `bench/state_width.py` "
            "(see its docstring and docs/cycles.md); do not edit by hand. Flip rates per hidden layer "
            "(layer 0 / layer 1); largest state / range above 1 means a state of that width would have "
            "overflowed.\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""NIR producer networks end to end: python bench/nir_roundtrip.py [--out bench/nir_roundtrip.md]

For each network built in snnTorch / Norse (tests/nir_producers.py; 12 inputs -> 16 -> 5) on
the fixed input (6 samples x 80 steps): spikes of silifc's float64 reference vs the producer's
(mismatches per spiking layer), integer flip rates against the float64 reference (int8 /
int16 weights, per spiking layer, end to end; default calibration), and the firmware on
nrf52840 in QEMU (mps2-an386): bit-exact against the integer reference (outputs and every
spike), executed instructions and estimated Cortex-M4 cycles per step (the counting plugin's
timing model, zero wait states, docs/cycles.md), mean (max over steps), with int8 weights.
Everything runs through the pipeline (run_pipeline) as `silifc run` does.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main(argv=None) -> int:
    import nir_producers as producers
    from silifc.codegen.boards import load_board
    from silifc.pipeline import Artifacts, Options, run_pipeline
    from silifc.reference.float_ref import run_float
    from silifc.reference.int_ref import run_int

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    counts = producers.fixed_input()
    board = load_board("nrf52840")
    head = ("| producer | network | kinds | float vs producer (spike mismatches) | int8 flips % | int16 flips % | "
            "firmware = int (int8, int16) | instr/step int8 (max) | est. cycles/step int8 (max) | flash / RAM B (int8) |")
    rows = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for producer, kinds, build in (("snntorch", ("leaky", "synaptic", "recurrent", "rsynaptic"),
                                        producers.snntorch_network),
                                       ("norse", ("lifbox", "cuba", "iaf", "recurrent"), producers.norse_network)):
            for kind in kinds:
                path, spikes, _ = build(kind, tmp, counts)
                folded = run_pipeline(path, Options(config_overrides={"nir_dialect": producer}), until="fold")
                network = folded.folded
                reference = run_float(network, counts)
                mismatches = [int((a != b).sum()) for a, b in zip(spikes, reference.spikes)]
                flips, exact, cost = {}, [], None
                for bits in (8, 16):
                    options = Options(weights=f"int{bits}", board=board, inputs=counts, record_spikes=True,
                                      output=Path(tmp) / f"{producer}-{kind}-{bits}")
                    done = run_pipeline(Artifacts(source=path, network=folded.network, folded=network), options,
                                        until="run")
                    result = run_int(done.quantized, counts)
                    flips[bits] = "/".join(f"{100 * (a != b).mean():.3f}" for a, b in zip(result.spikes, reference.spikes))
                    report = done.report
                    fw = report.result
                    exact.append(bool(np.array_equal(fw.outputs, result.outputs) and
                                      all(np.array_equal(a, b) for a, b in zip(fw.spikes, result.spikes))))
                    if bits == 8:
                        cost = (report.instructions_per_step, int(report.step_instructions.max()),
                                report.cycles_per_step, int(report.step_phase_cycles.sum(axis=1).max()),
                                report.flash_used, report.ram_used)
                kinds = "/".join(layer.kind for layer in network.layers)
                row = (f"| {producer} | {kind} | {kinds} | {mismatches} | {flips[8]} | {flips[16]} | "
                       f"{'yes' if exact[0] else 'NO'}, {'yes' if exact[1] else 'NO'} | {cost[0]:,.0f} ({cost[1]:,}) | "
                       f"{cost[2]:,.0f} ({cost[3]:,}) | {cost[4]:,} / {cost[5]:,} |")
                rows.append(row)
                print(row, flush=True)
    table = "\n".join(rows)
    print("\n" + table)
    if args.out:
        Path(args.out).write_text("# NIR producer networks (python bench/nir_roundtrip.py)\n\n" + __doc__.split("\n", 2)[2]
                                  + "\n" + table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

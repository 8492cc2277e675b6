"""NIR producer networks end to end: python bench/nir_roundtrip.py [--out bench/nir_roundtrip.md]

For each network built in snnTorch / Norse (tests/nir_producers.py) on the fixed input
(6 samples x 80 steps): spikes of silifc's float64 reference vs the producer's, integer
flip rates (int8 / int16 weights, every spiking layer, end to end), and the firmware on
nrf52840 in QEMU: bit-exact against the integer reference (outputs and every spike),
executed instructions per step (one instruction counted as one cycle: no cycle model).
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
    from silifc.board import load_board
    from silifc.codegen_spiking import build_spiking_firmware, run_spiking_model
    from silifc.nir_import import load_nir
    from silifc.spiking_quant import quantize_spiking, run_spiking_int
    from silifc.spiking_ref import run_spiking_float

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    counts = producers.fixed_input()
    board = load_board("nrf52840")
    head = ("| producer | network | kinds | float vs producer (spike mismatches) | int8 flips % | int16 flips % | "
            "firmware = int (int8, int16) | instr/step int8 (max) | flash / RAM B (int8) |")
    rows = [head, "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for producer, kinds, build in (("snntorch", ("leaky", "synaptic", "recurrent", "rsynaptic"),
                                        producers.snntorch_network),
                                       ("norse", ("lifbox", "cuba", "iaf", "recurrent"), producers.norse_network)):
            for kind in kinds:
                path, spikes, _ = build(kind, tmp, counts)
                network = load_nir(path, dialect=producer)
                reference = run_spiking_float(network, counts)
                mismatches = [int((a != b).sum()) for a, b in zip(spikes, reference.spikes)]
                flips, exact, cost = {}, [], None
                for bits in (8, 16):
                    quantized = quantize_spiking(network, weight_bits=bits)
                    result = run_spiking_int(quantized, counts)
                    flips[bits] = "/".join(f"{100 * (a != b).mean():.3f}" for a, b in zip(result.spikes, reference.spikes))
                    project, image = build_spiking_firmware(quantized, board, f"int{bits}",
                                                            work_dir=Path(tmp) / f"{producer}-{kind}-{bits}")
                    report = run_spiking_model(project, image, quantized, counts)
                    fw = report.result
                    exact.append(bool(np.array_equal(fw.outputs, result.outputs) and
                                      all(np.array_equal(a, b) for a, b in zip(fw.spikes, result.spikes))))
                    if bits == 8:
                        cost = (report.instructions_per_step, int(report.step_instructions.max()),
                                report.flash_used, report.ram_used)
                row = (f"| {producer} | {kind} | {'/'.join(network.kinds)} | {mismatches} | {flips[8]} | {flips[16]} | "
                       f"{'yes' if exact[0] else 'NO'}, {'yes' if exact[1] else 'NO'} | {cost[0]:,.0f} ({cost[1]:,}) | "
                       f"{cost[2]:,} / {cost[3]:,} |")
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

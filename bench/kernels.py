#!/usr/bin/env python3
"""Executed instructions per synaptic operation and per neuron update of the C runtime.

Builds runtime_c/bench/slf_bench.c with the runtime for a board (default nrf52840,
Cortex-M4F) twice, with the DSP path and with the portable C path (SLF_USE_DSP=0), runs
both in QEMU under the exact instruction-counting plugin and prints one row per kernel
call: its work units (synaptic operations = weights added, or neurons), the executed
instructions of the call (marker overhead of ~4 instructions included) and their ratio, and on
a Cortex-M4 the estimated cycles per unit (the plugin's cycle model, docs/cycles.md).

    .venv/bin/python bench/kernels.py [--board nrf52840] [--markdown]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "runtime_c"
MARKERS = [f"slf_bench_mark_{i:02d}" for i in range(26)] + ["slf_bench_mark_idle"]


@dataclass(frozen=True)
class Row:
    name: str
    units: int
    instructions: int
    cycles: int | None = None     # estimated Cortex-M4 cycles (docs/cycles.md), None without a cycle model

    @property
    def per_unit(self) -> float:
        return self.instructions / self.units

    @property
    def cycles_per_unit(self) -> float | None:
        return None if self.cycles is None else self.cycles / self.units


def measure(board_name: str = "nrf52840", dsp: bool = True, out_dir: Path | None = None) -> list[Row]:
    """Build and run the benchmark firmware; one Row per benchmark, in firmware order."""
    from silifc.codegen.boards import load_board
    from silifc.codegen.runtime import runtime_sources
    from silifc.target.qemu import cycle_model_for, run_firmware
    from silifc.target.toolchain import build_firmware

    board = load_board(board_name)
    with tempfile.TemporaryDirectory(prefix="slf-bench-") as tmp:
        work = Path(out_dir or tmp)
        sources = [*runtime_sources(dsp, RUNTIME), RUNTIME / "bench" / "slf_bench.c"]
        image = build_firmware(sources, [RUNTIME / "include"], board, work, defines={"SLF_USE_DSP": int(dsp)},
                               opt="-O2", extra_cflags=("-std=c99", "-Werror"),
                               name=f"bench_{board_name}_{'dsp' if dsp else 'c'}")
        run = run_firmware(image, board, markers=MARKERS, cycle_model=cycle_model_for(board))
    if run.exit_status != 0:
        raise RuntimeError(f"benchmark firmware reported {run.exit_status} failing kernel calls:\n{run.stdout}")
    rows = []
    for line in run.stdout.splitlines():
        index, rest = line.split(" ", 1)
        name, units = rest.rsplit(" ", 1)
        bucket = run.buckets[MARKERS[int(index)]]
        rows.append(Row(name, int(units), bucket.instructions, bucket.cycles))
    return rows


def table(results: dict[str, list[Row]], markdown: bool = False) -> str:
    paths = list(results)
    first = results[paths[0]]
    cycled = [p for p in paths if first and results[p][0].cycles is not None]
    header = (["kernel call", "units"] + [f"{p}: instructions" for p in paths] + [f"{p}: per unit" for p in paths]
              + [f"{p}: est. cycles per unit" for p in cycled])
    lines = []
    for i, row in enumerate(first):
        cells = [row.name, str(row.units)]
        cells += [f"{results[p][i].instructions:,}" for p in paths]
        cells += [f"{results[p][i].per_unit:.2f}" for p in paths]
        cells += [f"{results[p][i].cycles_per_unit:.2f}" for p in cycled]
        lines.append(cells)
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines)]
    fmt = lambda cells: "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in lines])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--board", default="nrf52840", help="a board with an emulator and the DSP extension")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    results = {"DSP": measure(args.board, dsp=True), "portable": measure(args.board, dsp=False)}
    print(f"Executed instructions on {args.board} (QEMU, insncount plugin) and, for a Cortex-M4, its estimated "
          f"cycles (docs/cycles.md); units = synaptic operations (weights added) for accumulate_*, neurons otherwise.")
    print(table(results, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())

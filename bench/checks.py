#!/usr/bin/env python3
"""Benchmark: what step()'s input checks cost (issue 18, item 4: the generated C API is total).

bench/run.py counts a step from its first phase marker, so the checks at the top of step()
(context, pointers, the summed per-input event limit) are outside its columns. This script
measures them by difference: for each paper model on nrf52840 (event-driven, golden inputs)
it builds the generated project three times, differing only in the check of the events in
step():

  summed   as generated: one pass adds every count; only a step whose counts together exceed
           MAX_EVENT_COUNT sums them per input (<prefix>_ctx.input_counts)
  per-event  the check main generated before issue 18: each count alone against the limit
           (only when MAX_EVENT_COUNT < 255), repeats of an index not summed
  none     no check of the counts at all

runs each in QEMU under the counting plugin on the same input and reports the whole run's
instructions and estimated Cortex-M4 cycles per step (harness I/O included, identical in all
three, so only the differences mean anything), the worst-case stack of step() from gcc's call
graph, and how many steps took the per-input pass. Every build is checked bit for bit against
the integer reference.

    .venv/bin/python bench/checks.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("silif_ssc_4ms.pth", "csilif_ssc_4ms.pth")
BOARD = "nrf52840"
GOLDEN_INPUT = ROOT / "models" / "paper-ssc" / "sample_inputs.npz"
VARIANTS = ("summed", "per-event", "none")


def variant_source(source: str, prefix: str, max_event_count: int, variant: str) -> str:
    """model.c with step()'s event check replaced by the variant's."""
    call = f"    {prefix.upper()}_RETURN_IF_FAILED({prefix}_check_events(ctx, events, n_events));\n"
    if call not in source:
        raise SystemExit(f"bench/checks.py: the generated step() no longer calls {prefix}_check_events; update me")
    if variant == "summed":
        return source
    if variant == "none" or max_event_count >= 255:
        return source.replace(call, "")
    loop = (f"    for (uint16_t k = 0; k < n_events; k++) {{\n"
            f"        if (events[k].count > {prefix.upper()}_MAX_EVENT_COUNT) {{\n"
            f"            return SLF_ERR_COUNT;\n        }}\n    }}\n")
    return source.replace(call, loop)


def measure(model: str, work: Path) -> list[dict]:
    import silifc
    from silifc.reference.int_ref import run_int
    from silifc.target.firmware import run_model
    from silifc.target.toolchain import build_firmware
    from silifc.target.stack import stack_usage

    q = silifc.load(model).quantize()
    counts = q.inputs(GOLDEN_INPUT).counts
    limit = int(q.quantized.layers[0].synapses.max_input_count)
    max_event_count = min(limit, 255)
    dense_steps = int((counts.sum(axis=2) > max_event_count).sum())
    reference = run_int(q.quantized, counts)
    rows = []
    for variant in VARIANTS:
        compiled = q.compile(board=BOARD, output=work / f"{Path(model).stem}-{variant}", prefix="silifc")
        project = compiled.project
        model_c = project.directory / "model" / "silifc_model.c"
        model_c.write_text(variant_source(model_c.read_text(), "silifc", max_event_count, variant))
        out = project.directory / "build-checks"          # not the build cache: gcc's call graph stays here
        image = build_firmware([project.app_source, *project.model_sources], project.include_dirs, compiled.board,
                               out, defines={"SILIFC_PROFILE": None}, name="firmware")
        report = run_model(project, image, q.quantized, counts, trace=False)
        exact = bool(np.array_equal(report.result.outputs, reference.outputs)
                     and np.array_equal(report.result.decisions, reference.decisions))
        step_stack = stack_usage(sorted(image.elf.parent.glob(f"{image.elf.name}-*.ci")), ("silifc_step",))
        rows.append({"model": Path(model).stem.replace("_ssc_4ms", ""), "variant": variant,
                     "max_event_count": max_event_count, "steps": report.steps, "dense_steps": dense_steps,
                     "instructions_per_step": report.instructions_total / report.steps,
                     "cycles_per_step": None if report.cycles_total is None else report.cycles_total / report.steps,
                     "step_stack": step_stack.bytes, "max_stack": None if image.stack is None else image.stack.bytes,
                     "flash": image.flash_used, "bit_exact": exact})
    return rows


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="silifc-bench-checks-") as tmp:
        for model in MODELS:
            rows += measure(model, Path(tmp))
    header = (f"{'model':<7} {'check':<10} {'MAX':>4} {'instr/step':>11} {'delta':>7} {'est. cyc/step':>13} "
              f"{'delta':>7} {'step() stack':>12} {'max stack':>9} {'flash':>8} {'dense steps':>11} {'fw=int':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        base = next(r for r in rows if r["model"] == row["model"] and r["variant"] == "none")
        cycles = row["cycles_per_step"]
        delta_cycles = "-" if cycles is None else f"{cycles - base['cycles_per_step']:+.1f}"
        print(f"{row['model']:<7} {row['variant']:<10} {row['max_event_count']:>4} {row['instructions_per_step']:>11,.1f} "
              f"{row['instructions_per_step'] - base['instructions_per_step']:>+7.1f} "
              f"{'-' if cycles is None else f'{cycles:,.1f}':>13} {delta_cycles:>7} {row['step_stack']:>10} B "
              f"{row['max_stack']:>7} B {row['flash']:>8,d} {row['dense_steps']:>5}/{row['steps']:<5} "
              f"{'yes' if row['bit_exact'] else 'NO':>6}")
    print(f"(per step: the whole run's instructions and est. cycles / steps, harness I/O included; delta: against "
          f"no count check; {BOARD}, golden inputs {GOLDEN_INPUT.relative_to(ROOT)})")
    return 0 if all(row["bit_exact"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: instructions and estimated cycles per step, memory and fidelity, event-driven vs dense.

For each model (default: both bundled paper models) on the golden inputs
(models/paper-ssc/sample_inputs.npz: the 8 golden samples, 300 steps each) and each board
(default nrf52840 = Cortex-M4F, mps2_an500 = Cortex-M7, mps2_an505 = Cortex-M33), this builds
the firmware twice, with event-driven synapses and with the dense baseline
(`silifc compile --synapses dense`), runs both in QEMU under the exact instruction-counting
plugin, checks them bit for bit against the integer reference and prints one table; it also
writes bench/results.json and bench/results.md.

    .venv/bin/python bench/run.py                    # everything (~2-4 min)
    .venv/bin/python bench/run.py --check            # measure again, compare with bench/results.json
    .venv/bin/python bench/run.py --cmsis-nn PATH    # also measure CMSIS-NN's dense kernel (bench/cmsis_nn.py)

Counting: executed instructions (exact) and, on Cortex-M4 boards, estimated cycles from the
plugin's timing model (docs/cycles.md: Cortex-M4 TRM timings, zero wait states); boards
without a cycle model show instructions only and no budget share. A step covers the
generated step() from its first phase marker to its end marker (the test harness's file
I/O between steps is excluded).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = ("silif_ssc_4ms.pth", "csilif_ssc_4ms.pth")
DEFAULT_BOARDS = ("nrf52840", "mps2_an500", "mps2_an505")
VARIANTS = ("event", "dense")
GOLDEN_INPUT = ROOT / "models" / "paper-ssc" / "sample_inputs.npz"
RESULTS_JSON = Path(__file__).resolve().parent / "results.json"
RESULTS_MD = Path(__file__).resolve().parent / "results.md"
# Targets of the benchmark issue (SiLIF and C-SiLIF paper models, nrf52840, golden inputs).
TARGET_DENSE_RATIO = 10.0        # event-driven instructions per step >= 10x fewer than dense
TARGET_BOUND_RATIO = 1.25        # measured <= 1.25 x (1.3 SOPs + 15 neuron updates + readout)
TARGET_BUDGET = 0.20             # <= 20 % of the real-time budget at the board's clock (est. cycles)
TARGET_FLASH = (1.05, 8 * 1024)  # flash <= 1.05 x int8 weight bytes + 8 KiB
REFERENCE_PER_MAC = 2.0          # CMSIS-NN-class dense int8 kernel on Cortex-M4 (the issue's figure)
# Issue 16, in estimated Cortex-M4 cycles (nrf52840, golden inputs): mean cycles per step,
# worst step, cycles per hidden-neuron update, per SOP, and CMSIS-NN dense over event-driven.
TARGET_CYCLES = {"silif": 51_200, "csilif": 62_000}
TARGET_WORST_STEP = 0.50
TARGET_CYCLES_PER_NEURON = 20.0
TARGET_CYCLES_PER_SOP = 1.2
TARGET_CMSIS_RATIO = 15.0

COLUMNS = [  # (key, header, format)
    ("model", "model", "{}"), ("board", "board", "{}"), ("synapses", "synapses", "{}"),
    ("step_mean", "instr/step", "{:,.0f}"), ("step_max", "max", "{:,d}"),
    ("cycles_mean", "est. cycles/step", "{:,.0f}"), ("cycles_max", "max cycles", "{:,d}"),
    ("synaptic_cycles_mean", "synaptic cyc", "{:,.0f}"), ("neuron_cycles_mean", "neuron cyc", "{:,.0f}"),
    ("readout_cycles_mean", "readout cyc", "{:,.0f}"), ("sops_mean", "SOPs/step", "{:,.0f}"),
    ("instructions_per_sop", "instr/SOP", "{:.2f}"), ("cycles_per_sop", "cyc/SOP", "{:.2f}"),
    ("instructions_per_neuron", "instr/neuron", "{:.1f}"), ("cycles_per_neuron", "cyc/neuron", "{:.1f}"),
    ("flash", "flash B", "{:,d}"), ("ram", "RAM B", "{:,d}"), ("budget_percent", "budget %", "{:.1f}"),
    ("budget_percent_max", "max %", "{:.1f}"),
    ("bound", "bound", "{:,.0f}"), ("measured_over_bound", "meas/bound", "{:.2f}"),
    ("int_vs_float", "int=float", "{}"), ("firmware_vs_int", "fw=int", "{}"),
]


@dataclass(frozen=True)
class ModelCase:
    name: str                 # label in the table
    quantized: object         # QuantNetwork
    counts: np.ndarray        # [samples, steps, inputs]
    input_source: str
    int_result: object        # RunResult of the integer reference
    float_result: object      # RunResult of the float64 reference


def load_case(model: str, input_path: Path = GOLDEN_INPUT) -> ModelCase:
    """A bundled model name or checkpoint path, quantized with silifc's defaults (int8)."""
    from silifc.io.models import resolve_model
    from silifc.reference.float_ref import run_float
    from silifc.io.inputs import load_input
    from silifc.pipeline import run_pipeline

    prepared = run_pipeline(resolve_model(model), until="quantize")
    counts = load_input(input_path, prepared.network.n_inputs, prepared.network.config).counts
    input_path = Path(input_path).resolve()
    source = str(input_path.relative_to(ROOT) if input_path.is_relative_to(ROOT) else input_path)
    return case_from(Path(model).stem.replace("_ssc_4ms", ""), prepared.quantized, counts, source,
                     run_float(prepared.folded, counts))


def case_from(name: str, quantized, counts, source: str, float_result) -> ModelCase:
    """A benchmark case from a quantized model, its input and its float64 result."""
    from silifc.reference.int_ref import run_int

    return ModelCase(name=name, quantized=quantized, counts=np.asarray(counts), input_source=source,
                     int_result=run_int(quantized, counts), float_result=float_result)


def measure(case: ModelCase, board_name: str, synapses: str, work_dir: Path | None = None) -> dict:
    """Build (cached), run in QEMU, check against the integer reference; one table row."""
    from silifc.codegen.boards import load_board
    from silifc.pipeline import build_model_firmware
    from silifc.target.profile import profile_run
    from silifc.target.firmware import run_model

    board = load_board(board_name)
    project, image = build_model_firmware(case.quantized, board, work_dir=work_dir, synapses=synapses)
    report = run_model(project, image, case.quantized, case.counts, record_spikes=True)
    reference = case.int_result
    firmware = report.result
    samples = int(case.counts.shape[0])
    outputs_equal = int(np.all(firmware.outputs == reference.outputs, axis=1).sum())
    decisions_equal = int((firmware.decisions == reference.decisions).sum())
    spike_mismatches = int(sum((a != b).sum() for a, b in zip(firmware.spikes, reference.spikes, strict=True)))
    memory = json.loads((project.directory / "memory_report.json").read_text())
    profile = profile_run(report, case.quantized, case.counts, reference.spikes, synapses, memory["layers"])
    budget = board.clock_hz * case.quantized.config.time_step_ms / 1000.0
    total = profile.total
    cycles = profile.total_cycles                       # None: no cycle model for this core
    weight_bytes = sum(layer.synapses.n_in * layer.synapses.n_out * layer.synapses.weight_bits // 8
                       for layer in case.quantized.layers)
    plan_ram = [b for b in project.plan.buffers if b.section == "ram"]
    details = profile.to_dict()
    int_float = int((reference.decisions == case.float_result.decisions).sum())
    return {
        "model": case.name, "board": board.name, "cpu": board.cpu, "synapses": synapses,
        "steps": profile.steps, "samples": samples,
        "step_mean": float(total.mean()), "step_max": int(total.max()),
        "synaptic_mean": float(profile.synaptic.mean()), "synaptic_max": int(profile.synaptic.max()),
        "neuron_mean": float(profile.neuron.mean()), "neuron_max": int(profile.neuron.max()),
        "readout_mean": float(profile.readout.mean()), "readout_max": int(profile.readout.max()),
        "cycle_model": profile.cycle_model,
        **_cycle_columns(profile, details),
        "sops_mean": float(profile.sops.mean()), "sops_max": int(profile.sops.max()),
        "weighted_sops_mean": float(profile.weighted_sops.mean()),
        "macs_per_step": profile.macs, "neuron_updates": profile.neuron_updates,
        "instructions_per_sop": details["instructions_per_sop"],
        "instructions_per_mac": details["instructions_per_mac"],
        "instructions_per_neuron": details["instructions_per_neuron_update"],
        "flash": image.flash_used, "ram": image.ram_used, "flash_constants": project.plan.flash_bytes,
        "weight_bytes": weight_bytes, "stack": board.stack_size,
        "ram_buffers": {b.name: b.bytes for b in plan_ram},
        "ram_other": image.ram_used - project.plan.ram_bytes - board.stack_size,
        "clock_hz": board.clock_hz, "budget_cycles": budget,
        # estimated cycles against the budget; None where the core has no cycle model
        "budget_percent": None if cycles is None else 100.0 * float(cycles.mean()) / budget,
        "budget_percent_max": None if cycles is None else 100.0 * int(cycles.max()) / budget,
        "bound": profile.bound, "measured_over_bound": float(total.mean()) / profile.bound,
        "int_vs_float": f"{int_float}/{samples}",
        "firmware_vs_int": f"{decisions_equal}/{samples}" + ("" if outputs_equal == samples and not spike_mismatches
                                                              else " MISMATCH"),
        "bit_exact": outputs_equal == samples and decisions_equal == samples and spike_mismatches == 0,
        "outputs_equal": outputs_equal, "decisions_equal": decisions_equal, "spike_mismatches": spike_mismatches,
        "layers": details["layers"],
        "cycle_events": report.cycle_events,
        # every step's count, hashed: two runs are identical iff the digests are
        "per_step_sha256": hashlib.sha256(np.asarray(total, dtype="<i8").tobytes()).hexdigest(),
        "per_step_cycles_sha256": None if cycles is None else
        hashlib.sha256(np.asarray(cycles, dtype="<i8").tobytes()).hexdigest(),
    }


def _cycle_columns(profile, details) -> dict:
    """The estimated-cycle keys of a table row (all None without a cycle model)."""
    keys = ("cycles_mean", "cycles_max", "synaptic_cycles_mean", "synaptic_cycles_max", "neuron_cycles_mean",
            "neuron_cycles_max", "readout_cycles_mean", "readout_cycles_max", "cycles_per_sop", "cycles_per_mac",
            "cycles_per_neuron", "cycles_per_instruction")
    if not profile.has_cycles:
        return dict.fromkeys(keys)
    values = []
    for part in ("cycles_per_step", "synaptic_cycles", "neuron_cycles", "readout_cycles"):
        values += [details[part]["mean"], details[part]["max"]]
    values += [details["cycles_per_sop"], details["cycles_per_mac"], details["cycles_per_neuron_update"],
               details["cycles_per_instruction"]]
    return dict(zip(keys, values))


def runtime_digest() -> str:
    """sha256 over the C runtime sources the firmware is built from (include/ and src/: kernels change
    over time; the audio front end and the kernel benchmark are not part of a model's firmware)."""
    digest = hashlib.sha256()
    runtime = ROOT / "runtime_c"
    for path in sorted([*(runtime / "include").rglob("*.[ch]"), *(runtime / "src").rglob("*.[ch]")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


COUNTING = ("executed instructions, exact, and estimated cycles from the Cortex-M4 timing model of "
            "docs/cycles.md (TRM r0p1 timings, zero wait states), both counted by QEMU + the insncount plugin; "
            "boards without a cycle model (Cortex-M7, Cortex-M33) show instructions only")


def _cmsis_nn():
    """bench/cmsis_nn.py, imported by path (bench/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("silifc_bench_cmsis_nn", Path(__file__).with_name("cmsis_nn.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_bench(cases: list[ModelCase], boards=DEFAULT_BOARDS, variants=VARIANTS, progress=None,
              cmsis_nn: str | Path | None = None) -> dict:
    """cmsis_nn: a CMSIS-NN checkout; adds a row per model for its dense kernel on nrf52840."""
    rows = []
    for case in cases:
        for board in boards:
            for synapses in variants:
                if progress:
                    progress(f"{case.name} on {board}, {synapses} synapses")
                rows.append(measure(case, board, synapses))
        if cmsis_nn is not None:
            rows.append(_cmsis_nn().measure(case, cmsis_nn, "nrf52840", progress=progress))
    determinism = None
    if rows:
        first = rows[0]
        again = measure(cases[0], first["board"], first["synapses"])
        determinism = {"model": first["model"], "board": first["board"], "synapses": first["synapses"],
                       "identical": again["per_step_sha256"] == first["per_step_sha256"]
                       and again["per_step_cycles_sha256"] == first["per_step_cycles_sha256"]}
    return {"runtime_sha256": runtime_digest(),
            "inputs": sorted({case.input_source for case in cases}),
            "counting": COUNTING,
            "rows": rows, "determinism": determinism, "targets": targets(rows)}


def _find(rows, model, board, synapses):
    return next((r for r in rows if (r["model"], r["board"], r["synapses"]) == (model, board, synapses)), None)


def targets(rows, board="nrf52840") -> list[dict]:
    """The issue's 'must show' checks for every model measured on `board` with both variants."""
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        event, dense = _find(rows, model, board, "event"), _find(rows, model, board, "dense")
        if event is None:
            continue
        checks = {}
        if dense is not None:
            ratio = dense["step_mean"] / event["step_mean"]
            reference = REFERENCE_PER_MAC * dense["macs_per_step"] + dense["neuron_mean"] + dense["readout_mean"]
            checks["dense_over_event"] = {"value": ratio, "target": f">= {TARGET_DENSE_RATIO:g}",
                                          "met": ratio >= TARGET_DENSE_RATIO,
                                          "cycles_value": dense["cycles_mean"] / event["cycles_mean"],
                                          "cmsis_class_estimate": reference / event["step_mean"]}
        checks["measured_over_bound"] = {"value": event["measured_over_bound"], "target": f"<= {TARGET_BOUND_RATIO}",
                                         "met": event["measured_over_bound"] <= TARGET_BOUND_RATIO}
        budget = event["budget_percent"] / 100.0
        checks["budget_fraction"] = {"value": budget, "target": f"<= {TARGET_BUDGET}", "met": budget <= TARGET_BUDGET}
        if model in TARGET_CYCLES:
            checks["cycles_per_step"] = {"value": event["cycles_mean"], "target": f"<= {TARGET_CYCLES[model]:,}",
                                         "met": event["cycles_mean"] <= TARGET_CYCLES[model]}
        worst = event["budget_percent_max"] / 100.0
        checks["worst_step"] = {"value": worst, "target": f"<= {TARGET_WORST_STEP}", "met": worst <= TARGET_WORST_STEP}
        checks["cycles_per_neuron"] = {"value": event["cycles_per_neuron"], "target": f"<= {TARGET_CYCLES_PER_NEURON:g}",
                                       "met": event["cycles_per_neuron"] <= TARGET_CYCLES_PER_NEURON}
        checks["cycles_per_sop"] = {"value": event["cycles_per_sop"], "target": f"<= {TARGET_CYCLES_PER_SOP:g}",
                                    "met": event["cycles_per_sop"] <= TARGET_CYCLES_PER_SOP}
        cmsis = _find(rows, model, board, "cmsis-nn")
        if cmsis is not None:
            ratio = cmsis["cycles_mean"] / event["cycles_mean"]
            checks["cmsis_nn_over_event"] = {"value": ratio, "target": f">= {TARGET_CMSIS_RATIO:g}",
                                             "met": ratio >= TARGET_CMSIS_RATIO,
                                             "instructions_value": cmsis["step_mean"] / event["step_mean"]}
        limit = TARGET_FLASH[0] * event["weight_bytes"] + TARGET_FLASH[1]
        checks["flash"] = {"value": event["flash"], "target": f"<= {limit:,.0f}", "met": event["flash"] <= limit,
                           "limit": limit, "weights": event["weight_bytes"],
                           "constants": event["flash_constants"] - event["weight_bytes"],
                           "code": event["flash"] - event["flash_constants"]}
        checks["bit_exact"] = {"value": event["bit_exact"] and (dense is None or dense["bit_exact"]),
                               "target": "firmware = integer reference", "met": event["bit_exact"]
                               and (dense is None or dense["bit_exact"])}
        out.append({"model": model, "board": board, "checks": checks})
    return out


def _cell(row, key, fmt):
    value = row.get(key)
    if value is None:
        return "-"
    return fmt.format(value)


def table(rows, markdown=False) -> str:
    header = [h for _, h, _ in COLUMNS]
    body = [[_cell(row, key, fmt) for key, _, fmt in COLUMNS] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|"]
        return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in body])
    widths = [max(len(c) for c in column) for column in zip(header, *body)]

    def fmt(cells):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in body])


def layer_table(rows) -> str:
    lines = ["| model | board | synapses | layer | n_in x n_out | synapse instr/step (max) | est. cycles (max) "
             "| SOPs/step | instr/SOP | cyc/SOP | neuron instr/step (max) | est. cycles (max) | instr/neuron "
             "| cyc/neuron |", "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def num(value, fmt):
        return "-" if value is None else format(value, fmt)

    for row in rows:
        for layer in row.get("layers", []):
            lines.append(f"| {row['model']} | {row['board']} | {row['synapses']} | {layer['name']} ({layer['kind']}) "
                         f"| {layer['n_in']} x {layer['n_out']} | {layer['synapses_mean']:,.0f} ({layer['synapses_max']:,d}) "
                         f"| {num(layer.get('synapse_cycles_mean'), ',.0f')} ({num(layer.get('synapse_cycles_max'), ',d')}) "
                         f"| {layer['sops_mean']:,.0f} | {num(layer['instructions_per_sop'], '.2f')} "
                         f"| {num(layer.get('cycles_per_sop'), '.2f')} "
                         f"| {layer['neurons_mean']:,.0f} ({layer['neurons_max']:,d}) "
                         f"| {num(layer.get('neuron_cycles_mean'), ',.0f')} ({num(layer.get('neuron_cycles_max'), ',d')}) "
                         f"| {layer['instructions_per_neuron_update']:.1f} "
                         f"| {num(layer.get('cycles_per_neuron_update'), '.1f')} |")
    return "\n".join(lines)


def ram_table(rows, board="nrf52840") -> str:
    picked = [r for r in rows if r["board"] == board and "ram_buffers" in r]
    if not picked:
        return ""
    names = list(dict.fromkeys(name for r in picked for name in r["ram_buffers"]))
    header = "| buffer | " + " | ".join(f"{r['model']} {r['synapses']}" for r in picked) + " |"
    lines = [header, "|---|" + "---:|" * len(picked)]
    for name in names:
        label = name.split("_", 1)[1] if "_" in name else name
        lines.append(f"| {label} | " + " | ".join(f"{r['ram_buffers'].get(name, 0):,d}" if name in r["ram_buffers"]
                                                    else "-" for r in picked) + " |")
    lines.append("| **model buffers** | " + " | ".join(f"**{sum(r['ram_buffers'].values()):,d}**" for r in picked) + " |")
    lines.append("| stack (reserved) | " + " | ".join(f"{r['stack']:,d}" for r in picked) + " |")
    lines.append("| harness + startup (.data/.bss) | " + " | ".join(f"{r['ram_other']:,d}" for r in picked) + " |")
    lines.append("| **linked RAM** | " + " | ".join(f"**{r['ram']:,d}**" for r in picked) + " |")
    return "\n".join(lines)


def _verdict(check) -> str:
    return "met" if check["met"] else "NOT met"


def targets_text(results) -> str:
    lines = []
    for entry in results["targets"]:
        c = entry["checks"]
        model = entry["model"]
        lines.append(f"* **{model}, {entry['board']}**")
        if "dense_over_event" in c:
            d = c["dense_over_event"]
            lines.append(f"  * event-driven >= {TARGET_DENSE_RATIO:g}x fewer instructions per step than dense: "
                         f"{d['value']:.2f}x, {_verdict(d)} ({d['cycles_value']:.2f}x in est. cycles)")
        if "cmsis_nn_over_event" in c:
            d = c["cmsis_nn_over_event"]
            lines.append(f"  * >= {TARGET_CMSIS_RATIO:g}x fewer est. cycles per step than CMSIS-NN "
                         f"arm_fully_connected_s8 (dense, synapses only, measured in the same run): {d['value']:.2f}x, "
                         f"{_verdict(d)} ({d['instructions_value']:.2f}x in instructions)")
        b = c["measured_over_bound"]
        lines.append(f"  * within {TARGET_BOUND_RATIO}x of 1.3 x SOPs + 15 x neuron updates + readout (instructions): "
                     f"{b['value']:.2f}x, {_verdict(b)}")
        f = c["budget_fraction"]
        lines.append(f"  * <= {100 * TARGET_BUDGET:.0f} % of the real-time budget in est. cycles (mean step): "
                     f"{100 * f['value']:.1f} %, {_verdict(f)}")
        if "cycles_per_step" in c:
            d = c["cycles_per_step"]
            lines.append(f"  * est. cycles per step (mean) {d['target']}: {d['value']:,.0f}, {_verdict(d)}")
        d = c["worst_step"]
        lines.append(f"  * worst step <= {100 * TARGET_WORST_STEP:.0f} % of the budget: {100 * d['value']:.1f} %, "
                     f"{_verdict(d)}")
        d = c["cycles_per_neuron"]
        lines.append(f"  * est. cycles per hidden-neuron update {d['target']}: {d['value']:.1f}, {_verdict(d)}")
        d = c["cycles_per_sop"]
        lines.append(f"  * est. cycles per SOP (synaptic phases) {d['target']}: {d['value']:.2f}, {_verdict(d)}")
        fl = c["flash"]
        lines.append(f"  * flash <= 1.05 x int8 weight bytes + 8 KiB = {fl['limit']:,.0f} B: {fl['value']:,d} B, "
                     f"{_verdict(fl)} ({fl['value'] - fl['limit']:+,.0f} B): int8 weights {fl['weights']:,d} B, "
                     f"other model constants {fl['constants']:,d} B (neuron records, descriptors), code, "
                     f"startup and test harness {fl['code']:,d} B")
        lines.append(f"  * firmware bit-exact with the integer reference (event and dense): {_verdict(c['bit_exact'])}")
    det = results.get("determinism")
    if det:
        lines.append(f"* determinism: {det['model']} on {det['board']} ({det['synapses']}) measured twice, per-step "
                     f"instructions and est. cycles {'identical' if det['identical'] else 'DIFFERENT'}")
    return "\n".join(lines)


def markdown(results) -> str:
    rows = results["rows"]
    out = [
        "# silifc benchmark results",
        "",
        "Generated by `bench/run.py` (see bench/README.md); do not edit by hand. Runtime sources sha256 "
        f"`{results['runtime_sha256'][:16]}...`; input {', '.join(results['inputs'])} (8 golden samples x 300 "
        "steps of 4 ms).",
        "",
        "Counting: " + results["counting"] + ". Columns: instructions per time step (mean over the 2,400 steps, and "
        "the largest step); estimated cycles per step (mean, largest step), split into synaptic accumulation (every "
        "layer's accumulation, readout included), hidden-neuron updates (every hidden neuron, every step) and readout "
        "(the readout's integrator, softmax and decision); SOPs per step as the authors count them (non-zero "
        "presynaptic entries x fan-out, summed over layers); instr/SOP and cyc/SOP = synaptic instructions or "
        "cycles / SOPs; instr/neuron and cyc/neuron = hidden-neuron instructions or cycles / hidden neurons; flash "
        "and RAM as linked (RAM includes the reserved stack and the test harness); budget % and max % = mean and "
        "largest est. cycles per step / (clock x 4 ms); bound = 1.3 x SOPs + 15 x hidden-neuron updates + measured "
        "readout, in instructions; int=float = decisions of the integer reference equal to the float64 reference's; "
        "fw=int = firmware decisions equal to the integer reference's (outputs and every hidden spike also "
        "compared). '-': not measured (no cycle model for the core; CMSIS-NN rows: synapses only).",
        "",
        table(rows, markdown=True),
        "",
        "## Targets (issue: SiLIF / C-SiLIF paper models, nrf52840, golden inputs)",
        "",
        targets_text(results),
        "",
        cmsis_nn_text(rows),
        "## Per layer",
        "",
        layer_table([r for r in rows if r["board"] == "nrf52840"] or rows),
        "",
        "## RAM per buffer (nrf52840; the plan is the same on every board)",
        "",
        ram_table(rows),
        "",
    ]
    return "\n".join(out)


def cmsis_nn_text(rows) -> str:
    """The CMSIS-NN section of results.md: its rows, the commit and how to measure again."""
    picked = [r for r in rows if r["synapses"] == "cmsis-nn"]
    if not picked:
        return ("## CMSIS-NN\n\nNot measured in this run: pass `--cmsis-nn PATH` (a CMSIS-NN checkout) to add "
                "`arm_fully_connected_s8` as a peer row.\n")
    lines = ["## CMSIS-NN (dense `arm_fully_connected_s8`, synapses only)", "",
             "The same layer shapes, int8 weights and inputs as the paper models (layer 0: the input event counts, "
             "then each hidden layer's spikes from the integer reference), one `arm_fully_connected_s8` per layer "
             "per step, measured in the same run under the same plugin and cycle model (bench/cmsis_nn.py, "
             "bench/cmsis_nn_harness.c). Neuron updates and readout are not included: the rows count the synaptic "
             "part only, so the ratios to silifc's whole step are conservative.", "",
             "| model | CMSIS-NN commit | flags | instr/step | est. cycles/step (max) | per layer est. cycles "
             "| cycles/MAC | silifc event est. cycles/step | CMSIS-NN / silifc |", "|---|---|---|---:|---:|---|---:|---:|---:|"]
    for row in picked:
        event = _find(rows, row["model"], row["board"], "event")
        ratio = f"{row['cycles_mean'] / event['cycles_mean']:.2f}x" if event else "-"
        layers = " / ".join(f"{v:,.0f}" for v in row["layer_cycles_mean"])
        lines.append(f"| {row['model']}{' (carried over)' if row.get('carried_over') else ''} "
                     f"| `{row['cmsis_nn_commit']}` | {row['cmsis_nn_cflags']} | {row['step_mean']:,.0f} "
                     f"| {row['cycles_mean']:,.0f} ({row['cycles_max']:,d}) | {layers} | {row['cycles_per_mac']:.2f} "
                     f"| {'-' if event is None else format(event['cycles_mean'], ',.0f')} | {ratio} |")
    lines += ["", "Measure again: `git clone https://github.com/ARM-software/CMSIS-NN /tmp/cmsis-nn` (check out the "
              "commit above for the same numbers), then `.venv/bin/python bench/run.py --cmsis-nn /tmp/cmsis-nn`. "
              "A run without `--cmsis-nn` keeps the last measured rows while the counting plugin is unchanged.", ""]
    return "\n".join(lines)


def carry_over_cmsis_nn(results, path=RESULTS_JSON) -> list[str]:
    """Keeps the CMSIS-NN rows of the saved results when this run did not measure them and the
    counting plugin is the one they were measured with. Returns notes on what was kept or dropped."""
    if any(r["synapses"] == "cmsis-nn" for r in results["rows"]) or not path.exists():
        return []
    saved = [r for r in json.loads(path.read_text())["rows"] if r["synapses"] == "cmsis-nn"]
    measured = {r["model"] for r in results["rows"] if r["board"] == "nrf52840" and r["synapses"] == "event"}
    current = _cmsis_nn().plugin_digest()
    notes, kept = [], []
    for row in saved:
        if row["model"] not in measured:
            continue
        if row.get("plugin_sha256") != current:
            notes.append(f"dropped the CMSIS-NN row of {row['model']}: measured with another counting plugin; "
                         f"measure again with --cmsis-nn PATH")
            continue
        kept.append({**row, "carried_over": True})
        notes.append(f"kept the last measured CMSIS-NN row of {row['model']} (commit {row['cmsis_nn_commit']})")
    if kept:
        results["rows"] += kept
        results["targets"] = targets(results["rows"])
    return notes


def check_against(results, path=RESULTS_JSON) -> list[str]:
    """Differences in instruction counts between this run and a saved results.json."""
    saved = json.loads(path.read_text())
    keyed = {(r["model"], r["board"], r["synapses"]): r for r in saved["rows"]}
    problems = []
    for row in results["rows"]:
        old = keyed.get((row["model"], row["board"], row["synapses"]))
        if old is None:
            problems.append(f"{row['model']} {row['board']} {row['synapses']}: not in {path.name}")
        elif old["per_step_sha256"] != row["per_step_sha256"]:
            problems.append(f"{row['model']} {row['board']} {row['synapses']}: per-step counts differ "
                            f"(mean {old['step_mean']:,.1f} -> {row['step_mean']:,.1f})")
        elif old.get("per_step_cycles_sha256") != row["per_step_cycles_sha256"]:
            problems.append(f"{row['model']} {row['board']} {row['synapses']}: per-step est. cycles differ "
                            f"(mean {old.get('cycles_mean') or 0:,.1f} -> {row['cycles_mean'] or 0:,.1f})")
    if saved.get("runtime_sha256") != results["runtime_sha256"]:
        problems.append("runtime sources changed since results.json was written")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), help="bundled names or checkpoints")
    parser.add_argument("--boards", nargs="+", default=list(DEFAULT_BOARDS))
    parser.add_argument("--synapses", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--input", default=str(GOLDEN_INPUT), help="spike input (default: the 8 golden samples)")
    parser.add_argument("--check", action="store_true",
                        help="do not write results; exit 1 if any per-step count differs from bench/results.json")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--cmsis-nn", metavar="PATH",
                        help="a CMSIS-NN checkout (github.com/ARM-software/CMSIS-NN): also measure its dense "
                             "arm_fully_connected_s8 on each model's layer shapes and inputs (nrf52840)")
    args = parser.parse_args(argv)

    def say(message):
        print(f"bench: {message}", file=sys.stderr, flush=True)

    if args.cmsis_nn:
        _cmsis_nn().check_checkout(args.cmsis_nn)           # a wrong path fails before any work
    cases = []
    for model in args.models:
        say(f"quantizing {model}, integer and float64 references")
        cases.append(load_case(model, Path(args.input)))
    results = run_bench(cases, args.boards, args.synapses, progress=say, cmsis_nn=args.cmsis_nn)
    if not args.check:
        for note in carry_over_cmsis_nn(results):
            say(note)
    print(table(results["rows"]))
    print()
    print(targets_text(results).replace("**", ""))
    if args.check:
        problems = check_against(results)
        for problem in problems:
            print(f"bench: {problem}", file=sys.stderr)
        return 1 if problems else 0
    if not args.no_write:
        RESULTS_JSON.write_text(json.dumps(results, indent=1) + "\n")
        RESULTS_MD.write_text(markdown(results))
        say(f"wrote {RESULTS_JSON.relative_to(ROOT)} and {RESULTS_MD.relative_to(ROOT)}")
    return 0 if all(r.get("bit_exact", True) for r in results["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The model commands on NIR graphs (`silifc check|infer MODEL.nir`): load with the dialect,
quantize, and report as for SiLIF models. Called by compiler/cli.py when MODEL is a NIR file."""
from __future__ import annotations

import numpy as np


def load_spiking(args, path):
    from .nir_import import load_nir

    return load_nir(path, getattr(args, "nir_dialect", None), getattr(args, "dt", None))


def quantize_from_args(args, network):
    from . import cli
    from .pipeline import WEIGHT_CHOICES
    from .spiking_quant import quantize_spiking

    return quantize_spiking(network, cli._calibration(args, network), WEIGHT_CHOICES[args.weights], args.headroom)


def _isolated_flips(quantized, counts, float_result):
    """Per spiking population: run it alone (integer) on the float reference's input."""
    from .spiking_quant import run_population_int

    inputs = [np.asarray(counts, np.int64)] + [s.astype(np.int64) for s in float_result.spikes]
    rates = []
    for index, pop in enumerate(quantized.populations):
        if not pop.spiking:
            continue
        out, _ = run_population_int(pop, inputs[index], {})
        rates.append(float((out != float_result.spikes[len(rates)]).mean()))
    return rates


def spiking_report(quantized, counts, float_result, int_result, labels=None) -> dict:
    """Flip rates (end to end and alone), states against their formats, output error, decisions."""
    alone = _isolated_flips(quantized, counts, float_result)
    layers, spiking_index = [], 0
    for index, pop in enumerate(quantized.populations):
        name = f"layer{index}"
        peak_float = max(float_result.state_ranges[name].values())
        peak_int = max(int_result.state_ranges[name].values())
        entry = {"name": name, "node": pop.name, "kind": pop.kind, "width": pop.n_out, "frac_bits": pop.frac_bits,
                 "peak_float": peak_float, "peak_int": peak_int,
                 "headroom_used": peak_int * 2 ** pop.frac_bits / 2 ** 31}
        if pop.spiking:
            entry.update(flip_rate=float((float_result.spikes[spiking_index] != int_result.spikes[spiking_index]).mean()),
                         flip_rate_alone=alone[spiking_index],
                         firing_rate_float=float(float_result.spikes[spiking_index].mean()))
            spiking_index += 1
        layers.append(entry)
    out_f, out_i = float_result.outputs_float, int_result.outputs_float
    scale = np.maximum(np.abs(out_f).max(axis=1), 1e-12)
    report = {"samples": int(out_f.shape[0]), "steps": int(np.asarray(counts).shape[1]),
              "weights": f"int{quantized.weight_bits}", "dialect": quantized.dialect, "dt": quantized.dt,
              "layers": layers, "output_relative_error": float((np.abs(out_i - out_f).max(axis=1) / scale).max()),
              "decision_agreement": float((float_result.decisions == int_result.decisions).mean())}
    if labels is not None:
        report["float_accuracy"] = float((float_result.decisions == labels).mean())
        report["int_accuracy"] = float((int_result.decisions == labels).mean())
    return report


def report_text(report: dict) -> str:
    head = (f"{'layer':<8} {'node':<14} {'type':<8} {'width':>5} {'format':>7} {'fire %':>7} {'flips %':>8} "
            f"{'alone %':>8} {'peak float':>10} {'peak int':>10} {'headroom used':>13}")
    lines = [f"float64 vs integer reference ({report['weights']} weights, dialect {report['dialect']}, "
             f"dt {report['dt']:g} s), {report['samples']} samples x {report['steps']} steps", head, "-" * len(head)]
    for layer in report["layers"]:
        spiking = "flip_rate" in layer
        fire = f"{100 * layer['firing_rate_float']:7.2f}" if spiking else f"{'':>7}"
        flips = f"{100 * layer['flip_rate']:8.4f} {100 * layer['flip_rate_alone']:8.4f}" if spiking else f"{'':>17}"
        lines.append(f"{layer['name']:<8} {layer['node'][:14]:<14} {layer['kind']:<8} {layer['width']:>5} "
                     f"{'Q%d.%d' % (31 - layer['frac_bits'], layer['frac_bits']):>7} {fire} {flips} "
                     f"{layer['peak_float']:10.4g} {layer['peak_int']:10.4g} {100 * layer['headroom_used']:12.4f}%")
    lines.append(f"output relative error (max over samples): {report['output_relative_error']:.3e}")
    lines.append(f"decision agreement: {100 * report['decision_agreement']:.2f} %")
    if "float_accuracy" in report:
        lines.append(f"accuracy: float {100 * report['float_accuracy']:.2f} %, integer "
                     f"{100 * report['int_accuracy']:.2f} %")
    return "\n".join(lines)


def cmd_check_nir(args, path) -> int:
    from . import cli
    from .pipeline import run_batched
    from .spiking_ref import run_spiking_float
    from .spiking_quant import run_spiking_int

    network = load_spiking(args, path)
    quantized = quantize_from_args(args, network)
    counts, labels, source = cli._load_counts(args, network)
    progress = None if args.json else cli._progress
    float_result = run_batched(lambda c: run_spiking_float(network, c), counts, progress=progress)
    int_result = run_batched(lambda c: run_spiking_int(quantized, c), counts, progress=progress)
    report = spiking_report(quantized, counts, float_result, int_result, labels)
    arch = " -> ".join(str(w) for w in network.widths)
    header = (f"model  {path} (NIR {network.meta.get('nir_version')}, sha256 {network.sha256[:12]}...)\n"
              f"arch   {arch} ({'/'.join(network.kinds)}), {network.meta['chosen']}\n"
              f"input  {source}")
    payload = {"model": str(path), "sha256": network.sha256, "widths": list(network.widths),
               "kinds": list(network.kinds), "input": source, **report}
    cli._emit(args, payload, header + "\n\n" + report_text(report))
    return 0


def cmd_infer_nir(args, path) -> int:
    from . import cli
    from .pipeline import run_batched
    from .spiking_ref import run_spiking_float
    from .spiking_quant import run_spiking_int

    network = load_spiking(args, path)
    counts, labels, source = cli._load_counts(args, network)
    if args.engine == "float":
        engine = lambda c: run_spiking_float(network, c)  # noqa: E731
    elif args.engine == "float32":
        engine = lambda c: run_spiking_float(network, c, np.float32)  # noqa: E731
    else:
        quantized = quantize_from_args(args, network)
        engine = lambda c: run_spiking_int(quantized, c)  # noqa: E731
    result = run_batched(engine, counts, progress=None if args.json else cli._progress)
    if args.out:
        result.save(args.out)
    report = {"model": str(path), "engine": args.engine, "input": source, "samples": int(counts.shape[0]),
              "decisions": result.decisions.tolist(), "outputs": result.outputs_float.tolist(),
              "spikes_per_layer": [int(s.sum()) for s in result.spikes], "out": args.out}
    if labels is not None:
        report["accuracy"] = float((result.decisions == labels).mean())
    lines = [f"engine {args.engine} on {source}: {counts.shape[0]} samples ({network.meta['chosen']})",
             "decisions: " + " ".join(map(str, result.decisions.tolist())),
             "spikes per spiking layer: " + ", ".join(map(str, report["spikes_per_layer"]))]
    if labels is not None:
        lines.append(f"accuracy: {100 * report['accuracy']:.2f} %")
    if args.out:
        lines.append(f"wrote {args.out} (outputs, decisions, spikes_l<k>)")
    cli._emit(args, report, "\n".join(lines))
    return 0


def cmd_compile_nir(args, path) -> int:
    import time

    from . import cli
    from .board import load_board
    from .codegen import CompileOptions
    from .codegen_spiking import build_spiking_firmware, write_spiking_project

    started = time.perf_counter()
    board = load_board(args.board)
    network = load_spiking(args, path)
    quantized = quantize_from_args(args, network)
    options = CompileOptions(board=board, prefix=args.prefix, weights=args.weights, synapses=args.synapses)
    project = write_spiking_project(quantized, options, args.output)
    seconds = time.perf_counter() - started
    report = {"model": str(path), "board": board.name, "output": str(project.directory), "prefix": args.prefix,
              "weights": args.weights, "dialect": network.dialect, "dt": network.dt,
              "compile_seconds": round(seconds, 3), "memory": project.plan.to_dict()}
    lines = [f"compiled {path} ({network.meta['chosen']}) for {board.name} into {project.directory} in {seconds:.2f} s",
             *describe(quantized), "", project.plan.to_text()]
    if args.build:
        _, image = build_spiking_firmware(quantized, board, args.weights, args.prefix, work_dir=args.output)
        report["linked"] = {"flash_used": image.flash_used, "ram_used": image.ram_used}
        lines.append(f"linked firmware {image.elf}: flash {image.flash_used} B of {board.flash.size}, "
                     f"RAM {image.ram_used} B of {board.ram.size} (with stack)")
    lines.append(f"build with: make -C {project.directory}   (or add it to a CMake/Zephyr build: CMakeLists.txt)")
    cli._emit(args, report, "\n".join(lines))
    return 0


def describe(quantized) -> list[str]:
    from .spiking_quant import describe_formats

    return ["  " + line for line in describe_formats(quantized)]


def cmd_run_nir(args, path) -> int:
    import json

    from . import cli
    from .board import load_board
    from .codegen_spiking import build_spiking_firmware, run_spiking_model
    from .spiking_quant import run_spiking_int

    board = load_board(args.board)
    network = load_spiking(args, path)
    quantized = quantize_from_args(args, network)
    counts, labels, source = cli._load_counts(args, network)
    say = None if args.json else (lambda m: print(f"silifc: {m}", file=__import__("sys").stderr, flush=True))
    project, image = build_spiking_firmware(quantized, board, args.weights, args.prefix, progress=say)
    if say:
        say(f"running {counts.shape[0]} samples x {counts.shape[1]} steps in QEMU ({board.emulator.machine})")
    report = run_spiking_model(project, image, quantized, counts, record_spikes=True)
    reference = run_spiking_int(quantized, counts)
    firmware = report.result
    output_match = np.all(firmware.outputs == reference.outputs, axis=1)
    decision_match = firmware.decisions == reference.decisions
    spike_mismatches = [int((a != b).sum()) for a, b in zip(firmware.spikes, reference.spikes)]
    budget = board.clock_hz * network.dt
    per_step = report.instructions_per_step
    per_phase = {k: v / report.steps for k, v in report.phase_instructions.items()}
    exact = bool(output_match.all() and decision_match.all() and not any(spike_mismatches))
    summary = {"model": str(path), "board": board.name, "weights": args.weights, "dialect": network.dialect,
               "dt": network.dt, "input": source, "samples": int(counts.shape[0]), "steps": int(counts.shape[1]),
               "outputs_equal": int(output_match.sum()), "decisions_equal": int(decision_match.sum()),
               "spike_mismatches": spike_mismatches, "spikes_compared": [int(s.size) for s in reference.spikes],
               "flash_used": report.flash_used, "ram_used": report.ram_used,
               "instructions_per_step": per_step, "max_instructions_per_step": int(report.step_instructions.max()),
               "phases_per_step": per_phase, "real_time_budget": budget, "budget_fraction": per_step / budget,
               "decisions": firmware.decisions.tolist(), "bit_exact": exact}
    if labels is not None:
        summary["accuracy"] = float((firmware.decisions == labels).mean())
    if args.out:
        firmware.save(args.out)
        summary["out"] = args.out
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        samples = counts.shape[0]
        lines = [f"firmware vs integer reference on {source} ({network.meta['chosen']})",
                 f"  outputs  {output_match.sum()}/{samples} samples bit-exact, decisions {decision_match.sum()}/{samples}",
                 "  spikes   " + ", ".join(f"layer {i}: {m} mismatches of {n}" for i, (m, n) in
                                          enumerate(zip(spike_mismatches, summary["spikes_compared"]))),
                 f"  memory   flash {report.flash_used} B / {board.flash.size}, RAM {report.ram_used} B / {board.ram.size}",
                 f"  time     {per_step:,.0f} instructions per step (max {summary['max_instructions_per_step']:,d}) = "
                 f"{100 * per_step / budget:.2f} % of {budget:,.0f} cycles ({network.dt * 1e3:g} ms at "
                 f"{board.clock_hz / 1e6:g} MHz, one instruction counted as one cycle)"]
        if args.count:
            lines += [f"    {name:<28} {value:10,.0f}" for name, value in per_phase.items()]
        if labels is not None:
            lines.append(f"  accuracy {100 * summary['accuracy']:.2f} %")
        lines.append("RESULT: " + ("bit-exact" if exact else "MISMATCH"))
        print("\n".join(lines))
    return 0 if exact else 1

"""`silifc compile` and `silifc run`: code generation and firmware in the emulator."""
from __future__ import annotations

import dataclasses
import json
import time

import numpy as np

from ..codegen.boards import load_board
from ..codegen.renode import write_renode_files
from ..pipeline import Artifacts, run_pipeline
from ..reference.int_ref import run_int
from ..target.profile import profile_run
from . import audio
from .common import add_model_options, add_quant_options, emit, load_counts, load_network, pipeline_options, say


def _prepare(args, **options):
    """The board (an unknown one fails before any work), the model, the pipeline options and
    the pipeline through `plan` (which refuses a project that cannot be built or does not fit)."""
    board = load_board(args.board)
    path, network = load_network(args)
    options = pipeline_options(args, network, board=board, prefix=args.prefix, synapses=args.synapses, **options)
    return network, options, run_pipeline(Artifacts(source=path, network=network), options, until="plan")


def cmd_compile(args) -> int:
    if args.audio:
        return audio.compile_audio(args)
    started = time.perf_counter()
    network, options, done = _prepare(args, output=args.output)
    done = run_pipeline(done, options, until="emit")
    board, path, quantized, project = options.board, done.source, done.quantized, done.project
    renode_files = None
    if board.renode is not None:
        counts, _, _ = load_counts(args, network)      # the self-check's sample: --input, else random events
        renode_files = write_renode_files(project, quantized, counts[0])
    seconds = time.perf_counter() - started
    report = {"model": str(path), "board": board.name, "output": str(project.directory), "prefix": args.prefix,
              "weights": args.weights, "synapses": args.synapses, "compile_seconds": round(seconds, 3),
              "memory": project.plan.to_dict()}
    lines = [f"compiled {path} for {board.name} into {project.directory} in {seconds:.2f} s", "",
             project.plan.to_text()]
    if args.build:
        image = run_pipeline(done, options, until="build").image
        report["linked"] = {"flash_used": image.flash_used, "ram_used": image.ram_used}
        lines.append(f"linked firmware {image.elf}: flash {image.flash_used} B of {board.flash.size}, "
                     f"RAM {image.ram_used} B of {board.ram.size} (with stack)")
    lines.append(f"build with: make -C {project.directory}   (or add it to a CMake/Zephyr build: CMakeLists.txt)")
    if renode_files is not None:
        report["renode"] = {"script": str(renode_files.script), "robot": str(renode_files.robot)}
        lines.append(f"Renode: {renode_files.script.name} / {renode_files.robot.name} in {renode_files.directory} "
                     f"(self-check firmware: `make -C {project.directory} renode`)")
    emit(args, report, "\n".join(lines))
    return 0


def cmd_run(args) -> int:
    if args.wav:
        return audio.run_audio(args)
    network, options, done = _prepare(args, progress=None if args.json else say, record_spikes=args.spikes)
    counts, labels, source = load_counts(args, network)
    board, path, quantized = options.board, done.source, done.quantized
    done = run_pipeline(done, options, until="build")
    if not args.json:
        say(f"running {counts.shape[0]} samples x {counts.shape[1]} steps in QEMU ({board.emulator.machine})")
    done = run_pipeline(done, dataclasses.replace(options, inputs=counts), until="run")
    project, report = done.project, done.report
    reference = run_int(quantized, counts)
    firmware = report.result
    output_match = np.all(firmware.outputs == reference.outputs, axis=1)
    decision_match = firmware.decisions == reference.decisions
    spike_mismatches = [int((a != b).sum()) for a, b in zip(firmware.spikes, reference.spikes)] if args.spikes else None
    budget = board.clock_hz * quantized.config.time_step_ms / 1000.0
    per_step = report.instructions_per_step
    layer_names = json.loads((project.directory / "memory_report.json").read_text())["layers"]
    profile = profile_run(report, quantized, counts, reference.spikes, args.synapses, layer_names)
    summary = {
        "model": str(path), "board": board.name, "weights": args.weights, "synapses": args.synapses,
        "input": source,
        "samples": int(counts.shape[0]), "steps": int(counts.shape[1]),
        "outputs_equal": int(output_match.sum()), "decisions_equal": int(decision_match.sum()),
        "spike_mismatches": spike_mismatches,
        "flash_used": report.flash_used, "ram_used": report.ram_used,
        "instructions_per_step": per_step, "real_time_budget": budget,
        "budget_fraction": per_step / budget,
        "phases_per_step": {k: v / report.steps for k, v in report.phase_instructions.items()},
        "max_instructions_per_step": int(profile.total.max()),
        "profile": profile.to_dict(),
        "decisions": firmware.decisions.tolist(),
    }
    if labels is not None:
        summary["accuracy"] = float((firmware.decisions == labels).mean())
    if args.out:
        firmware.save(args.out)
        summary["out"] = args.out
    exact = bool(output_match.all() and decision_match.all() and not any(spike_mismatches or []))
    summary["bit_exact"] = exact
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        samples = counts.shape[0]
        lines = [f"firmware vs integer reference on {source}",
                 f"  outputs  {output_match.sum()}/{samples} samples bit-exact, decisions {decision_match.sum()}/{samples} "
                 f"({100 * decision_match.mean():.1f} % agreement)"]
        if spike_mismatches is not None:
            lines.append("  hidden spikes: " + ", ".join(f"layer {i}: {m} mismatches" for i, m in enumerate(spike_mismatches)))
        lines.append(f"  memory   flash {report.flash_used} B / {board.flash.size}, RAM {report.ram_used} B / "
                     f"{board.ram.size} (incl. {board.stack_size} B stack)")
        lines.append(f"  time     {per_step:,.0f} instructions per step (max {profile.total.max():,d}) = "
                     f"{100 * per_step / budget:.1f} % of {budget:,.0f} cycles ({quantized.config.time_step_ms:g} ms "
                     f"at {board.clock_hz / 1e6:g} MHz, one instruction counted as one cycle); {args.synapses} synapses")
        if args.count:
            lines.append(f"  per-layer profile ({report.steps} steps; SOPs = non-zero presynaptic entries x fan-out):")
            lines.append(profile.to_text())
        if labels is not None:
            lines.append(f"  accuracy {100 * summary['accuracy']:.2f} %")
        if args.out:
            lines.append(f"  wrote {args.out}")
        lines.append("RESULT: " + ("bit-exact" if exact else "MISMATCH"))
        print("\n".join(lines))
    return 0 if exact else 1


def add_commands(sub) -> None:
    compile_ = sub.add_parser("compile", help="generate a firmware project for a board")
    add_model_options(compile_)
    add_quant_options(compile_)
    compile_.add_argument("--board", required=True, help="board name (see `silifc boards`)")
    compile_.add_argument("-o", "--output", required=True, help="project folder to write")
    compile_.add_argument("--prefix", default="silifc", help="C prefix of the model API (default silifc)")
    compile_.add_argument("--synapses", choices=("event", "dense"), default="event",
                          help="event: event-driven accumulation (default); dense: an int8 matrix-vector "
                               "product per layer per step (the baseline; no delays, int8 only)")
    compile_.add_argument("--build", action="store_true", help="also build the emulator firmware and report linked sizes")
    compile_.add_argument("--input", help="sample events for the Renode self-check (default: seeded random events)")
    compile_.add_argument("--audio", action="store_true",
                          help="add the always-listening keyword app: PCM -> front end -> network -> detector "
                               "(docs/kws.md)")
    compile_.add_argument("--json", action="store_true", help="machine-readable report")
    compile_.set_defaults(func=cmd_compile)

    run = sub.add_parser("run", help="build (cached) and run the firmware in the emulator, compare with the integer reference")
    add_model_options(run)
    add_quant_options(run)
    run.add_argument("--board", default="nrf52840", help="board name (default nrf52840)")
    run.add_argument("--input", help="spike input: .npy, .npz or SHD/SSC-style .h5 (default: seeded random events)")
    run.add_argument("--prefix", default="silifc", help="C prefix of the model API (default silifc)")
    run.add_argument("--synapses", choices=("event", "dense"), default="event",
                     help="event-driven (default) or the dense baseline, as for compile")
    run.add_argument("--count", action="store_true",
                     help="print the per-layer profile: instructions per step (mean, max) of each layer's synapse "
                          "and neuron phase, SOPs, instructions per SOP and per neuron update")
    run.add_argument("--spikes", action="store_true", help="also compare every hidden spike")
    run.add_argument("--out", help="write firmware outputs to this .npz (same layout as silifc infer)")
    run.add_argument("--wav", help="run the keyword-spotting firmware on this 16 kHz mono WAV (detections, step-by-step "
                                   "comparison with the integer reference; docs/kws.md)")
    run.add_argument("--json", action="store_true", help="machine-readable report")
    run.set_defaults(func=cmd_run)

"""`silifc compile` and `silifc run`: code generation and firmware in the emulator."""
from __future__ import annotations

from ..codegen.boards import load_board
from ..api import check_runnable
from ..codegen.emit import check_prefix
from ..errors import ConfigError
from ..io.files import check_output_folder, check_result_path
from . import audio
from .common import add_model_options, add_quant_options, emit, load_model, progress, quantize, say


def _board(args, run: bool = False):
    """The board of the command: an unknown one, a clashing prefix, or (for run) a board without
    an emulator fail before any work."""
    board = load_board(args.board)
    check_prefix(args.prefix)
    return check_runnable(board) if run else board


def cmd_compile(args) -> int:
    import time

    started = time.perf_counter()
    board = _board(args)
    if args.audio:
        return audio.compile_audio(args)
    check_output_folder(args.output)              # a file or an unwritable folder: before any work
    model = load_model(args)
    compiled = quantize(args, model, board).compile(board=board, output=args.output, prefix=args.prefix,
                                             synapses=args.synapses, layout=args.layout, sample=args.input)
    renode_files = compiled.renode(args.input) if args.layout == "project" else None
    seconds = time.perf_counter() - started
    plan = compiled.plan
    report = {"model": str(model.path), "board": board.name, "output": str(compiled.directory), "prefix": args.prefix,
              "weights": args.weights, "synapses": args.synapses, "layout": args.layout,
              "calibration": compiled.quantized.calibration.source, "compile_seconds": round(seconds, 3),
              "memory": plan.to_dict()}
    lines = [f"compiled {model.path} for {board.name} into {compiled.directory} in {seconds:.2f} s", "",
             plan.to_text()]
    if args.build:
        if args.layout != "project":
            say("--build: the Arduino layout is built by the Arduino IDE or arduino-cli, not here")
        else:
            image = compiled.build()
            report["linked"] = {"flash_used": image.flash_used, "ram_used": image.ram_used,
                                "max_stack_bytes": None if image.stack is None else image.stack.bytes}
            lines.append(f"linked firmware {image.elf}: flash {image.flash_used} B of {board.flash.size}, "
                         f"RAM {image.ram_used} B of {board.ram.size} (with stack)")
            if image.stack is not None:
                lines.append(f"  {image.stack.describe(board.stack_size)}")
    if args.layout == "arduino":
        lines.append(f"Arduino library: copy {compiled.directory} into your Arduino libraries folder; "
                     f"example sketch {compiled.arduino.example.relative_to(compiled.directory)}")
    else:
        lines.append(f"build with: make -C {compiled.directory}" + ("   (run it: make -C ... run)" if board.runnable
                                                                     else ""))
        lines.append(f"as a library: CMakeLists.txt (target {args.prefix}_model; cross-compile with "
                     f"-DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake), or the Zephyr module zephyr/module.yml "
                     f"(CONFIG_{args.prefix.upper()}_MODEL=y); API: model/{args.prefix}_model.h")
    if renode_files is not None:
        report["renode"] = {"script": str(renode_files.script), "robot": str(renode_files.robot)}
        lines.append(f"Renode: {renode_files.script.name} / {renode_files.robot.name} in {renode_files.directory} "
                     f"(self-check firmware: `make -C {compiled.directory} renode`)")
    emit(args, report, "\n".join(lines))
    return 0


def cmd_run(args) -> int:
    if args.cpi is not None and (not args.wav or load_board(args.board).device is None):
        raise ConfigError(f"--cpi sets the time model of the emulated nRF52840, so it applies only to a real board "
                          f"with --wav (e.g. --board nano33_ble_sense --wav F); board {args.board} runs in QEMU, "
                          f"which counts instructions exactly: drop --cpi")
    if args.wav:
        _board(args, run=load_board(args.board).device is None)   # a real board runs in the emulated nRF52840
        return audio.run_audio(args)
    board = _board(args, run=True)
    if args.out:
        check_result_path(args.out)               # before any work
    model = load_model(args)
    quantized = quantize(args, model, board)
    inputs = model.inputs(args.input)
    compiled = quantized.compile(board=board, prefix=args.prefix, synapses=args.synapses,
                                 progress=None if args.json else say)
    if not args.json:
        say(f"running {inputs.counts.shape[0]} samples x {inputs.counts.shape[1]} steps in QEMU ({board.emulator.machine})")
    run = compiled.run(inputs, spikes=args.spikes, progress=progress("QEMU", "sample", args))
    report, profile = run.report, run.profile
    budget = run.budget_cycles
    per_step = run.instructions_per_step
    cycles_per_step = run.cycles_per_step            # None: no cycle model for this core
    max_cycles = int(profile.total_cycles.max()) if profile.has_cycles else None
    firmware = run.result
    overrun = run.over_budget
    if overrun is not None:
        say("warning: " + overrun.message())
    summary = {
        "model": str(model.path), "board": board.name, "weights": args.weights, "synapses": args.synapses,
        "input": inputs.source, "calibration": quantized.calibration.source,
        "samples": int(inputs.counts.shape[0]), "steps": int(inputs.counts.shape[1]),
        "outputs_equal": int(run.outputs_equal.sum()), "decisions_equal": int(run.decisions_equal.sum()),
        "spike_mismatches": run.spike_mismatches,
        "flash_used": report.flash_used, "ram_used": report.ram_used,
        "max_stack_bytes": None if run.stack is None else run.stack.bytes,
        "stack": None if run.stack is None else run.stack.to_dict(),
        "instructions_per_step": per_step, "real_time_budget": budget,
        "cycle_model": report.cycle_model, "cycles_per_step": cycles_per_step, "max_cycles_per_step": max_cycles,
        # estimated cycles / budget cycles; None where the core has no cycle model
        "budget_fraction": None if cycles_per_step is None else cycles_per_step / budget,
        "budget_fraction_max": None if max_cycles is None else max_cycles / budget,
        "phases_per_step": {k: v / report.steps for k, v in report.phase_instructions.items()},
        "phase_cycles_per_step": None if report.phase_cycles is None else
        {k: v / report.steps for k, v in report.phase_cycles.items()},
        "max_instructions_per_step": int(profile.total.max()),
        "over_budget": None if overrun is None else overrun.to_dict(),
        "profile": profile.to_dict(),
        "decisions": firmware.decisions.tolist(),
    }
    if run.accuracy is not None:
        summary["accuracy"] = run.accuracy
    if args.out:
        firmware.save(args.out)
        summary["out"] = args.out
    if args.plot:
        from ..plots import plot_run

        summary["plot"] = str(plot_run(run, args.plot, title=f"{model.path.name} on {board.name}").path)
    exact = run.bit_exact
    summary["bit_exact"] = exact
    if args.json:
        emit(args, summary, "")
    else:
        samples = inputs.counts.shape[0]
        output_match, decision_match = run.outputs_equal, run.decisions_equal
        lines = [f"firmware vs integer reference on {inputs.source}",
                 f"  outputs  {output_match.sum()}/{samples} samples bit-exact, decisions {decision_match.sum()}/{samples} "
                 f"({100 * decision_match.mean():.1f} % agreement)"]
        if run.spike_mismatches is not None:
            lines.append("  spikes   " + ", ".join(f"layer {i}: {m} mismatches"
                                                  for i, m in enumerate(run.spike_mismatches)))
        lines.append(f"  memory   flash {report.flash_used} B / {board.flash.size}, RAM {report.ram_used} B / "
                     f"{board.ram.size} (incl. {board.stack_size} B stack)")
        if run.stack is not None:
            lines.append(f"  stack    {run.stack.describe(board.stack_size)}")
        time = f"  time     {per_step:,.0f} instructions per step (max {profile.total.max():,d}); "
        if cycles_per_step is None:
            time += f"no cycle model for {board.cpu}, so no share of the real-time budget (docs/cycles.md)"
        else:
            time += (f"est. {cycles_per_step:,.0f} {report.cycle_model} cycles per step (max {max_cycles:,d}) = "
                     f"{100 * cycles_per_step / budget:.1f} % of {budget:,.0f} cycles, max step "
                     f"{100 * max_cycles / budget:.1f} % ({run.time_step_ms:g} ms at "
                     f"{board.clock_hz / 1e6:g} MHz, zero wait states: docs/cycles.md)")
        lines.append(time + f"; {args.synapses} synapses")
        if args.count:
            lines.append(f"  per-layer profile ({report.steps} steps; SOPs = non-zero presynaptic entries x fan-out):")
            lines.append(profile.to_text())
        if run.accuracy is not None:
            lines.append(f"  accuracy {100 * run.accuracy:.2f} %")
        if args.out:
            lines.append(f"  wrote {args.out}")
        if args.plot:
            lines.append(f"  plot     {summary['plot']}")
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
    compile_.add_argument("--input", help="sample events for `make run` (app/sample.slfi) and the Renode self-check "
                                          "(default: seeded random events)")
    compile_.add_argument("--layout", choices=("project", "arduino"), default="project",
                          help="project: Makefile, CMake library with a toolchain file, Zephyr module (default); "
                               "arduino: an Arduino library (library.properties, src/, an example sketch)")
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
                     help="print the per-layer profile: instructions and estimated cycles per step (mean, max) of "
                          "each layer's synapse and neuron phase, SOPs, instructions and cycles per SOP and per "
                          "neuron update")
    run.add_argument("--spikes", action="store_true", help="also compare every spike of every spiking layer")
    run.add_argument("--out", help="write firmware outputs to this .npz (same layout as silifc infer)")
    run.add_argument("--wav", help="run the keyword-spotting firmware on this 16 kHz mono WAV (detections, step-by-step "
                                   "comparison with the integer reference; docs/kws.md)")
    run.add_argument("--plot", metavar="PNG", help="also draw the cycles (or instructions) per step over time with "
                                                   "the phases stacked, and the memory map by buffer, into this PNG")
    run.add_argument("--cpi", type=float,
                     help="real boards with --wav: the emulated nRF52840's average Cortex-M4 cycles per instruction "
                          "(default: estimated by running the same keyword pipeline in QEMU with the Cortex-M4 cycle "
                          "model, docs/cycles.md); time asleep, overruns and power follow from it")
    run.add_argument("--json", action="store_true", help="machine-readable report")
    run.set_defaults(func=cmd_run)

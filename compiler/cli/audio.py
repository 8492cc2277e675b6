"""Always-listening keyword spotting on the command line (docs/kws.md):

* `silifc listen --wav F [MODEL]`: the integer reference on the host (front end, network,
  detector), printing what the firmware prints;
* `compile_audio(args)` and `run_audio(args)`: `silifc compile MODEL --audio` and
  `silifc run MODEL --wav F` (dispatched from silifc.cli.firmware): the streaming firmware
  project, and that firmware in QEMU compared with the reference, step for step; for a
  real board (a `device` section in its board file) the device application instead, and
  its ELF on the emulated nRF52840 compared with the reference line for line (docs/device.md).

MODEL defaults to the bundled keyword model `kws_silif.pt` (models/kws/); a bare file name
is looked up among all bundled models (models/*/).
"""
from __future__ import annotations

import dataclasses
import json
import time

from ..codegen.boards import load_board
from ..codegen.renode import RENODE_PART
from ..io.files import check_output_folder, remove_generated
from ..kws.audio.labelled_streams import read_stream_events
from ..kws.audio.wav import SAMPLE_RATE, read_wav
from ..kws.device import DEVICE_PART, build_device_firmware, run_device_audio, write_device_project
from ..kws.firmware import (AUDIO_PART, PER_STEP_PHASES, build_audio_firmware, run_audio_firmware,
                            write_audio_project)
from ..api import Calibration
from ..kws.model import RANDOM_CALIBRATION, kws_model_path, load_kws_model
from ..kws.score import score_detections
from .common import add_quant_options, config_overrides, emit, progress, say, say_calibration


def _load(args):
    """The keyword model of the command (MODEL, else the bundled one) with --on/--off/--hold-ms/
    --shift applied to its detector settings."""
    overrides = config_overrides(args) if hasattr(args, "spatial_bin") else None
    model = load_kws_model(kws_model_path(getattr(args, "model", None)), args.weights, args.headroom,
                           getattr(args, "calibration", None), overrides)
    say_calibration(Calibration(model.calibration, random=model.calibration == RANDOM_CALIBRATION))
    chosen = {name: getattr(args, name, None) for name in ("on", "off", "hold_ms", "shift")}
    changes = {k: v for k, v in chosen.items() if v is not None}
    if changes:
        model = dataclasses.replace(model, detector=dataclasses.replace(model.detector, **changes))
    return model


def _score_lines(trace, events, model) -> tuple[list[str], dict | None]:
    if events is None:
        return [], None
    score = score_detections(trace.detections, events, trace.sample_rate, model.classes[:model.keywords])
    said = ", ".join(f"{e.word}@{1000 * e.start // trace.sample_rate}ms" for e in events)
    spoken_keywords = sum(e.word in model.classes[:model.keywords] for e in events)
    result = (f"score: {score.hits}/{spoken_keywords} keywords detected"
              + (f"; missed {', '.join(score.misses)}" if score.misses else "")
              + (f"; wrong {', '.join(score.wrong)}" if score.wrong else "")
              + (f"; false alarms {', '.join(score.false_alarms)}" if score.false_alarms else ""))
    return [f"spoken (JSON sidecar): {said}", result], score.to_dict()


def _model_line(model) -> str:
    q = model.quantized
    arch = " -> ".join(str(w) for w in (q.n_inputs, *(layer.synapses.n_out for layer in q.layers)))
    kinds = "/".join(layer.kind for layer in q.layers)
    d = model.detector
    return (f"model  {model.path} ({arch}, {kinds}; calibrated on {model.calibration})\n"
            f"detect {', '.join(model.classes[:model.keywords])}; leaky average over {2 ** d.shift} steps, "
            f"on {d.on:g}, off {d.off:g}, hold {d.hold_ms:g} ms")


# ---------------------------------------------------------------- silifc listen

def cmd_listen(args) -> int:
    started = time.perf_counter()
    model = _load(args)
    pcm = model.check_audio(read_wav(args.wav, SAMPLE_RATE), args.wav)
    trace = model.listen(pcm)
    seconds = time.perf_counter() - started
    score_lines, score = _score_lines(trace, read_stream_events(args.wav), model)
    plot = None
    if args.plot:
        from ..plots import plot_listen

        plot = str(plot_listen(trace, args.plot, model.classes, model.keywords, title=model.path.name).path)
    if args.json:
        print(json.dumps({"model": str(model.path), "wav": args.wav, "engine": "int (host reference)",
                          "steps": trace.steps, "detections": [d.__dict__ for d in trace.detections],
                          "score": score, "plot": plot,
                          "seconds": round(seconds, 2)}, indent=2))
    else:
        print(_model_line(model) + f"\nstream {args.wav}: {len(pcm) / SAMPLE_RATE:.2f} s, integer reference on the host")
        print("\n".join(trace.lines() + score_lines + ([f"plot {plot}"] if plot else [])))
    return 0


# ---------------------------------------------------------------- silifc compile --audio

def compile_audio(args) -> int:
    """`silifc compile MODEL --board B -o DIR --audio`: the model project plus the streaming app."""
    started = time.perf_counter()
    board = load_board(args.board)
    check_output_folder(args.output)
    model = _load(args)
    synapses = getattr(args, "synapses", None) or "event"
    if getattr(args, "layout", "project") == "arduino":
        return _compile_audio_arduino(args, model, board, synapses, started)
    if board.device is not None:
        return _compile_device_audio(args, model, board, started)
    audio = write_audio_project(model, board, args.output, args.prefix, args.weights, synapses)
    for part in (RENODE_PART, DEVICE_PART):                   # an earlier plain or device compile here
        remove_generated(audio.directory, part)
    seconds = time.perf_counter() - started
    plan = audio.project.plan
    report = {"model": str(model.path), "board": board.name, "output": str(audio.directory), "prefix": args.prefix,
              "weights": args.weights, "audio": True, "layout": "project", "classes": list(model.classes),
              "keywords": list(model.classes[:model.keywords]), "detector": model.detector.to_dict(),
              "calibration": model.calibration, "compile_seconds": round(seconds, 3), "memory": plan.to_dict()}
    lines = [f"compiled {model.path} for {board.name} with the always-listening app into {audio.directory} "
             f"in {seconds:.2f} s", _model_line(model), "", plan.to_text(),
             f"kws/{args.prefix}_kws.h: the keyword pipeline as a library (front end -> network -> detector per step; "
             f"CMake target {args.prefix}_kws); audio/main.c: its I/O in the emulator; audio/pcm_source.h: the "
             "microphone hook (emulator: WAV over semihosting)"]
    if getattr(args, "build", False):
        _, image = build_audio_firmware(model, board, args.weights, args.prefix, work_dir=args.output,
                                        synapses=synapses)
        report["linked"] = {"flash_used": image.flash_used, "ram_used": image.ram_used}
        lines.append(f"linked firmware {image.elf}: flash {image.flash_used} B of {board.flash.size}, "
                     f"RAM {image.ram_used} B of {board.ram.size} (with the {board.stack_size} B stack)")
    lines.append(f"build with: make -C {audio.directory} -f audio/Makefile   "
                 f"(run in QEMU: ... run WAV=speech.wav, or `silifc run MODEL --wav speech.wav`)")
    emit(args, report, "\n".join(lines))
    return 0


def _compile_audio_arduino(args, model, board, synapses: str, started: float) -> int:
    """`silifc compile --audio --layout arduino`: the model and the keyword library as an Arduino library."""
    from ..codegen.package import write_arduino_library
    from ..kws.firmware import kws_compile_options, kws_library_files

    options = kws_compile_options(model, board, args.prefix, args.weights, synapses)
    library = write_arduino_library(model.quantized, options, args.output,
                                    extra_files=kws_library_files(model, board, args.prefix))
    seconds = time.perf_counter() - started
    report = {"model": str(model.path), "board": board.name, "output": str(library.directory), "prefix": args.prefix,
              "weights": args.weights, "audio": True, "layout": "arduino", "calibration": model.calibration,
              "compile_seconds": round(seconds, 3), "memory": library.plan.to_dict()}
    emit(args, report, "\n".join([
        f"compiled {model.path} with the keyword library as an Arduino library into {library.directory} in "
        f"{seconds:.2f} s", _model_line(model), "", library.plan.to_text(),
        f"src/{args.prefix}_kws.h: the keyword pipeline (16 kHz mono PCM in, keywords out); copy the folder into "
        "your Arduino libraries folder"]))
    return 0


def _compile_device_audio(args, model, board, started) -> int:
    """A real board (a `device` section in its board file): the model project plus device/,
    the application that runs on the board (docs/device.md)."""
    synapses = getattr(args, "synapses", None) or "event"
    project = write_device_project(model, board, args.output, args.prefix, args.weights, synapses)
    for part in (RENODE_PART, AUDIO_PART):                    # an earlier plain or QEMU-app compile here
        remove_generated(project.directory, part)
    device = board.device
    report = {"model": str(model.path), "board": board.name, "output": args.output, "prefix": args.prefix,
              "weights": args.weights, "audio": True, "device": True, "classes": list(model.classes),
              "keywords": list(model.classes[:model.keywords]), "register_header": str(project.register_header)}
    lines = [f"device/main.c: PDM -> front end -> network -> detector per {model.step_ms:g} ms buffer, UART lines "
             f"'<ms> <word> <score>' on {device.uart_tx} at {device.uart_baud} baud, LED {device.led}; "
             f"device/{project.register_header.name}: every register it writes"]
    if getattr(args, "build", False):
        _, image = build_device_firmware(model, board, args.weights, args.prefix, work_dir=args.output,
                                         synapses=synapses)
        report["linked"] = {"flash_used": image.flash_used, "ram_used": image.ram_used,
                            "artefacts": [str(p) for p in image.artefacts]}
        lines.append(f"linked {image.elf}: flash {image.flash_used} B of {board.flash.size} from "
                     f"0x{board.flash.origin:X}, RAM {image.ram_used} B of {board.ram.size}; "
                     + ", ".join(p.name for p in image.artefacts))
    lines.append(f"build with: make -C {args.output} -f device/Makefile; flash with: silifc flash MODEL --board "
                 f"{board.name} (docs/device.md)")
    seconds = time.perf_counter() - started
    report["compile_seconds"] = round(seconds, 3)
    emit(args, report, "\n".join([f"compiled {model.path} for {board.name} ({board.description}) with the device "
                                  f"application into {args.output} in {seconds:.2f} s", _model_line(model), *lines]))
    return 0


# ---------------------------------------------------------------- silifc run --wav

def run_audio(args) -> int:
    """`silifc run MODEL --wav F`: the streaming firmware in QEMU vs the integer reference."""
    board = load_board(args.board)
    model = _load(args)
    if board.device is not None:
        return _run_device_audio(args, model, board)
    # Refuses a wrong format (with a conversion hint), a truncated file or too little audio, before building.
    pcm = model.check_audio(read_wav(args.wav, SAMPLE_RATE), args.wav)
    audio, image = build_audio_firmware(model, board, args.weights, args.prefix,
                                        progress=None if args.json else say,
                                        synapses=getattr(args, "synapses", None) or "event")
    if not args.json:
        say(f"running {len(pcm) / SAMPLE_RATE:.2f} s of audio in QEMU ({board.emulator.machine})")
    firmware = run_audio_firmware(audio, image, model, args.wav, progress=progress("QEMU", "step", args))
    reference = model.listen(pcm)
    exact = reference.equal(firmware.trace) and reference.detections == firmware.trace.detections
    printed = [line for line in firmware.stdout.splitlines() if line.startswith(("detected ", "end of stream"))]
    budget = board.clock_hz * model.step_ms / 1000.0
    per_step = {name: firmware.per_step(name) for name in PER_STEP_PHASES}
    total = sum(per_step.values())
    cycles = None if firmware.phase_cycles is None else \
        {name: firmware.cycles_per_step(name) for name in PER_STEP_PHASES}
    total_cycles = None if cycles is None else sum(cycles.values())
    mean_cost, unit = (total, "instructions") if total_cycles is None else \
        (total_cycles, f"est. {firmware.cycle_model} cycles")
    if mean_cost > budget:
        say(f"warning: {mean_cost:,.0f} {unit} per step on average exceed the real-time budget of {budget:,.0f} "
            f"cycles ({model.step_ms:g} ms at {board.clock_hz / 1e6:g} MHz): the device would fall behind the audio")
    score_lines, score = _score_lines(firmware.trace, read_stream_events(args.wav), model)
    summary = {"model": str(model.path), "board": board.name, "wav": args.wav, "weights": args.weights,
               "steps": firmware.trace.steps, "detections": [d.__dict__ for d in firmware.trace.detections],
               "bit_exact": bool(exact),
               "difference": None if exact else reference.first_difference(firmware.trace),
               "instructions_per_step": {"frontend": per_step["audio_phase_frontend"],
                                         "network": per_step["audio_phase_network"],
                                         "detector": per_step["audio_phase_detect"], "total": total},
               "cycle_model": firmware.cycle_model,
               "cycles_per_step": None if cycles is None else
               {"frontend": cycles["audio_phase_frontend"], "network": cycles["audio_phase_network"],
                "detector": cycles["audio_phase_detect"], "total": total_cycles},
               # estimated cycles / budget cycles (docs/cycles.md); None without a cycle model
               "real_time_budget": budget, "budget_fraction": None if cycles is None else total_cycles / budget,
               "flash_used": firmware.flash_used, "ram_used": firmware.ram_used, "score": score,
               "max_stack_bytes": None if image.stack is None else image.stack.bytes}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        lines = [_model_line(model), f"firmware output ({board.name} in QEMU, {args.wav}):"]
        lines += ["  " + line for line in printed]
        lines += score_lines
        lines.append(f"firmware vs integer reference: {firmware.trace.steps} steps, front-end counts, per-step "
                     f"probabilities and detections " + ("all equal" if exact else
                                           f"DIFFER ({reference.first_difference(firmware.trace)})"))
        if cycles is None:
            lines.append(f"  time     {total:,.0f} instructions per {model.step_ms:g} ms step; no cycle model for "
                         f"{board.cpu}, so no share of the real-time budget (docs/cycles.md)")
        else:
            lines.append(f"  time     {total:,.0f} instructions, est. {total_cycles:,.0f} {firmware.cycle_model} cycles "
                         f"per {model.step_ms:g} ms step = {100 * total_cycles / budget:.1f} % of {budget:,.0f} cycles "
                         f"at {board.clock_hz / 1e6:g} MHz (zero wait states: docs/cycles.md)")
        for name, label in (("audio_phase_frontend", "front end + events"), ("audio_phase_network", "network"),
                            ("audio_phase_detect", "detector")):
            share = "" if cycles is None else f"  {cycles[name]:>9,.0f} cycles  {100 * cycles[name] / budget:5.1f} %"
            lines.append(f"           {label:<20} {per_step[name]:>9,.0f} instr{share}")
        lines.append(f"  memory   flash {firmware.flash_used} B / {board.flash.size}, RAM {firmware.ram_used} B / "
                     f"{board.ram.size} (incl. {board.stack_size} B stack)")
        if image.stack is not None:
            lines.append(f"  stack    {image.stack.describe(board.stack_size)}")
        lines.append("RESULT: " + ("bit-exact" if exact else "MISMATCH"))
        print("\n".join(lines))
    return 0 if exact else 1


def _run_device_audio(args, model, board) -> int:
    """A real board: its device firmware on the emulated nRF52840 vs the integer reference."""
    summary, _, _ = run_device_audio(model, board, args.wav, args.weights, args.prefix,
                                     progress=None if args.json else say,
                                     cpi=args.cpi,
                                     synapses=getattr(args, "synapses", None) or "event")
    emit(args, summary, device_run_text(summary, board))
    return 0 if summary["passed"] else 1


def device_run_text(summary: dict, board) -> str:
    """The report of a device run (silifc run --board <real board> --wav F) as text."""
    cpi = summary["cpi"]
    lines = [f"device firmware ({board.name}) in the emulated nRF52840, UART output:"]
    lines += ["  " + line for line in summary["other_lines"] + summary["detections"]]
    lines.append("integer reference (silifc listen): " + ("; ".join(summary["reference"]) or "no detections"))
    same = summary["same_as_reference"]
    lines.append(f"detections: {'same words at the same steps and scores' if same else 'DIFFER'}; "
                 f"overruns {summary['overruns']} (at CPI {cpi:g}); {summary['buffers']} PDM buffers = "
                 f"{summary['reference_steps']} reference steps" + ("" if summary["buffers"] == summary["reference_steps"]
                                                                 else " MISMATCH"))
    if summary["reset"]:
        lines.append(f"RESET: {summary['reset']}")
    wakeup = summary["instructions_per_wakeup"]
    limit = summary["overrun_free_below_cpi"]
    lines.append(f"  time     {wakeup['mean']:,.0f} instructions per wake-up (exact; max {wakeup['max']:,d} = "
                 f"{100 * summary['max_wakeup_fraction_of_step']:.1f} % of a "
                 f"{summary['budget_cycles_per_buffer']:,.0f}-cycle buffer at CPI {cpi:g}; the longest fits a buffer "
                 f"up to CPI " + (f"{limit:.1f}" if limit else "-") + ")")
    lines.append(f"           asleep {100 * summary['asleep_fraction']:.1f} % of {summary['emulated_seconds']:.2f} s "
                 f"at CPI {cpi:.2f} (cycles = instructions x CPI, {summary['cpi_source']}; docs/device.md)")
    lines.append(f"  memory   flash {summary['flash_used']} B / {board.flash.size} (from 0x{board.flash.origin:X}), "
                 f"RAM {summary['ram_used']} B / {board.ram.size} (incl. {board.stack_size} B stack)")
    lines.append("  " + summary["power"]["text"])
    lines.append(f"  emulation {summary['emulation_wall_seconds']:.1f} s wall, "
                 f"{summary['emulated_instructions_per_second'] / 1e6:.1f} M instructions/s")
    lines.append("RESULT: " + ("same as the reference" if summary["passed"] else "MISMATCH"))
    return "\n".join(lines)
# ---------------------------------------------------------------- silifc kws-eval

def cmd_kws_eval(args) -> int:
    from ..kws.eval import evaluate_folder

    model = _load(args)
    started = time.perf_counter()
    report = None if args.json else (lambda text: print(text, flush=True))
    if report:
        print(_model_line(model) + f"\nstreams {args.streams}: integer reference (= the firmware, bit for bit)")
    total, per_stream = evaluate_folder(model, args.streams, args.labels, args.late_ms, report,
                                        args.frontend_engine)
    summary = {"model": str(model.path), "streams": args.streams, "detector": model.detector.to_dict(),
               "late_ms": args.late_ms, **total.summary(), "seconds": round(time.perf_counter() - started, 1),
               "per_stream": per_stream}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for row in per_stream:
            if row["missed"] or row["wrong_words"] or row["false_alarm_list"]:
                print(f"  {row['file']}: " + "; ".join(part for part in (
                    "missed " + ", ".join(row["missed"]) if row["missed"] else "",
                    "wrong " + ", ".join(row["wrong_words"]) if row["wrong_words"] else "",
                    "false alarms " + ", ".join(row["false_alarm_list"]) if row["false_alarm_list"] else "")
                    if part))
        print("RESULT: " + total.line())
    return 0


# ---------------------------------------------------------------- registration

def add_detector_options(parser) -> None:
    parser.add_argument("--on", type=float, help="detection threshold: average probability (default: the model's)")
    parser.add_argument("--off", type=float, help="re-arm threshold (default: the model's)")
    parser.add_argument("--hold-ms", type=float, help="refractory period after a detection (default: the model's)")
    parser.add_argument("--shift", type=int, help="leaky average over 2^SHIFT steps (default: the model's)")


def add_commands(sub) -> None:
    listen = sub.add_parser("listen", help="detect keywords in a WAV file with the integer reference (host)",
                            description="Runs the always-listening pipeline (front end, network, detector) on "
                                        "the host, bit for bit what the firmware computes, and prints each "
                                        "detected keyword with its time. See docs/kws.md.")
    listen.add_argument("model", nargs="?", help="keyword model (default: the bundled kws_silif.pt)")
    listen.add_argument("--wav", required=True, help="16 kHz mono 16-bit PCM WAV file")
    add_quant_options(listen)
    add_detector_options(listen)
    listen.add_argument("--plot", metavar="PNG", help="also draw the front-end counts with the detections marked, and "
                                                      "each keyword's probability per step, into this PNG file")
    listen.add_argument("--json", action="store_true", help="machine-readable report")
    evaluate = sub.add_parser("kws-eval", help="score a keyword model on a folder of labelled WAV streams",
                              description="Runs the integer reference (bit for bit the firmware) over every "
                                          "labelled WAV of STREAMS and scores hits, misses, wrong words, false "
                                          "alarms per hour and detection latency. Labels: STREAMS/labels.json, "
                                          "--labels, or a JSON sidecar per WAV. See docs/kws.md.")
    evaluate.add_argument("model", nargs="?", help="keyword model (default: the bundled kws_silif.pt)")
    evaluate.add_argument("streams", help="folder of 16 kHz mono WAV files")
    evaluate.add_argument("--labels", help="labels file (default STREAMS/labels.json)")
    evaluate.add_argument("--frontend-engine", choices=("c", "python"), default="c",
                          help="front end: the runtime's C built for the host (default; needs gcc, bit-exact "
                               "with the Python specification, ~100x faster) or the Python specification")
    evaluate.add_argument("--late-ms", type=float, default=1000.0,
                          help="a keyword counts as hit up to this long after its end (default 1000)")
    add_quant_options(evaluate)
    add_detector_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="machine-readable report (with every stream)")
    evaluate.set_defaults(func=cmd_kws_eval)
    listen.set_defaults(func=cmd_listen)

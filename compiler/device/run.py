"""`silifc run MODEL --board <device board> --wav F`: the device firmware in the emulated
nRF52840 against `silifc listen` (the integer reference) on the same audio.

The device prints one UART line per detection, "<ms> <word> <score>": the stream time at the
end of the step (silifc.kws._time_ms), the keyword and the detector's leaky average of its
probability in thousandths. `reference_lines` computes the same lines from the reference trace,
so "same words at the same steps" is an exact comparison of the lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

DETECTION_LINE = re.compile(r"(\d+) ([A-Za-z0-9_-]+) (0\.\d{3})\Z")
OVERRUN_LINE = re.compile(r"(\d+) overruns (\d+)\Z")


def detection_score(acc: int, shift: int) -> str:
    """The firmware's score text: acc / 2^(16 + shift) in thousandths, at most 0.999."""
    milli = min(999, (int(acc) * 1000) >> (16 + shift))
    return f"0.{milli:03d}"


def reference_lines(model, trace) -> list[str]:
    """The detection lines the device must print for this reference trace."""
    from ..kws import Detector

    detector = Detector(model.params)
    lines = []
    detections = iter(trace.detections)
    upcoming = next(detections, None)
    for step, p in enumerate(trace.probabilities):
        found = detector.step(p)
        if upcoming is not None and upcoming.step == step:
            assert found == upcoming.cls, "the detector replay disagrees with the trace"
            lines.append(f"{upcoming.time_ms} {upcoming.word} {detection_score(detector.acc[found], model.params.shift)}")
            upcoming = next(detections, None)
    return lines


@dataclass(frozen=True)
class DeviceComparison:
    device_lines: list[str]          # the UART's detection lines
    reference_lines: list[str]
    overruns: int                    # the largest count the firmware reported (0 if none)
    other_lines: list[str]           # start line, errors, fault reports
    steps_reference: int
    buffers: int

    @property
    def equal(self) -> bool:
        return self.device_lines == self.reference_lines and self.overruns == 0 and self.buffers == self.steps_reference


def compare(model, trace, emulation) -> DeviceComparison:
    detections, others, overruns = [], [], 0
    for line in emulation.lines:
        if DETECTION_LINE.match(line):
            detections.append(line)
        elif OVERRUN_LINE.match(line):
            overruns = max(overruns, int(OVERRUN_LINE.match(line)[2]))
        else:
            others.append(line)
    return DeviceComparison(detections, reference_lines(model, trace), overruns, others, trace.steps,
                            emulation.buffers)


def step_budget_cycles(model, clock_hz: int) -> float:
    return clock_hz * model.step_ms / 1000.0


def summarize(model, board, emulation, comparison, wav: str) -> dict:
    from .power import CURRENTS, estimate_power

    awake = np.asarray(emulation.awake_instructions[1:] or [0])
    budget = step_budget_cycles(model, emulation.clock_hz)
    power = estimate_power(1.0 - emulation.asleep_fraction)
    return {
        "model": str(model.path), "board": board.name, "wav": wav, "emulator": "nRF52840 (Unicorn + register models)",
        "detections": comparison.device_lines, "reference": comparison.reference_lines,
        "same_as_reference": comparison.device_lines == comparison.reference_lines,
        "overruns": comparison.overruns, "buffers": emulation.buffers, "reference_steps": comparison.steps_reference,
        "other_lines": comparison.other_lines, "reset": emulation.reset,
        "instructions": emulation.instructions, "cpi": emulation.cpi,
        "boot_instructions": int(emulation.awake_instructions[0]) if emulation.awake_instructions else 0,
        "instructions_per_wakeup": {"mean": float(awake.mean()), "max": int(awake.max())},
        "max_wakeup_fraction_of_step": float(awake.max() * emulation.cpi / budget),
        "asleep_fraction": emulation.asleep_fraction, "emulated_seconds": emulation.seconds,
        "pins": emulation.pins, "hfxo_running_at_pdm_start": emulation.hfxo_running_at_pdm_start,
        "led_on_events": sum(1 for change in emulation.led_changes if change[1] == str(board.device.led)
                             and change[2] == (0 if board.device.led_active_low else 1)),
        "power": {"current_ma": power.current_ma, "days_on_100mah": power.days, "parts_ma": power.parts,
                  "sources": {k: v[1] for k, v in CURRENTS.items()}},
        "emulation_wall_seconds": emulation.wall_seconds,
        "emulated_instructions_per_second": emulation.instructions_per_second,
        "passed": comparison.equal and emulation.reset is None,
    }


def run_device_audio(model, board, wav: str, weights: str = "int8", prefix: str = "silifc", progress=None,
                     cpi: float | None = None, synapses: str = "event"):
    """Build (cached), emulate and compare; returns (summary dict, emulation result, image)."""
    from ..audio.wav import read_wav
    from .app import build_device_firmware
    from .nrf52840_emu import DEFAULT_CPI, run_device_elf

    pcm = read_wav(wav, 16000)
    _, image = build_device_firmware(model, board, weights, prefix, progress=progress, synapses=synapses)
    if progress:
        progress(f"running {len(pcm) / 16000:.2f} s of audio on the emulated nRF52840 ({board.name} firmware)")
    emulation = run_device_elf(image.elf, pcm, cpi=cpi or DEFAULT_CPI, clock_hz=board.clock_hz)
    trace = model.listen(pcm)
    comparison = compare(model, trace, emulation)
    summary = summarize(model, board, emulation, comparison, wav)
    summary.update({"flash_used": image.flash_used, "ram_used": image.ram_used,
                    "artefacts": [str(p) for p in image.artefacts]})
    return summary, emulation, image


def summary_text(summary: dict, board) -> str:
    from .power import estimate_power

    lines = [f"device firmware ({board.name}) in the emulated nRF52840, UART output:"]
    lines += ["  " + line for line in summary["other_lines"] + summary["detections"]]
    lines.append(f"integer reference (silifc listen): " + ("; ".join(summary["reference"]) or "no detections"))
    same = summary["same_as_reference"]
    lines.append(f"detections: {'same words at the same steps and scores' if same else 'DIFFER'}; "
                 f"overruns {summary['overruns']}; {summary['buffers']} PDM buffers = "
                 f"{summary['reference_steps']} reference steps" + ("" if summary["buffers"] == summary["reference_steps"]
                                                                 else " MISMATCH"))
    if summary["reset"]:
        lines.append(f"RESET: {summary['reset']}")
    w = summary["instructions_per_wakeup"]
    lines.append(f"  time     {w['mean']:,.0f} instructions per wake-up (max {w['max']:,d} = "
                 f"{100 * summary['max_wakeup_fraction_of_step']:.1f} % of a step at CPI {summary['cpi']:g}); "
                 f"asleep {100 * summary['asleep_fraction']:.1f} % of {summary['emulated_seconds']:.2f} s "
                 f"(cycles = instructions x CPI {summary['cpi']:g}, an estimate)")
    lines.append(f"  memory   flash {summary['flash_used']} B / {board.flash.size} (from 0x{board.flash.origin:X}), "
                 f"RAM {summary['ram_used']} B / {board.ram.size} (incl. {board.stack_size} B stack)")
    lines += ["  " + line for line in estimate_power(1.0 - summary["asleep_fraction"]).lines()]
    lines.append(f"  emulation {summary['emulation_wall_seconds']:.1f} s wall, "
                 f"{summary['emulated_instructions_per_second'] / 1e6:.1f} M instructions/s")
    lines.append("RESULT: " + ("same as the reference" if summary["passed"] else "MISMATCH"))
    return "\n".join(lines)

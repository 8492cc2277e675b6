"""Generated firmware projects built the way a user's build would compile them, with any runtime
path and optimisation level (silifc's own builds use -O2 and the board's path)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from silifc.codegen.boards import load_board
from silifc.io.checkpoint import parse_state_dict
from silifc.io.inputs import random_input
from silifc.passes.fold import fold_network
from silifc.passes.quantize import quantize_network
from silifc.codegen.emit import CompileOptions, write_project
from silifc.codegen.runtime import runtime_sources
from silifc.target.firmware import run_model
from silifc.target.toolchain import build_firmware
from synthetic import random_state_dict


def build_project(quantized, board_name: str, out_dir: Path, *, dsp: bool | None = None, opt: str = "-O2",
                  extra_cflags: tuple[str, ...] = (), synapses: str = "event", weights: str = "int8"):
    """Write the project of `quantized` and build its emulator firmware from the same sources the
    generated Makefile compiles: model, app, runtime/src/*.c and runtime/src/<dsp|portable>/*.c
    with SLF_USE_DSP set to match. Returns (project, image)."""
    board = load_board(board_name)
    dsp = board.has_dsp if dsp is None else dsp
    project = write_project(quantized, CompileOptions(board=board, weights=weights, synapses=synapses), out_dir)
    sources = [project.app_source, out_dir / "model" / f"{project.prefix}_model.c",
               *runtime_sources(dsp, out_dir / "runtime")]
    image = build_firmware(sources, project.include_dirs, board, out_dir / "build",
                           defines={"SILIFC_PROFILE": None, "SLF_USE_DSP": int(dsp)}, opt=opt,
                           extra_cflags=("-Werror", *extra_cflags), name="firmware")
    return project, image


def assert_bit_exact(report, reference):
    """Every output, decision and hidden spike of the firmware equals the integer reference's."""
    assert np.array_equal(report.result.outputs, reference.outputs)
    assert np.array_equal(report.result.decisions, reference.decisions)
    for got, want in zip(report.result.spikes, reference.spikes, strict=True):
        assert np.array_equal(got, want)


def run_bit_exact(project, image, quantized, counts, reference):
    report = run_model(project, image, quantized, counts, record_spikes=True)
    assert_bit_exact(report, reference)
    return report


STEPS = 320          # longer than the longest delay of long_delay_model, so that its contributions arrive


def long_delay_model(max_delay=255, widths=(16, 24, 20, 4), kinds=("silif", "csilif"), seed=5, weight_bits=8):
    """Byte delays up to max_delay on the input synapses, 4-bit delays (<= 15) on layer 1, none on the
    readout (which then qualifies for 16-bit lanes); max_delay = 0: no delays at all."""
    import torch

    state = random_state_dict(widths, kinds, seed=seed, max_delay=max_delay)
    if max_delay:
        state["snn.1.delays"] = torch.remainder(state["snn.1.delays"], 16)
        del state[f"snn.{len(widths) - 2}.delays"]
    counts = random_input(widths[0], 2, STEPS, 0.05, 1, seed=seed)
    quantized = quantize_network(fold_network(parse_state_dict(state)), calibration=counts, weight_bits=weight_bits)
    return quantized, counts

"""Slow matrix (scripts/test.sh --slow): both paper models on every board, golden inputs."""
from __future__ import annotations

import numpy as np
import pytest

from silifc.codegen.boards import list_boards, load_board
from silifc.codegen.emit import CompileOptions, render_project
from silifc.pipeline import build_model_firmware
from silifc.target.firmware import run_model
from silifc.reference.int_ref import run_int
from silifc.codegen.memory import ModelTooLargeError
from silifc.passes.quantize import quantize_network

pytestmark = [pytest.mark.firmware, pytest.mark.slow]


@pytest.mark.parametrize("board", list_boards())
@pytest.mark.parametrize("kind", ["silif", "csilif"])
def test_paper_model_on_every_board(kind, board, paper_folded, golden_counts, tmp_path):
    board = load_board(board)
    quantized = quantize_network(paper_folded[kind])
    if board.flash.size < 512 * 1024:
        with pytest.raises(ModelTooLargeError, match="flash"):
            render_project(quantized, CompileOptions(board=board))
        return
    project, image = build_model_firmware(quantized, board, work_dir=tmp_path)
    if board.emulator is None:
        return                                   # build-only board: linking is the check
    report = run_model(project, image, quantized, golden_counts, record_spikes=True)
    reference = run_int(quantized, golden_counts)
    assert np.array_equal(report.result.outputs, reference.outputs)
    for got, want in zip(report.result.spikes, reference.spikes, strict=True):
        assert np.array_equal(got, want)
    print(f"\n{kind} on {board.name}: flash {image.flash_used} B, RAM {image.ram_used} B, "
          f"{report.instructions_per_step:,.0f} instructions/step")

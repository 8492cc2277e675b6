"""A trained delay model (bundled) compiled for every board, bit-exact in the emulator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from silifc.codegen.boards import list_boards, load_board
from silifc.pipeline import build_model_firmware
from silifc.target.firmware import run_model
from silifc.passes.fold import fold_network
from silifc.reference.int_ref import run_int
from silifc.codegen.memory import delay_form
from silifc.io.models import load_model
from silifc.passes.quantize import quantize_network
from silifc.train.tasks import make_timing_task

pytestmark = pytest.mark.firmware
MODELS = Path(__file__).resolve().parent.parent / "models" / "timing"
RUNNABLE = [name for name in list_boards() if load_board(name).emulator is not None]


@pytest.fixture(scope="module")
def delay_model():
    network = load_model(MODELS / "timing_delays.pt")
    _, _, test_x, test_y = make_timing_task()
    return quantize_network(fold_network(network)), test_x[:24], test_y[:24]


def test_bundled_delay_model_has_trained_synaptic_delays(delay_model):
    quantized, _, _ = delay_model
    synapses = quantized.hidden[0].synapses
    assert delay_form(synapses) == "synaptic" and 1 <= synapses.max_delay <= 15
    assert len(np.unique(synapses.delays)) > 4


@pytest.mark.parametrize("board", RUNNABLE)
def test_delay_model_bit_exact_on_every_board(board, delay_model, tmp_path):
    quantized, x, labels = delay_model
    project, image = build_model_firmware(quantized, load_board(board), work_dir=tmp_path)
    ring = {b.name: b.bytes for b in project.plan.buffers}["silifc_ctx.l0_ring_slots"]
    assert ring == (quantized.hidden[0].synapses.max_delay + 1) * 16 * 4
    report = run_model(project, image, quantized, x, record_spikes=True)
    reference = run_int(quantized, x)
    assert np.array_equal(report.result.outputs, reference.outputs)
    assert np.array_equal(report.result.spikes[0], reference.spikes[0])
    assert (report.result.decisions == labels).mean() > 0.6

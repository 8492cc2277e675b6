"""Per-synapse delays up to 255 steps (1.02 s at 4 ms): storage chosen by the compiler, firmware
bit-exact in QEMU, the memory plan's refusal of a ring that does not fit, and `silifc train
--delays` refusing more than the runtime stores before it loads any data."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from runtime_harness.checks import HAS_ARM
from runtime_harness.projects import build_project, long_delay_model, run_bit_exact
from silifc.cli import main
from silifc.codegen.boards import load_board
from silifc.codegen.emit import CodegenError, CompileOptions, plan_project, render_project
from silifc.codegen.memory import MAX_SYNAPTIC_DELAY, ModelTooLargeError, delay_form
from silifc.reference.int_ref import run_int
from silifc.train.training import delay_ram_warning, parse_arch

@pytest.fixture(scope="module")
def model():
    return long_delay_model()


def clipped(quantized, limit):
    """The same network with every delay cut to `limit` steps."""
    layers = [dataclasses.replace(layer, synapses=dataclasses.replace(
        layer.synapses, delays=None if layer.synapses.delays is None else np.minimum(layer.synapses.delays, limit)))
        for layer in quantized.layers]
    return dataclasses.replace(quantized, hidden=tuple(layers[:-1]), readout=layers[-1])


@pytest.mark.unit
def test_compiler_keeps_4_bit_delays_when_they_fit_and_bytes_beyond(model):
    quantized, _ = model
    first, second, readout = (layer.synapses for layer in quantized.layers)
    assert first.max_delay > 200 and delay_form(first) == "synaptic_u8"
    assert 0 < second.max_delay <= 15 and delay_form(second) == "synaptic"
    assert delay_form(readout) == "none"
    plan = plan_project(quantized, CompileOptions(board=load_board("nrf52840")))
    sizes = {b.name: b.bytes for b in plan.buffers}
    assert sizes["silifc_l0_delay_data"] == 16 * 24                 # one byte per synapse
    assert sizes["silifc_l1_delay_data"] == 24 * 10                 # two per byte
    assert sizes["silifc_ctx.l0_ring_slots"] == 4 * (first.max_delay + 1) * 24
    rendered = render_project(quantized, CompileOptions(board=load_board("nrf52840")))[0]
    source, header = rendered["model/silifc_model.c"], rendered["model/silifc_model.h"]
    assert "slf_accumulate_events_s8_delayed_u8(&silifc_l0_weights, &silifc_l0_delays" in source
    assert "slf_synaptic_delays_u8_check(&silifc_l0_delays, SILIFC_L0_RING_DEPTH)" in source
    assert f"#define SILIFC_L0_RING_DEPTH {first.max_delay + 1} " in header
    assert "slf_accumulate_spikes_s8_delayed(&silifc_l1_weights" in source


@pytest.mark.unit
def test_long_delays_change_the_result(model):
    """The input really exercises delays > 15: cutting them changes spikes and outputs."""
    quantized, counts = model
    full, cut = run_int(quantized, counts), run_int(clipped(quantized, 15), counts)
    assert not np.array_equal(full.spikes[0], cut.spikes[0])


@pytest.mark.firmware
@pytest.mark.skipif(not HAS_ARM, reason="needs arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("board_name,dsp,weight_bits", [("nrf52840", True, 8), ("nrf52840", False, 8),
                                                        ("nrf52840", True, 16), ("mps2_an505", True, 8)])
def test_delays_up_to_255_steps_are_bit_exact_in_qemu(model, tmp_path, board_name, dsp, weight_bits):
    quantized, counts = model if weight_bits == 8 else long_delay_model(weight_bits=16)
    project, image = build_project(quantized, board_name, tmp_path, dsp=dsp, weights=f"int{weight_bits}")
    run_bit_exact(project, image, quantized, counts, run_int(quantized, counts))


@pytest.mark.unit
def test_plan_refuses_a_delay_ring_that_does_not_fit_and_says_which_delays_would():
    quantized, _ = long_delay_model(widths=(8, 300, 4), kinds=("silif",), seed=1)
    board = load_board("nrf52840")
    with pytest.raises(ModelTooLargeError) as error:
        plan_project(quantized, CompileOptions(board=board))
    message = str(error.value)
    depth = quantized.layers[0].synapses.max_delay + 1
    assert "silifc_ctx.l0_ring_slots" in message and f"delay ring of {depth} slots x 1200 bytes" in message
    fits = int(message.split("silifc train --delays ")[1].split(")")[0])
    plan_project(clipped(quantized, fits), CompileOptions(board=board))           # that many fits ...
    with pytest.raises(ModelTooLargeError):
        plan_project(clipped(quantized, fits + 1), CompileOptions(board=board))  # ... one more does not


@pytest.mark.unit
def test_codegen_refuses_delays_the_runtime_cannot_store():
    quantized, _ = long_delay_model(max_delay=300, widths=(8, 6, 4), kinds=("silif",), seed=2)
    assert quantized.layers[0].synapses.max_delay > MAX_SYNAPTIC_DELAY
    with pytest.raises(CodegenError, match="at most 255"):
        render_project(quantized, CompileOptions(board=load_board("mps2_an505")))


@pytest.mark.unit
def test_train_refuses_delays_beyond_255_before_loading_data(tmp_path, capsys):
    missing = tmp_path / "not-there.npz"
    assert main(["train", str(missing), "--delays", "256"]) == 2
    err = capsys.readouterr().err
    assert "--delays 256" in err and "at most 255 steps" in err and "not-there" not in err


@pytest.mark.unit
def test_train_warns_when_delay_rings_exceed_the_default_board():
    spec = parse_arch("silif:512,silif:512", 140, 35, 255)       # delays on both hidden layers' inputs
    warning = delay_ram_warning(spec)
    assert "rings of 1,048,576 bytes" in warning and "256 slots x 512 neurons x 4 B = 524,288 B" in warning
    assert "262,144 bytes of nrf52840" in warning and "--delays 63 or less" in warning   # 64 x 1,024 x 4 B
    assert delay_ram_warning(parse_arch("silif:512,silif:512", 140, 35, 15)) is None

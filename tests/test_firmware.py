"""Compiled models in the emulator, bit-exact against the integer reference."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from silifc.codegen.boards import list_boards, load_board
from silifc.io.checkpoint import parse_state_dict
from silifc.cli import main
from silifc.pipeline import build_model_firmware
from silifc.target.firmware import run_model
from silifc.passes.fold import fold_network
from silifc.io.inputs import random_input
from silifc.reference.int_ref import run_int
from silifc.passes.quantize import quantize_network
from synthetic import random_state_dict

from conftest import GOLDEN, PAPER_MODELS

pytestmark = pytest.mark.firmware
RUNNABLE = [name for name in list_boards() if load_board(name).emulator is not None]


def assert_bit_exact(report, reference, spikes=True):
    assert np.array_equal(report.result.outputs, reference.outputs)
    assert np.array_equal(report.result.decisions, reference.decisions)
    if spikes:
        for got, want in zip(report.result.spikes, reference.spikes, strict=True):
            assert np.array_equal(got, want)


@pytest.fixture(scope="module")
def paper_quantized(paper_folded):
    return {kind: quantize_network(net) for kind, net in paper_folded.items()}


@pytest.mark.parametrize("kind", ["silif", "csilif"])
def test_paper_model_on_nrf52840_is_bit_exact_on_golden_inputs(kind, paper_quantized, golden_counts, tmp_path):
    quantized = paper_quantized[kind]
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path)
    report = run_model(project, image, quantized, golden_counts, record_spikes=True)
    assert_bit_exact(report, run_int(quantized, golden_counts))
    assert image.flash_used < 1024 * 1024 and image.ram_used < 256 * 1024
    assert set(report.phase_instructions) == set(project.phases[:-1])
    assert 0 < report.instructions_per_step < 256_000       # real time at 64 MHz


def _small(max_delay=0, kinds=("silif", "csilif"), seed=3, weight_bits=8, sizes=(24, 40, 32, 5)):
    folded = fold_network(parse_state_dict(random_state_dict(sizes, kinds, seed=seed, max_delay=max_delay)))
    counts = random_input(24, 3, 60, 0.05, 1, seed=seed)
    return quantize_network(folded, calibration=counts, weight_bits=weight_bits), counts


@pytest.mark.parametrize("board", RUNNABLE)
def test_every_board_runs_a_small_model_bit_exactly(board, tmp_path):
    quantized, counts = _small(max_delay=3)
    project, image = build_model_firmware(quantized, load_board(board), work_dir=tmp_path)
    assert_bit_exact(run_model(project, image, quantized, counts, record_spikes=True), run_int(quantized, counts))


@pytest.mark.parametrize("weight_bits,max_delay,kinds", [
    (16, 0, ("csilif", "silif")),
    (8, 7, ("silif", "silif")),
    (16, 15, ("csilif", "csilif")),
])
def test_weight_formats_and_delays(weight_bits, max_delay, kinds, tmp_path):
    quantized, counts = _small(max_delay=max_delay, kinds=kinds, weight_bits=weight_bits)
    project, image = build_model_firmware(quantized, load_board("nrf52840"), weights=f"int{weight_bits}",
                                          work_dir=tmp_path)
    assert_bit_exact(run_model(project, image, quantized, counts, record_spikes=True), run_int(quantized, counts))


def test_axonal_delays_use_one_byte_per_input(tmp_path):
    state = random_state_dict((24, 40, 5), ("silif",), seed=4, max_delay=0)
    import torch
    state["snn.0.delays"] = torch.tensor(np.repeat(np.arange(24)[None] % 5, 40, axis=0))
    folded = fold_network(parse_state_dict(state))
    counts = random_input(24, 2, 40, 0.05, 1, seed=4)
    quantized = quantize_network(folded, calibration=counts)
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path)
    assert {b.name: b.bytes for b in project.plan.buffers}["silifc_l0_delay_data"] == 24
    assert_bit_exact(run_model(project, image, quantized, counts, record_spikes=True), run_int(quantized, counts))


@pytest.mark.parametrize("max_delay", [2, 0])         # 0: layers 1 and 2 accumulate in 16-bit lanes
def test_planned_buffer_sizes_equal_the_linked_symbols(tmp_path, max_delay):
    quantized, _ = _small(max_delay=max_delay)
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path)
    assert any(b.name.endswith(".lanes16_scratch_words") for b in project.plan.buffers) == (max_delay == 0)
    assert_plan_equals_linked_symbols(project, image)


def assert_plan_equals_linked_symbols(project, image):
    """The memory plan against the linked ELF's symbol sizes (arm-none-eabi-nm)."""
    nm = subprocess.run(["arm-none-eabi-nm", "-S", "--size-sort", str(image.elf)], capture_output=True, text=True,
                        check=True).stdout
    sizes = {}
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[parts[3]] = int(parts[1], 16)
    _assert_plan_matches_symbols(project.plan, sizes, ("weights", "layer", "delays", "recurrent"))


def _assert_plan_matches_symbols(plan, sizes, descriptor_parts):
    """Flash buffers are symbols; the RAM buffers are the members of the model context, whose
    size is the harness's one instance (`model`)."""
    for buffer in plan.buffers:
        if buffer.section == "ram":
            assert buffer.name.startswith("silifc_ctx"), buffer
        elif buffer.name.endswith("_descriptors"):
            base = buffer.name[: -len("_descriptors")]
            assert sum(sizes.get(f"{base}_{part}", 0) for part in descriptor_parts) == buffer.bytes, buffer
        else:
            assert sizes[buffer.name] == buffer.bytes, buffer
    assert sizes["model"] == plan.ram_bytes


@pytest.mark.parametrize("board", ["nrf52840", "microbit"])   # DSP lanes; Cortex-M0: the portable lanes
def test_lanes16_layers_are_bit_exact(board, tmp_path):
    """_small() without delays, 24 -> 64 -> 32 -> 5: the input layer's events take
    slf_accumulate_events_s8_lanes16 (64 outputs: quantize.LANES16_EVENTS_MIN_OUTPUTS), layer 1
    (64 -> 32, blocks of 8) and the readout (32 -> 5, narrower than a block)
    slf_accumulate_spikes_s8_lanes16; outputs and every spike equal the reference."""
    quantized, counts = _small(sizes=(24, 64, 32, 5))
    project, image = build_model_firmware(quantized, load_board(board), work_dir=tmp_path)
    code = (project.directory / "model" / "silifc_model.c").read_text()
    assert code.count("slf_accumulate_spikes_s8_lanes16(&") == 2
    assert code.count("slf_accumulate_events_s8_lanes16(&") == 1
    assert_bit_exact(run_model(project, image, quantized, counts, record_spikes=True), run_int(quantized, counts))


def test_counts_above_the_models_limit_are_refused_before_and_inside_the_firmware(tmp_path, monkeypatch):
    """The host names the limit; the firmware's step() itself returns SLF_ERR_COUNT (-6), which
    run_model reports as a model error instead of reading a short result file."""
    import silifc.target.firmware
    from silifc.target.qemu import EmulatorError
    from silifc.errors import InputDataError

    quantized, counts = _small()
    limit = quantized.layers[0].synapses.max_input_count
    assert limit < 255                                  # this model needs the firmware's count check
    counts = counts.copy()
    counts[1, 5, 2] = limit + 1
    with pytest.raises(InputDataError, match=f"{limit + 1} events on one input in one step \\(sample 1, step 5, "
                                             f"input 2\\); this model accepts at most {limit}"):
        run_int(quantized, counts)
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path)
    with pytest.raises(InputDataError, match=f"at most {limit}"):
        run_model(project, image, quantized, counts)
    monkeypatch.setattr(silifc.target.firmware, "check_event_limit", lambda *args, **kwargs: None)
    with pytest.raises(EmulatorError, match=r"status 13 \(model error\)(.|\n)*-6"):
        run_model(project, image, quantized, counts)


def test_instruction_counts_are_deterministic(tmp_path):
    quantized, counts = _small()
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path)
    first = run_model(project, image, quantized, counts)
    second = run_model(project, image, quantized, counts)
    assert first.phase_instructions == second.phase_instructions and first.instructions_total == second.instructions_total


def test_cli_run_reports_agreement_memory_and_cycles(capsys):
    code = main(["run", str(PAPER_MODELS["silif"]), "--board", "nrf52840", "--input", str(GOLDEN / "inputs.npz"),
                 "--count", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["bit_exact"] and report["decisions_equal"] == 8
    assert report["flash_used"] > 351744 and report["instructions_per_step"] > 0
    assert len(report["phases_per_step"]) == 6


def test_cli_compile_writes_a_project_that_make_builds(tmp_path, capsys):
    out = tmp_path / "proj"
    assert main(["compile", str(PAPER_MODELS["csilif"]), "--board", "nrf52840", "-o", str(out), "--prefix", "kws",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["memory"]["flash_bytes"] > 351744
    for name in ("model/kws_model.c", "model/kws_model.h", "Makefile", "CMakeLists.txt", "memory_report.txt",
                 "runtime/include/silifc.h", "board/startup.c"):
        assert (out / name).exists(), name
    done = subprocess.run(["make", "-C", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "FLASH" in done.stdout


def test_unknown_board_lists_known_ones(capsys):
    assert main(["compile", str(PAPER_MODELS["silif"]), "--board", "nrf5284", "-o", "/tmp/x"]) == 2
    err = capsys.readouterr().err
    assert "nrf52840" in err and "stm32f405" in err


# ---------------------------------------------------------------- dense baseline, per-step counts

@pytest.mark.parametrize("board", ["nrf52840", "mps2_an500", "mps2_an505", "microbit"])
def test_dense_synapses_are_bit_exact(board, tmp_path):
    """--synapses dense computes the same integers: same outputs and spikes as the reference."""
    quantized, counts = _small(kinds=("csilif", "silif"))
    project, image = build_model_firmware(quantized, load_board(board), work_dir=tmp_path, synapses="dense")
    assert "slf_dense_events_s8" in (project.directory / "model" / "silifc_model.c").read_text()
    assert_bit_exact(run_model(project, image, quantized, counts, record_spikes=True), run_int(quantized, counts))


def test_dense_paper_model_is_bit_exact_and_costs_every_mac(paper_quantized, golden_counts, tmp_path):
    quantized = paper_quantized["silif"]
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path, synapses="dense")
    report = run_model(project, image, quantized, golden_counts[:2], record_spikes=True)
    assert_bit_exact(report, run_int(quantized, golden_counts[:2]))
    synapses = report.step_phase_instructions[:, 0::2]        # every layer's synapse phase, every step
    macs = np.array([layer.synapses.n_in * layer.synapses.n_out for layer in quantized.layers])
    # dense spike layers cost the same every step, whatever the activity; the input layer's
    # cost depends only on its largest count (one or two bit planes, else SMLAD); <= 1.4 per MAC
    hidden = synapses[:, 1:]
    assert (hidden.max(axis=0) - hidden.min(axis=0) < 0.01 * hidden.min(axis=0)).all()
    assert (synapses.max(axis=0) < 1.4 * macs).all() and (hidden.mean(axis=0) < 0.6 * macs[1:]).all()


def test_dense_refuses_delays_and_int16(tmp_path):
    from silifc.codegen.emit import CodegenError

    delayed, _ = _small(max_delay=2)
    with pytest.raises(CodegenError, match="no synaptic delays.*layer 0 \\(delays up to"):
        build_model_firmware(delayed, load_board("nrf52840"), work_dir=tmp_path, synapses="dense")
    wide, _ = _small(weight_bits=16)
    with pytest.raises(CodegenError, match="int8 weights only"):
        build_model_firmware(wide, load_board("nrf52840"), weights="int16", work_dir=tmp_path, synapses="dense")


def test_dense_planned_buffer_sizes_equal_the_linked_symbols(tmp_path):
    quantized, _ = _small()
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path, synapses="dense")
    nm = subprocess.run(["arm-none-eabi-nm", "-S", str(image.elf)], capture_output=True, text=True, check=True).stdout
    sizes = {parts[3]: int(parts[1], 16) for parts in map(str.split, nm.splitlines()) if len(parts) == 4}
    _assert_plan_matches_symbols(project.plan, sizes, ("weights", "layer"))
    data = int(next(line.split()[0] for line in nm.splitlines() if line.endswith(" silifc_l1_weight_data")), 16)
    assert data % 4 == 0                                        # the DSP path's LDM needs it


def test_build_cache_key_includes_the_synapses():
    quantized, _ = _small()
    event, _ = build_model_firmware(quantized, load_board("nrf52840"))
    dense, _ = build_model_firmware(quantized, load_board("nrf52840"), synapses="dense")
    assert event.directory != dense.directory and event.digest != dense.digest


def test_per_step_counts_split_the_phase_totals_exactly(tmp_path):
    from silifc.target.profile import profile_run

    quantized, counts = _small()
    project, image = build_model_firmware(quantized, load_board("nrf52840"), work_dir=tmp_path)
    report = run_model(project, image, quantized, counts)
    per_step = report.step_phase_instructions
    assert per_step.shape == (counts.shape[0] * counts.shape[1], len(project.phases) - 1)
    assert per_step.sum(axis=0).tolist() == list(report.phase_instructions.values())
    assert report.step_instructions.sum() == report.model_instructions
    profile = profile_run(report, quantized, counts, run_int(quantized, counts).spikes)
    assert np.array_equal(profile.total, report.step_instructions)
    # SOPs as the authors count them: non-zero presynaptic entries x fan-out
    assert profile.layers[0].sops.tolist() == ((counts > 0).sum(axis=2) * 40).ravel().tolist()
    assert profile.neuron_updates == 40 + 32


def test_cli_run_count_prints_the_per_layer_profile(capsys):
    code = main(["run", str(PAPER_MODELS["csilif"]), "--input", str(GOLDEN / "inputs.npz"), "--synapses", "dense",
                 "--count"])
    out = capsys.readouterr().out
    assert code == 0 and "RESULT: bit-exact" in out and "dense synapses" in out
    for text in ("silifc_l0", "silifc_l1", "silifc_readout", "instr/SOP", "instr/neuron", "SOPs per step",
                 "budget model"):
        assert text in out, text

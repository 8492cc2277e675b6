"""The device firmware for real nRF52840 boards: artefacts, the emulated nRF52840 against
`silifc listen`, the fault handler, overruns, and `silifc flash` with nothing attached."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from silifc.cli import main
from silifc.codegen.boards import load_board
from silifc.kws.audio.wav import read_wav
from silifc.kws.device import build_device_firmware, compare, detection_score, summarize, write_device_project
from silifc.kws.model import bundled_path, load_kws_model
from silifc.target.nrf52840.emulator import run_device_elf
from silifc.target.uf2 import bin_to_uf2, uf2_to_bin

DEVICE_BOARDS = ("nano33_ble_sense", "xiao_nrf52840_sense", "nrf52840dk")


@pytest.fixture(scope="module")
def model():
    return load_kws_model()


@pytest.fixture(scope="module")
def stream_pcm():
    return read_wav(bundled_path("stream.wav"), 16000)


def _hex_image(text: str) -> tuple[int, bytes]:
    """Intel HEX -> (first address, bytes): records 00 data, 01 end, 02 extended segment address,
    04 extended linear address (objcopy writes 02 below 1 MB)."""
    memory, upper = {}, 0
    for line in text.split():
        raw = bytes.fromhex(line[1:])
        assert sum(raw) % 256 == 0, f"checksum of {line}"
        count, address, kind, data = raw[0], raw[1] << 8 | raw[2], raw[3], raw[4:4 + raw[0]]
        assert len(data) == count
        if kind == 0:
            for i, byte in enumerate(data):
                memory[upper + address + i] = byte
        elif kind == 2:
            upper = (data[0] << 8 | data[1]) << 4
        elif kind == 4:
            upper = (data[0] << 8 | data[1]) << 16
    start = min(memory)
    return start, bytes(memory.get(a, 0xFF) for a in range(start, max(memory) + 1))


@pytest.mark.firmware
@pytest.mark.parametrize("board_name", DEVICE_BOARDS)
def test_artefacts_build_fit_and_agree(model, board_name):
    board = load_board(board_name)
    _, image = build_device_firmware(model, board)
    assert 0 < image.flash_used <= board.flash.size and image.ram_used <= board.ram.size
    binary = image.bin.read_bytes()
    start, from_hex = _hex_image(image.hex.read_text())
    assert start == board.flash.origin and from_hex == binary
    stack, reset = np.frombuffer(binary[:8], "<u4")
    assert stack == board.ram.origin + board.stack_size          # the stack sits at the bottom of RAM
    assert board.flash.origin < reset < board.flash.origin + len(binary) and reset & 1
    if board.device.flash_method == "uf2":
        family, address, data = uf2_to_bin(image.uf2.read_bytes())
        assert (family, address) == (0xADA52840, board.flash.origin) and data[:len(binary)] == binary
    else:
        assert image.uf2 is None


@pytest.mark.unit
def test_uf2_round_trip_and_errors():
    image = bytes(range(256)) * 3 + b"\x01\x02"
    uf2 = bin_to_uf2(image, 0x27000, 0xADA52840)
    assert len(uf2) == 4 * 512
    assert uf2_to_bin(uf2) == (0xADA52840, 0x27000, image + bytes(254))
    with pytest.raises(ValueError, match="bad magic"):
        uf2_to_bin(uf2[:-4] + b"\0\0\0\0")
    with pytest.raises(ValueError, match="multiple of 256"):
        bin_to_uf2(image, 0x27001, 0xADA52840)


@pytest.mark.unit
def test_detection_score_is_the_firmwares_rounding():
    assert detection_score(0, 7) == "0.000"
    assert detection_score(65536 << 7, 7) == "0.999"           # an average of 1.0 prints as 0.999
    assert detection_score((65536 << 7) // 8, 7) == "0.125"


@pytest.mark.firmware
def test_emulated_nano_matches_listen_on_the_bundled_stream(model, stream_pcm):
    board = load_board("nano33_ble_sense")
    _, image = build_device_firmware(model, board)
    emulation = run_device_elf(image.elf, stream_pcm)
    trace = model.listen(stream_pcm)
    comparison = compare(model, trace, emulation)
    assert comparison.device_lines == comparison.reference_lines
    assert [line.split()[1] for line in comparison.device_lines] == ["yes", "left", "stop", "down", "go"]
    assert comparison.overruns == 0 and comparison.equal
    assert emulation.buffers == trace.steps == len(stream_pcm) // 64
    assert comparison.other_lines == ["silifc: listening on nano33_ble_sense for yes no up down left right on off "
                                      "stop go"]
    assert emulation.pins == {"pdm_clk": "P0.26", "pdm_din": "P0.25", "uart_tx": "P1.03"}
    assert emulation.outputs["P0.17"] == 1                      # microphone powered
    assert emulation.sample_rate == 16000.0 and emulation.hfxo_running_at_pdm_start and emulation.reset is None
    led_on = [c for c in emulation.led_changes if c[1] == "P0.13" and c[2] == 1]
    assert len(led_on) == 5                                     # one blink per detection
    assert 0.5 < emulation.asleep_fraction < 0.99
    per_wakeup = np.asarray(emulation.awake_instructions[1:])
    assert per_wakeup.max() * emulation.cpi < 64e6 * 0.004      # every step finished within its buffer
    power = summarize(model, board, emulation, comparison, "stream.wav", image)["power"]
    assert power["regulator"] == "LDO" and power["sources"]["cpu"]["ma"] == 6.3   # no DC/DC inductor on the Nano


@pytest.mark.firmware
def test_silifc_run_on_a_device_board_and_its_cpi_option(tmp_path, capsys, stream_pcm):
    """silifc run --board <real board> --wav: the comparison with listen, and --cpi changing only the
    time model (the same lines, twice the awake time at twice the CPI)."""
    from silifc.cli.audio import device_run_text
    from silifc.kws.audio.wav import write_wav

    wav = tmp_path / "yes_left.wav"        # 2.5 s: "yes" and "left" (detected at 988 and 2088 ms)
    write_wav(wav, stream_pcm[:40000], 16000)
    reports = {}
    for cpi in ("1.5", "3"):
        status = main(["run", "kws_silif.pt", "--board", "nrf52840dk", "--wav", str(wav), "--cpi", cpi, "--json"])
        reports[float(cpi)] = json.loads(capsys.readouterr().out)
        assert status == 0 and reports[float(cpi)]["passed"] and reports[float(cpi)]["cpi"] == float(cpi)
    report, slow = reports[1.5], reports[3.0]
    assert report["same_as_reference"] and report["detections"] == report["reference"]
    assert [line.split()[1] for line in report["detections"]] == ["yes", "left"]
    assert report["overruns"] == 0 and report["buffers"] == report["reference_steps"] == 40000 // 64
    assert report["pins"]["pdm_clk"] == "P0.30"
    assert 0.5 < report["asleep_fraction"] < 0.99
    assert 0 < report["power"]["current_ma"] < 10 and report["power"]["days"] > 0
    assert report["power"]["regulator"] == "DC/DC" and report["power"]["cpi"] == 1.5
    budget = 64e6 * 0.004
    assert report["overrun_free_below_cpi"] == pytest.approx(budget / report["instructions_per_wakeup"]["max"])
    assert report["overrun_free_below_cpi"] > 2 * report["cpi"]
    assert slow["detections"] == report["detections"] and slow["overruns"] == 0
    assert (1 - slow["asleep_fraction"]) / (1 - report["asleep_fraction"]) == pytest.approx(2.0, rel=0.02)
    assert slow["power"]["current_ma"] > report["power"]["current_ma"]
    text = device_run_text(slow, load_board("nrf52840dk"))
    for needle in ("asleep", "at CPI 3", "overruns 0 (at CPI 3)", "the longest fits a buffer up to CPI",
                   "not from the nRF52840 PS", "RESULT: same as the reference"):
        assert needle in text, text
    assert main(["run", "kws_silif.pt", "--board", "nrf52840dk", "--wav", str(wav), "--cpi", "0"]) == 2
    assert "not a plausible average number of cycles per instruction" in capsys.readouterr().err
    assert main(["run", "kws_silif.pt", "--board", "nrf52840", "--wav", str(wav), "--cpi", "2"]) == 2
    assert "applies only to a real board" in capsys.readouterr().err


@pytest.mark.unit
def test_power_estimate_adds_the_cited_currents():
    from silifc.target.nrf52840.power import CPU_DCDC, CPU_LDO, PDM, SLEEP, estimate_power

    dcdc = estimate_power(0.2, 1.5, dcdc=True)
    assert dcdc.current_ma == pytest.approx(PDM.milliamps + 0.2 * CPU_DCDC.milliamps + 0.8 * SLEEP.milliamps)
    assert dcdc.days == pytest.approx(100 / dcdc.current_ma / 24)
    ldo = estimate_power(0.2, 1.5, dcdc=False)
    assert ldo.current_ma - dcdc.current_ma == pytest.approx(0.2 * (CPU_LDO.milliamps - CPU_DCDC.milliamps))
    assert "at CPI 1.5" in dcdc.line() and "not from the nRF52840 PS" in dcdc.line()
    for current in (PDM, CPU_DCDC, CPU_LDO, SLEEP):
        assert current.source and current.verified
    assert "NOT tied to the nRF52840 PS" in PDM.verified
    with pytest.raises(ValueError, match="not between 0 and 1"):
        estimate_power(1.2, 1.5, dcdc=True)


@pytest.mark.firmware
def test_fault_handler_prints_the_pc_once_and_resets(model, stream_pcm):
    board = load_board("xiao_nrf52840_sense")
    _, image = build_device_firmware(model, board, defines={"SILIFC_DEVICE_FAULT_TEST": None})
    emulation = run_device_elf(image.elf, stream_pcm[:16000])
    faults = [line for line in emulation.lines if line.startswith("fault")]
    assert len(faults) == 1 and emulation.reset is not None
    pc = int(re.fullmatch(r"fault pc=0x([0-9a-f]{8})", faults[0])[1], 16)
    assert board.flash.origin <= pc < board.flash.origin + image.flash_used


@pytest.mark.firmware
def test_overruns_are_reported_never_silent(model, stream_pcm):
    """At CPI 12 every step takes longer than its 4 ms buffer (about 30,000 instructions x 12 >
    256,000 cycles): the firmware must count the lost buffers and say so."""
    board = load_board("nano33_ble_sense")
    _, image = build_device_firmware(model, board)
    emulation = run_device_elf(image.elf, stream_pcm[:8000], cpi=12)
    reports = [line for line in emulation.lines if " overruns " in line]
    assert reports, emulation.uart
    counts = [int(line.split()[-1]) for line in reports]
    assert counts == sorted(counts) and counts[-1] > 10        # counted up, reported each time it grew
    assert compare(model, model.listen(stream_pcm[:8000]), emulation).equal is False


@pytest.mark.unit
@pytest.mark.parametrize("board_name,needles", [
    ("nano33_ble_sense", ["no Arduino bootloader serial port found", "/dev/ttyACM*", "0x2341",
                          "double-tap its RESET", "--port"]),
    ("xiao_nrf52840_sense", ["no UF2 bootloader drive found", "INFO_UF2.TXT", "/media", "--drive"]),
    ("nrf52840dk", ["no debug probe found", "CMSIS-DAP", "J-Link", "pyocd list", "--probe"]),
])
def test_flash_with_nothing_attached_says_what_and_how(capsys, board_name, needles):
    from silifc.target.flash import pyocd_probes, serial_ports, uf2_drives

    if serial_ports() or uf2_drives() or pyocd_probes():
        pytest.skip("a board, drive or probe is attached to this machine")
    status = main(["flash", "--board", board_name])
    err = capsys.readouterr().err
    assert status != 0
    for needle in needles:
        assert needle in err, err


@pytest.mark.unit
def test_flash_refuses_a_board_without_a_device_application(capsys):
    assert main(["flash", "--board", "nrf52840"]) == 2
    assert "has no device application" in capsys.readouterr().err


@pytest.mark.unit
def test_uf2_drive_search_and_copy(tmp_path, model):
    from silifc.target.flash import uf2_drives

    (tmp_path / "XIAO-SENSE").mkdir()
    (tmp_path / "XIAO-SENSE" / "INFO_UF2.TXT").write_text("UF2 Bootloader\n")
    (tmp_path / "OTHER").mkdir()
    assert uf2_drives(roots=(str(tmp_path),), mounts=tmp_path / "none") == [tmp_path / "XIAO-SENSE"]


@pytest.mark.unit
def test_renode_files_for_the_device_firmware(model, tmp_path):
    board = load_board("nano33_ble_sense")
    write_device_project(model, board, tmp_path)
    resc = (tmp_path / "device" / "nano33_ble_sense.resc").read_text()
    robot = (tmp_path / "device" / "nano33_ble_sense.robot").read_text()
    assert "sysbus.pdm SetInputFile" in resc and "cpu VectorTableOffset 0x10000" in resc
    # the robot waits for the reference's lines: here the bundled model hears every spoken word
    from silifc.kws.audio.labelled_streams import read_stream_events
    from silifc.kws.device import reference_lines

    expected = reference_lines(model, model.listen(read_wav(bundled_path("stream.wav"), 16000)))
    assert [line.split()[1] for line in expected] == [e.word for e in read_stream_events(bundled_path("stream.wav"))]
    for line in expected + ["silifc: listening on nano33_ble_sense"]:
        assert line in robot
    pcm = np.fromfile(tmp_path / "device" / "stream.s16le", "<i2")
    assert np.array_equal(pcm, read_wav(bundled_path("stream.wav"), 16000))


@pytest.mark.firmware
@pytest.mark.skipif(__import__("shutil").which("renode-test") is None,
                    reason="Renode not installed here: the generated device .robot test NOT run")
def test_device_robot_passes_in_renode(model, tmp_path):
    import subprocess

    board = load_board("nano33_ble_sense")
    build_device_firmware(model, board, work_dir=tmp_path)
    done = subprocess.run(["renode-test", "nano33_ble_sense.robot"], cwd=tmp_path / "device", capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.firmware
@pytest.mark.parametrize("board_name", DEVICE_BOARDS)
def test_every_board_matches_listen_on_a_synthesized_stream(model, board_name, tmp_path):
    """Held-out espeak-ng voice (bench/device.py runs the full matrix and prints the table)."""
    from silifc.kws.audio.labelled_streams import make_keyword_stream

    stream = make_keyword_stream(("on", "stop", "yes", "down", "left"), voice="en-us+klatt3", seed=5,
                                 gap_seconds=(0.6, 1.0), lead_seconds=0.8, tail_seconds=0.8)
    _, image = build_device_firmware(model, load_board(board_name))
    emulation = run_device_elf(image.elf, stream.pcm)
    comparison = compare(model, model.listen(stream.pcm), emulation)
    assert comparison.equal and comparison.device_lines and comparison.overruns == 0


@pytest.mark.firmware
def test_default_cpi_is_the_cycle_model_estimate_of_the_pipeline(tmp_path, capsys, stream_pcm):
    """Without --cpi the time model's CPI is estimated, not assumed: the keyword pipeline on the
    same audio in QEMU with the Cortex-M4 cycle model, cycles over instructions of its phases."""
    from silifc.kws.device import pipeline_cpi
    from silifc.kws.audio.wav import write_wav
    from silifc.kws.model import load_kws_model

    wav = tmp_path / "one_second.wav"
    write_wav(wav, stream_pcm[:16000], 16000)
    assert main(["run", "kws_silif.pt", "--board", "nrf52840dk", "--wav", str(wav), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    estimated = pipeline_cpi(load_kws_model(), wav)
    assert report["cpi"] == pytest.approx(estimated) and 1.1 < estimated < 2.0
    assert report["cpi_source"].startswith("estimated") and report["power"]["cpi"] == pytest.approx(estimated)

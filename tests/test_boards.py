"""Board files: every shipped board loads, and the schema check rejects broken files clearly."""
from __future__ import annotations

import dataclasses
from importlib.resources import files

import pytest
import yaml

from silifc.codegen.boards import (Board, BoardFileError, board_from_file, compiler_flags, list_boards,
                          load_board)
from silifc.errors import SilifcError, UnknownBoardError

pytestmark = pytest.mark.unit

SHIPPED = {"microbit", "mps2_an500", "mps2_an505", "nrf52840", "samd21g18a", "stm32f405"}


def nrf52840_data() -> dict:
    return yaml.safe_load((files("silifc.boards") / "nrf52840.yaml").read_text())


def write_board(tmp_path, data: dict, name: str | None = None):
    path = tmp_path / f"{name or data.get('name', 'board')}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_boards_load_and_are_named_after_their_files():
    assert set(list_boards()) >= SHIPPED
    assert list_boards() == sorted(list_boards())
    for name in list_boards():
        board = load_board(name)
        assert isinstance(board, Board) and board.name == name


def test_nrf52840_facts():
    board = load_board("nrf52840")
    assert (board.cpu, board.fpu, board.float_abi, board.clock_hz) == ("cortex-m4", "fpv4-sp-d16", "hard", 64_000_000)
    assert (board.flash.origin, board.flash.size) == (0x0, 1 << 20)
    assert (board.ram.origin, board.ram.size) == (0x20000000, 256 << 10)
    assert board.has_dsp and board.has_long_multiply and board.runnable
    assert board.emulator.machine == "mps2-an386"
    assert board.emulator.input_blob.origin == 0x20040000
    assert board.renode.platform == "platforms/cpus/nrf52840.repl"


def test_runnable_and_build_only_boards():
    assert {name for name in SHIPPED if load_board(name).runnable} == SHIPPED - {"samd21g18a"}
    assert load_board("samd21g18a").emulator is None
    m0 = load_board("microbit")
    assert not m0.has_dsp and not m0.has_long_multiply and m0.fpu is None


def test_compiler_flags():
    assert compiler_flags(load_board("nrf52840")) == (
        "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
    assert compiler_flags(load_board("mps2_an500"))[-1] == "-mfpu=fpv5-d16"
    assert compiler_flags(load_board("samd21g18a")) == ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft")
    no_dsp = dataclasses.replace(load_board("mps2_an505"), has_dsp=False)
    assert compiler_flags(no_dsp)[0] == "-mcpu=cortex-m33+nodsp"


def test_loading_twice_gives_equal_frozen_boards():
    assert load_board("stm32f405") == load_board("stm32f405")
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_board("stm32f405").clock_hz = 1


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(UnknownBoardError) as err:
        load_board("nrf52832")
    message = str(err.value)
    assert isinstance(err.value, SilifcError)
    assert "'nrf52832'" in message and "did you mean 'nrf52840'" in message
    for name in SHIPPED:
        assert name in message


def test_user_board_file_round_trip(tmp_path):
    data = nrf52840_data()
    data["name"] = "my_board"
    data["clock_hz"] = 32_000_000
    board = board_from_file(write_board(tmp_path, data))
    assert board.name == "my_board" and board.clock_hz == 32_000_000
    assert board == dataclasses.replace(load_board("nrf52840"), name="my_board", clock_hz=32_000_000)


_DELETE = object()


def _mutated(board: str = "nrf52840", **changes):
    """The shipped board's data with keys changed; `emulator__machine` means emulator.machine,
    _DELETE removes."""
    data = yaml.safe_load((files("silifc.boards") / f"{board}.yaml").read_text())
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        target = data
        for parent in parents:
            target = target[parent]
        if value is _DELETE:
            del target[key]
        else:
            target[key] = value
    return data


@pytest.mark.parametrize("changes,needle", [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"emulator__speed": 3}, "unknown key 'emulator.speed'"),
    ({"ram": _DELETE}, "missing key 'ram'"),
    ({"flash__size": _DELETE}, "missing key 'flash.size'"),
    ({"renode": _DELETE}, "missing key 'renode'"),
    ({"clock_hz": "64 MHz"}, "'clock_hz' must be an integer, got '64 MHz' (str)"),
    ({"stack_size": True}, "'stack_size' must be an integer, got True (bool)"),
    ({"has_dsp": 1}, "'has_dsp' must be true or false, got 1 (int)"),
    ({"cpu": None}, "'cpu' must be a string, got null"),
    ({"emulator__input_blob__origin": "0x20040000"}, "'emulator.input_blob.origin' must be an integer"),
    ({"flash": [0, 1024]}, "flash must be a mapping"),
    ({"cpu": "cortex-m9"}, "cpu 'cortex-m9' is not a supported core"),
    ({"fpu": "fpv5-d16"}, "fpu 'fpv5-d16' does not exist on cortex-m4"),
    ({"float_abi": "soft"}, "float_abi soft would leave the fpv4-sp-d16 FPU unused"),
    ({"fpu": None}, "float_abi 'hard' needs an FPU"),
    ({"cpu": "cortex-m0", "fpu": None, "float_abi": "soft", "has_dsp": False},
     "has_long_multiply is true, but cortex-m0 has no 32x32->64 multiply"),
    ({"cpu": "cortex-m3", "fpu": None, "float_abi": "soft"}, "has_dsp is true, but cortex-m3 has no DSP"),
    ({"ram__origin": 0x000F0000}, "overlap"),
    ({"ram__size": 0x20001}, "multiples of 8"),
    ({"stack_size": 1004}, "stack_size must be a positive multiple of 8"),
    ({"stack_size": 0x40000}, "leaves no RAM"),
    ({"emulator__input_blob__origin": 0x20030000}, "emulator.input_blob"),
    ({"emulator__machine": "mps2-an386,kernel=x"}, "is not a QEMU machine name"),
    ({"name": "other"}, "differs from the file name"),
])
def test_schema_rejects(tmp_path, changes, needle, board="nrf52840"):
    path = write_board(tmp_path, _mutated(board, **changes), name=board)
    with pytest.raises(BoardFileError) as err:
        board_from_file(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_duplicate_keys_and_bad_yaml_are_rejected(tmp_path):
    text = (files("silifc.boards") / "nrf52840.yaml").read_text()
    duplicate = tmp_path / "nrf52840.yaml"
    duplicate.write_text(text + "clock_hz: 1\n")
    with pytest.raises(BoardFileError, match="duplicate key 'clock_hz'"):
        board_from_file(duplicate)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(BoardFileError, match="not valid YAML"):
        board_from_file(broken)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(BoardFileError, match="the file must be a mapping, got null"):
        board_from_file(empty)


def test_missing_board_file(tmp_path):
    with pytest.raises(BoardFileError, match="cannot read board file"):
        board_from_file(tmp_path / "nowhere.yaml")


def test_a_board_file_by_path(tmp_path, monkeypatch):
    """--board takes the path of a user's board file, as the unknown-board message says."""
    from importlib.resources import files

    text = (files("silifc.boards") / "nrf52840.yaml").read_text().replace("name: nrf52840", "name: my_board")
    (tmp_path / "my_board.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    board = load_board("./my_board.yaml")
    assert board.name == "my_board" and board.flash.size == load_board("nrf52840").flash.size
    assert load_board(str(tmp_path / "my_board.yaml")) == board
    with pytest.raises(SilifcError, match="cannot read board file"):
        load_board("./missing.yaml")


# ---------------------------------------------------------------- real boards (device application)

DEVICE_BOARDS = {"nano33_ble_sense", "xiao_nrf52840_sense", "nrf52840dk"}


def test_device_boards_facts():
    """The values cited in each board file's comments (Zephyr board files, Arduino core)."""
    assert DEVICE_BOARDS <= set(list_boards())
    nano, xiao, dk = (load_board(n) for n in ("nano33_ble_sense", "xiao_nrf52840_sense", "nrf52840dk"))
    assert (nano.flash.origin, nano.flash.size) == (0x10000, 0xE8000)
    assert (xiao.flash.origin, xiao.flash.size) == (0x27000, 0xC5000)
    assert (dk.flash.origin, dk.flash.size) == (0, 1 << 20)
    assert [str(p) for p in (nano.device.pdm_clk, nano.device.pdm_din, nano.device.mic_power,
                             nano.device.uart_tx, nano.device.led)] == ["P0.26", "P0.25", "P0.17", "P1.03", "P0.13"]
    assert [str(p) for p in (xiao.device.pdm_clk, xiao.device.pdm_din, xiao.device.mic_power,
                             xiao.device.uart_tx, xiao.device.led)] == ["P1.00", "P0.16", "P1.10", "P1.11", "P0.26"]
    assert dk.device.mic_power is None and str(dk.device.uart_tx) == "P0.06"
    assert (nano.device.flash_method, xiao.device.flash_method, dk.device.flash_method) == ("bossac", "uf2", "pyocd")
    assert xiao.device.uf2_family == 0xADA52840 and nano.device.uf2_family is None
    assert xiao.device.led_active_low and not nano.device.led_active_low
    assert nano.device.mic_power.number == 17 and xiao.device.mic_power.number == 42
    for board in (nano, xiao, dk):
        assert board.device.soc == "nrf52840" and board.emulator is None and not board.runnable
    for name in SHIPPED:
        assert load_board(name).device is None


@pytest.mark.parametrize("changes,needle", [
    ({"device__pdm_clk": "P0.32"}, "device.pdm_clk P0.32 does not exist"),
    ({"device__led": "P1.16"}, "device.led P1.16 does not exist"),
    ({"device__uart_tx": "0.6"}, "is not a pin; write P<port>.<pin>"),
    ({"device__led": "P0.26"}, "device.led and device.pdm_clk are both P0.26"),
    ({"device__uart_baud": 115201}, "not a UARTE baud rate"),
    ({"device__flash_method": "jtag"}, "device.flash_method must be one of"),
    ({"device__flash_method": "uf2"}, "uf2_family is needed exactly when"),
    ({"device__uf2_family": 0xADA52840}, "uf2_family is needed exactly when"),
    ({"device__soc": "nrf52832"}, "has no device application"),
    ({"device__hfclk": "lfxo"}, "device.hfclk must be one of"),
    ({"device__dcdc": "yes"}, "'device.dcdc' must be true or false"),
])
def test_device_schema_rejects(tmp_path, changes, needle):
    test_schema_rejects(tmp_path, changes, needle, board="nano33_ble_sense")

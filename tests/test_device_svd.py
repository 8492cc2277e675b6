"""The device application's registers against Nordic's nrf52840.svd (from the pyocd wheel).

The list of what is checked is parsed from the generated register header, and the device C
code is checked to write registers only through that header, so a wrong base address,
register offset, field position or field value anywhere in the device code fails here.
"""
from __future__ import annotations

import re

import pytest

from silifc.codegen.boards import load_board
from silifc.kws.device import IRQ_COUNT, IRQ_HANDLERS, write_device_project
from silifc.kws.model import load_kws_model
from silifc.target.nrf52840.regs import check_against_svd, parse_register_header, raw_register_literals
from silifc.target.nrf52840.svd import load_nrf52840_svd

pytestmark = pytest.mark.unit
DEVICE_BOARDS = ("nano33_ble_sense", "xiao_nrf52840_sense", "nrf52840dk")


@pytest.fixture(scope="module")
def svd():
    return load_nrf52840_svd()


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    model = load_kws_model()
    return {name: write_device_project(model, load_board(name), tmp_path_factory.mktemp(name))
            for name in DEVICE_BOARDS}


def test_svd_is_nordics_nrf52840(svd):
    assert svd.name == "nrf52840" and "pyocd" in svd.source
    assert svd.peripherals["PDM"].base == 0x4001D000 and svd.interrupt_count == 48


@pytest.mark.parametrize("board", DEVICE_BOARDS)
def test_register_header_matches_the_svd(projects, svd, board):
    definitions = parse_register_header(projects[board].register_header.read_text())
    kinds = {d.kind for d in definitions}
    assert {"base", "offset", "pos", "value", "irq", "irq_count", "stride", "msk"} <= kinds
    assert len([d for d in definitions if d.kind != "other"]) > 100
    assert check_against_svd(definitions, svd) == []


@pytest.mark.parametrize("board", DEVICE_BOARDS)
def test_device_code_writes_registers_only_through_the_header(projects, board):
    directory = projects[board].directory / "device"
    header = parse_register_header(projects[board].register_header.read_text())
    names = {d.name for d in header}
    for source in ("main.c", "startup.c"):
        text = (directory / source).read_text()
        assert raw_register_literals(text) == [], f"{source} writes a register by number"
        # every register-like name the code uses is defined (and so checked) in the header
        used = set(re.findall(r"\b(?:NRF_\w+_BASE|[A-Z0-9]+__\w+|\w+_IRQn|ARM_\w+)\b", text))
        assert used and used <= names, sorted(used - names)
    main = (directory / "main.c").read_text()
    for register in ("PDM__SAMPLE_PTR", "PDM__PDMCLKCTRL", "UARTE0__TXD_PTR", "UARTE0__BAUDRATE",
                     "CLOCK__TASKS_HFCLKSTART", "P0__PIN_CNF", "NVMC__ICACHECNF"):
        assert register in main


def test_vector_table_matches_the_svd_interrupts(svd):
    assert IRQ_COUNT == svd.interrupt_count
    interrupts = {name: n for p in svd.peripherals.values() for name, n in p.interrupts.items()}
    for number, handler in IRQ_HANDLERS.items():
        assert interrupts[handler.removesuffix("_IRQHandler")] == number


@pytest.mark.parametrize("original,changed,expected", [
    ("#define NRF_PDM_BASE 0x4001D000u", "#define NRF_PDM_BASE 0x4001E000u",
     "NRF_PDM_BASE = 0x4001E000: SVD base of PDM is 0x4001D000"),
    ("#define UARTE0__TXD_PTR 0x544u", "#define UARTE0__TXD_PTR 0x548u",
     "UARTE0__TXD_PTR = 0x548: SVD offset of UARTE0.TXD_PTR is 0x544"),
    ("#define PDM__MODE__OPERATION__Mono 1u", "#define PDM__MODE__OPERATION__Mono 0u",
     "PDM__MODE__OPERATION__Mono = 0: SVD values of MODE.OPERATION: Stereo=0x0, Mono=0x1"),
    ("#define UARTE0__INTENSET__ENDTX__Pos 8u", "#define UARTE0__INTENSET__ENDTX__Pos 7u",
     "UARTE0__INTENSET__ENDTX__Pos = 7: SVD field INTENSET.ENDTX starts at bit 8"),
    ("#define PDM_IRQn 29", "#define PDM_IRQn 28", "PDM_IRQn = 28: SVD interrupt PDM is 29"),
])
def test_a_changed_register_fails_the_check(projects, svd, original, changed, expected):
    text = projects["nano33_ble_sense"].register_header.read_text()
    assert original in text
    problems = check_against_svd(parse_register_header(text.replace(original, changed)), svd)
    assert problems == [expected]


def test_a_raw_address_in_device_code_is_found():
    assert raw_register_literals("NRF_REG(0x4001D500u) = 1u;") == ["0x4001D500u"]

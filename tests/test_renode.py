"""Generated Renode self-check firmware: built for every board with a Renode platform,
run under QEMU where QEMU models the same UART, and under Renode when it is installed."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from silifc.codegen.boards import list_boards, load_board
from silifc.io.checkpoint import parse_state_dict
from silifc.codegen.emit import CompileOptions, write_project
from silifc.passes.fold import fold_network
from silifc.io.inputs import random_input
from silifc.passes.quantize import quantize_network
from silifc.target.renode import build_renode_firmware, run_robot
from silifc.codegen.renode import write_renode_files
from synthetic import random_state_dict

pytestmark = pytest.mark.firmware
RENODE_BOARDS = [name for name in list_boards() if load_board(name).renode is not None]


def _project(board_name, tmp_path):
    folded = fold_network(parse_state_dict(random_state_dict((16, 24, 4), ("silif",), seed=2, max_delay=2)))
    counts = random_input(16, 1, 40, 0.08, 1, seed=5)
    quantized = quantize_network(folded, calibration=counts)
    board = load_board(board_name)
    project = write_project(quantized, CompileOptions(board=board), tmp_path)
    files = write_renode_files(project, quantized, counts[0])
    return project, files


@pytest.mark.parametrize("board", RENODE_BOARDS)
def test_renode_firmware_builds(board, tmp_path):
    project, files = _project(board, tmp_path)
    image = build_renode_firmware(project, files)
    assert image.elf.exists()
    text = files.robot.read_text()
    assert load_board(board).renode.platform in text and "silifc: PASS" in text
    assert files.script.read_text().count("LoadELF") == 1


def test_renode_self_check_passes_on_qemu_stm32_usart(tmp_path):
    """QEMU's netduinoplus2 models the STM32F4 USART1 the stm32f405 shim drives."""
    project, files = _project("stm32f405", tmp_path)
    image = build_renode_firmware(project, files)
    done = subprocess.run(["qemu-system-arm", "-M", "netduinoplus2", "-display", "none", "-monitor", "none",
                           "-serial", "stdio", "-semihosting-config", "enable=on,target=native", "-kernel",
                           str(image.elf)], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert "silifc: PASS" in done.stdout, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("renode-test") is None,
                    reason="Renode not installed here: generated .robot tests NOT run (install renode to run them)")
@pytest.mark.parametrize("board", RENODE_BOARDS)
def test_generated_robot_test_passes_in_renode(board, tmp_path):
    project, files = _project(board, tmp_path)
    build_renode_firmware(project, files)
    done = run_robot(files)
    assert done.returncode == 0, done.stdout[-3000:]

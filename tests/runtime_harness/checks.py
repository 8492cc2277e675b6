"""What every kernel family's test file runs: its standard suite on the host (plain and under
ASan/UBSan), in QEMU on Cortex-M4 (DSP and portable), M7 and M33, and a smaller suite on
Cortex-M0 (micro:bit), each with every result compared exactly with the integer reference."""
from __future__ import annotations

import shutil

import pytest

from . import build, suites
from .common import STANDARD_PER_KERNEL, Report

# (board, dsp): nrf52840 = Cortex-M4F, mps2_an500 = Cortex-M7, mps2_an505 = Cortex-M33
FULL_SUITE_BUILDS = [("nrf52840", True), ("nrf52840", False), ("mps2_an500", True), ("mps2_an505", True)]
FULL_SUITE_IDS = [f"{b}-{'dsp' if d else 'portable'}" for b, d in FULL_SUITE_BUILDS]
SMALL_SUITE_PER_KERNEL = 300

HAS_ARM = shutil.which("arm-none-eabi-gcc") is not None and shutil.which("qemu-system-arm") is not None


def host_test(function):
    """Marks a test of the `host` tier (needs a host C compiler)."""
    return pytest.mark.host(pytest.mark.skipif(build.host_cc() is None,
                                               reason="no host C compiler (gcc or $CC)")(function))


def firmware_test(function):
    """Marks a test of the `firmware` tier (needs arm-none-eabi-gcc and qemu-system-arm)."""
    return pytest.mark.firmware(pytest.mark.skipif(not HAS_ARM, reason="needs arm-none-eabi-gcc and qemu-system-arm")
                                (function))


def assert_all_pass(report: Report, family: str, per_kernel: int = STANDARD_PER_KERNEL):
    module = suites.FAMILIES[family]
    for kernel in module.KERNELS:
        assert report.counts.get(kernel, 0) >= per_kernel, f"{kernel}: only {report.counts.get(kernel, 0)} cases ran"
    battery = [label for label in report.counts if label.startswith("invalid arguments")]
    assert battery, "the invalid-argument battery did not run"
    assert not report.failures, report.summary()


def run_on_host(drivers: build.DriverBuilds, tmp_path, family: str, sanitize: bool):
    report = build.run_host(drivers.host(sanitize), suites.standard_cases(family), tmp_path)
    assert_all_pass(report, family)


def run_in_qemu(drivers: build.DriverBuilds, tmp_path, family: str, board_name: str, dsp: bool):
    board, image = drivers.firmware(board_name, dsp=dsp)
    report, _ = build.run_firmware_cases(board, image, suites.standard_cases(family), tmp_path)
    assert_all_pass(report, family)


def run_on_cortex_m0(drivers: build.DriverBuilds, tmp_path, family: str):
    """ARMv6-M: no DSP, no long multiply (64-bit products come from libgcc); 16 KB of RAM."""
    board, image = drivers.firmware("microbit", small=True)
    report, _ = build.run_firmware_cases(board, image, suites.small_cases(family, SMALL_SUITE_PER_KERNEL), tmp_path)
    assert_all_pass(report, family, SMALL_SUITE_PER_KERNEL)

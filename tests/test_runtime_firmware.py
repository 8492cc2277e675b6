"""runtime_c on Cortex-M in QEMU: the DSP path and the portable path give int_ref's integers.

The case suite of test_runtime_host.py runs, batched into one firmware run per build, on
the nRF52840 board (Cortex-M4F, QEMU mps2-an386) with SLF_USE_DSP=1 and =0, on Cortex-M7
and Cortex-M33 (DSP path), and a smaller suite on the BBC micro:bit (Cortex-M0: portable
path, no 64-bit multiply instruction). The Cortex-M0+ build is compile-and-link only
(QEMU has no M0+ machine). The kernel benchmark's headline counts are checked too, so
docs/runtime.md cannot silently go stale.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

from runtime_harness import build, cases

pytestmark = [pytest.mark.firmware,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                 reason="needs arm-none-eabi-gcc and qemu-system-arm")]

# (board, dsp): nrf52840 = Cortex-M4F, mps2_an500 = Cortex-M7, mps2_an505 = Cortex-M33
FULL_SUITE_BUILDS = [("nrf52840", True), ("nrf52840", False), ("mps2_an500", True), ("mps2_an505", True)]
SMALL_SUITE_PER_KERNEL = 300


@pytest.mark.parametrize("board_name,dsp", FULL_SUITE_BUILDS,
                         ids=[f"{b}-{'dsp' if d else 'portable'}" for b, d in FULL_SUITE_BUILDS])
def test_kernels_match_int_ref_in_qemu(tmp_path, board_name, dsp):
    board, image = build.build_firmware_driver(tmp_path, board_name, dsp=dsp)
    report, run = build.run_firmware_cases(board, image, cases.standard_cases(), tmp_path)
    for kernel in cases.KERNELS:
        assert report.counts.get(kernel, 0) >= cases.STANDARD_PER_KERNEL, kernel
    assert not report.failures, report.summary()


@pytest.mark.parametrize("dsp", [True, False], ids=["dsp", "portable"])
def test_long_runs_in_qemu(tmp_path, dsp):
    board, image = build.build_firmware_driver(tmp_path, "nrf52840", dsp=dsp)
    rng = np.random.default_rng(300)
    runs = [cases.LongRunCase(rng, model, 100_000, 1000) for model in cases.LongRunCase.MODELS]
    report, _ = build.run_firmware_cases(board, image, runs, tmp_path, name="long")
    assert not report.failures, report.summary()


def test_portable_path_on_cortex_m0(tmp_path):
    """ARMv6-M: no DSP, no long multiply (64-bit products come from libgcc)."""
    board, image = build.build_firmware_driver(tmp_path, "microbit", small=True)
    suite = cases.small_cases(SMALL_SUITE_PER_KERNEL)
    report, _ = build.run_firmware_cases(board, image, suite, tmp_path)
    for kernel in cases.KERNELS:
        assert report.counts.get(kernel, 0) >= SMALL_SUITE_PER_KERNEL, kernel
    assert not report.failures, report.summary()


def test_portable_path_builds_for_cortex_m0plus(tmp_path):
    """samd21g18a has no emulator: compile (-Werror) and link the driver, and check that the image
    uses no instruction outside ARMv6-M (the linker would accept none, but say it explicitly)."""
    _, image = build.build_firmware_driver(tmp_path, "samd21g18a", small=True)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(image.elf)], check=True, capture_output=True,
                                 text=True).stdout
    for mnemonic in ("smlal", "smull", "qadd", "sxtab", "ldm.w", "sdiv"):
        assert f"\t{mnemonic}" not in disassembly
    assert image.ram_used <= image.memory["RAM"].size


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_kernels", build.ROOT / "bench" / "kernels.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# Upper bounds a little above the measured counts in docs/runtime.md (instructions per unit,
# Cortex-M4, DSP path): a change that slows a kernel down fails here and must update the doc.
DSP_BUDGET = {
    "accumulate_spikes_s8 (32 spikes)": 1.6,
    "accumulate_spikes_s8_lanes16 (32 spikes)": 0.95,
    "accumulate_spikes_s8_lanes16 (64 spikes)": 0.92,
    "accumulate_spikes_s8_lanes16 (32 spikes, 35 outputs)": 1.6,
    "accumulate_spikes_s16 (32 spikes)": 1.85,
    "accumulate_events_s8 (32 events, count 1)": 1.65,
    "accumulate_spikes_s8_axonal (32 spikes, D=16)": 1.95,
    "accumulate_spikes_s8_delayed (32 spikes, D=16)": 7.8,
    "silif_update_q31 (512 neurons)": 24.0,
    "csilif_update_q31 (512 neurons)": 21.0,
    "lif_update_q31 (512 neurons, LIF, subtract)": 21.0,
    "lif_update_q31 (512 neurons, CubaLIF, value)": 26.0,
    "readout_update_q31 (35 classes)": 15.0,
    "accumulate_decision_q16 (35 classes)": 46.0,
}


def test_benchmark_counts_stay_within_documented_budget(tmp_path):
    rows = {row.name: row for row in _bench_module().measure("nrf52840", dsp=True, out_dir=tmp_path)}
    for name, budget in DSP_BUDGET.items():
        assert rows[name].per_unit <= budget, f"{name}: {rows[name].per_unit:.2f} instructions per unit > {budget}"

"""runtime_c's decision kernels (include/slf_decision.h) bit-exact against the integer reference.

slf_softmax_q16, slf_accumulate_decision_q16 and slf_decide_s32: 1,000 seeded randomized cases
(tests/runtime_harness/decision.py) with ties, full-range states, every exp_shift the contract
allows and totals that saturate, against fixedpoint.softmax_q16 and int_ref; plus the
invalid-argument battery. Host (plain and ASan+UBSan), QEMU Cortex-M4 DSP and portable, M7, M33;
a smaller suite on Cortex-M0.
"""
from __future__ import annotations

import pytest

from runtime_harness.checks import (FULL_SUITE_BUILDS, FULL_SUITE_IDS, firmware_test, host_test, run_in_qemu,
                                    run_on_cortex_m0, run_on_host)

FAMILY = "decision"


@host_test
@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "sanitizers"])
def test_decision_kernels_match_int_ref_on_the_host(runtime_drivers, tmp_path, sanitize):
    run_on_host(runtime_drivers, tmp_path, FAMILY, sanitize)


@firmware_test
@pytest.mark.parametrize("board_name,dsp", FULL_SUITE_BUILDS, ids=FULL_SUITE_IDS)
def test_decision_kernels_match_int_ref_in_qemu(runtime_drivers, tmp_path, board_name, dsp):
    run_in_qemu(runtime_drivers, tmp_path, FAMILY, board_name, dsp)


@firmware_test
def test_decision_kernels_on_cortex_m0(runtime_drivers, tmp_path):
    run_on_cortex_m0(runtime_drivers, tmp_path, FAMILY)

"""runtime_c's synaptic kernels (include/slf_synapses.h) bit-exact against the integer reference.

Every accumulation kernel (spikes / events x int8 / int16 x no delays / axonal / per-synapse
delays, and the 16-bit lane kernel), the delay ring's take and init, and the one-time delay and
lane-bound checks: 1,000 seeded randomized cases each (tests/runtime_harness/synapses.py) with
weights at their limits, silent columns, event counts up to 255, invalid indices and delays (the
kernel must refuse and write nothing), delays up to depth - 1 with random ring heads, and for the
lane kernel column sums of exactly +-32,767 and wrapping repeats; plus the invalid-argument
battery. Host (C99 -Werror -pedantic, and ASan+UBSan), QEMU Cortex-M4 DSP and portable, M7, M33;
a smaller suite on Cortex-M0.
"""
from __future__ import annotations

import pytest

from runtime_harness.checks import (FULL_SUITE_BUILDS, FULL_SUITE_IDS, firmware_test, host_test, run_in_qemu,
                                    run_on_cortex_m0, run_on_host)

FAMILY = "synapses"


@host_test
@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "sanitizers"])
def test_synaptic_kernels_match_int_ref_on_the_host(runtime_drivers, tmp_path, sanitize):
    run_on_host(runtime_drivers, tmp_path, FAMILY, sanitize)


@firmware_test
@pytest.mark.parametrize("board_name,dsp", FULL_SUITE_BUILDS, ids=FULL_SUITE_IDS)
def test_synaptic_kernels_match_int_ref_in_qemu(runtime_drivers, tmp_path, board_name, dsp):
    run_in_qemu(runtime_drivers, tmp_path, FAMILY, board_name, dsp)


@firmware_test
def test_synaptic_kernels_on_cortex_m0(runtime_drivers, tmp_path):
    run_on_cortex_m0(runtime_drivers, tmp_path, FAMILY)

"""runtime_c's neuron kernels (include/slf_neurons.h) bit-exact against the integer reference.

SiLIF, C-SiLIF and readout updates and their one-time layer checks: 1,000 seeded randomized cases
each (tests/runtime_harness/neurons.py) with Q31 constants 0 and +-(2^31 - 2), negative couplings,
`mult` 0 and 2^31 - 1 with accumulators at both ends of the range the contract allows,
int32-extreme states and biases; plus the invalid-argument battery. Host (plain and ASan+UBSan),
QEMU Cortex-M4 DSP and portable, M7, M33; a smaller suite on Cortex-M0.

Long runs: 10^6 steps of an 8-neuron layer (10^5 under the sanitizers and in QEMU) with
hash-generated, partly saturating input, looped inside the driver; the driver reports the state
every 1,000 steps and the reference replays every segment from its snapshot, so equal end states
prove all transitions equal int_ref's (neurons.LongRunCase).
"""
from __future__ import annotations

import numpy as np
import pytest

from runtime_harness import build
from runtime_harness.checks import (FULL_SUITE_BUILDS, FULL_SUITE_IDS, firmware_test, host_test, run_in_qemu,
                                    run_on_cortex_m0, run_on_host)
from runtime_harness.neurons import LongRunCase

FAMILY = "neurons"
LONG_RUN_STEPS = 1_000_000
LONG_RUN_SEGMENT = 1000


@host_test
@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "sanitizers"])
def test_neuron_kernels_match_int_ref_on_the_host(runtime_drivers, tmp_path, sanitize):
    run_on_host(runtime_drivers, tmp_path, FAMILY, sanitize)


@firmware_test
@pytest.mark.parametrize("board_name,dsp", FULL_SUITE_BUILDS, ids=FULL_SUITE_IDS)
def test_neuron_kernels_match_int_ref_in_qemu(runtime_drivers, tmp_path, board_name, dsp):
    run_in_qemu(runtime_drivers, tmp_path, FAMILY, board_name, dsp)


@firmware_test
def test_neuron_kernels_on_cortex_m0(runtime_drivers, tmp_path):
    run_on_cortex_m0(runtime_drivers, tmp_path, FAMILY)


@host_test
@pytest.mark.parametrize("model", LongRunCase.MODELS)
def test_million_step_run_has_no_overflow_or_drift(runtime_drivers, tmp_path, model):
    """10^6 steps of an 8-neuron layer, half of it saturating; every step checked (see LongRunCase)."""
    long_run = LongRunCase(np.random.default_rng(100 + len(model)), model, LONG_RUN_STEPS, LONG_RUN_SEGMENT)
    report = build.run_host(runtime_drivers.host(), [long_run], tmp_path)
    assert not report.failures, report.summary()
    assert long_run.summary["saturated"] > 0          # the input really drove states to the int32 limits
    if model == "readout":
        assert long_run.summary["totals_saturated"] > 0   # decision totals hit 2^31 - 1 and stayed there
    else:
        assert long_run.summary["spikes"] > 0


@host_test
@pytest.mark.parametrize("model", LongRunCase.MODELS)
def test_long_run_under_sanitizers(runtime_drivers, tmp_path, model):
    long_run = LongRunCase(np.random.default_rng(200 + len(model)), model, 100_000, LONG_RUN_SEGMENT)
    report = build.run_host(runtime_drivers.host(sanitize=True), [long_run], tmp_path)
    assert not report.failures, report.summary()


@firmware_test
@pytest.mark.parametrize("dsp", [True, False], ids=["dsp", "portable"])
def test_long_runs_in_qemu(runtime_drivers, tmp_path, dsp):
    board, image = runtime_drivers.firmware("nrf52840", dsp=dsp)
    rng = np.random.default_rng(300)
    runs = [LongRunCase(rng, model, 100_000, LONG_RUN_SEGMENT) for model in LongRunCase.MODELS]
    report, _ = build.run_firmware_cases(board, image, runs, tmp_path, name="long")
    assert not report.failures, report.summary()

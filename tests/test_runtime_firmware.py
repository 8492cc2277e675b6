"""runtime_c as a Cortex-M library: the Cortex-M0+ build (compile and link only: QEMU has no M0+
machine), the DSP path's symbols, and the kernel benchmark's headline counts, so that
docs/runtime.md cannot silently go stale.

The kernels' bit-exactness in QEMU (Cortex-M4 DSP and portable, M7, M33, M0) is tested per kernel
family: test_runtime_synapses.py, test_runtime_neurons.py, test_runtime_decision.py (and
test_dense.py); every optimisation level in test_runtime_opt_levels.py.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import load_bench_script
from runtime_harness import build
from test_runtime_host import public_and_internal_symbols, public_functions

pytestmark = [pytest.mark.firmware,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                 reason="needs arm-none-eabi-gcc and qemu-system-arm")]

def test_portable_path_builds_for_cortex_m0plus(tmp_path):
    """samd21g18a has no emulator: compile (-Werror) and link the driver, and check that the image
    uses no instruction outside ARMv6-M (the linker would accept none, but say it explicitly)."""
    _, image = build.build_firmware_driver(tmp_path, "samd21g18a", small=True)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(image.elf)], check=True, capture_output=True,
                                 text=True).stdout
    for mnemonic in ("smlal", "smull", "qadd", "sxtab", "ldm.w", "sdiv"):
        assert f"\t{mnemonic}" not in disassembly
    assert image.ram_used <= image.memory["RAM"].size


def test_dsp_path_keeps_internal_helpers_out_of_the_public_api(tmp_path):
    """As test_runtime_host.py's check of the portable path, for src/ + src/dsp/ (Cortex-M4)."""
    from silifc.codegen.boards import compiler_flags, load_board

    objects = []
    for source in build.runtime_sources(dsp=True):
        obj = tmp_path / f"{source.parent.name}_{source.stem}.o"
        subprocess.run(["arm-none-eabi-gcc", *compiler_flags(load_board("nrf52840")), "-O2", *build.C99_WARNINGS,
                        "-DSLF_USE_DSP=1", f"-I{build.INCLUDE}", "-c", str(source), "-o", str(obj)],
                       check=True, capture_output=True, text=True)
        objects.append(str(obj))
    nm = subprocess.run(["arm-none-eabi-nm", *objects], check=True, capture_output=True, text=True).stdout
    public, other = public_and_internal_symbols(nm)
    assert public == public_functions(), f"declared but not defined: {sorted(public_functions() - public)}"
    assert other and all(name.startswith("slf_internal_") for name in other), sorted(other)


def _bench_module():
    return load_bench_script("kernels")


# Upper bounds a little above the measured counts in docs/runtime.md (instructions per unit,
# Cortex-M4, DSP path): a change that slows a kernel down fails here and must update the doc.
DSP_BUDGET = {
    "accumulate_spikes_s8 (32 spikes)": 1.6,
    "accumulate_spikes_s8_lanes16 (32 spikes)": 0.95,
    "accumulate_spikes_s8_lanes16 (64 spikes)": 0.92,
    "accumulate_spikes_s8_lanes16 (32 spikes, 35 outputs)": 1.65,
    "accumulate_spikes_s16 (32 spikes)": 1.85,
    "accumulate_events_s8 (32 events, count 1)": 1.65,
    "accumulate_events_s8_lanes16 (32 events, count 1)": 1.0,
    "accumulate_events_s8_lanes16 (32 events, count 3)": 2.8,
    "accumulate_spikes_s8_axonal (32 spikes, D=16)": 1.95,
    "accumulate_spikes_s8_delayed (32 spikes, D=16)": 7.8,
    "accumulate_spikes_s8_delayed_u8 (32 spikes, D=16)": 7.8,
    "accumulate_spikes_s8_delayed_u8 (32 spikes, 64 outputs, D=256)": 9.3,
    "silif_update_q31 (512 neurons)": 29.0,
    "csilif_update_q31 (512 neurons)": 25.0,
    "lif_update_q31 (512 neurons, LIF, subtract)": 23.5,
    "lif_update_q31 (512 neurons, CubaLIF, value)": 31.5,
    "readout_update_q31 (35 classes)": 15.0,
    "accumulate_decision_q16 (35 classes)": 49.0,
}


# Estimated Cortex-M4 cycles per unit (docs/cycles.md), a little above docs/runtime.md: the
# SiLIF, C-SiLIF and LIF-family neuron loops and the 16-bit lane passes order their loads for
# that model and spend more instructions for fewer cycles, so the instruction budget alone would
# not catch a slowdown.
DSP_CYCLE_BUDGET = {
    "accumulate_spikes_s8_lanes16 (32 spikes)": 1.43,
    "accumulate_spikes_s8_lanes16 (64 spikes)": 1.33,
    "accumulate_events_s8_lanes16 (32 events, count 1)": 1.47,
    "silif_update_q31 (512 neurons)": 32.5,
    "csilif_update_q31 (512 neurons)": 28.5,
    "lif_update_q31 (512 neurons, LIF, subtract)": 27.2,
    "lif_update_q31 (512 neurons, CubaLIF, value)": 36.2,
}


def test_benchmark_counts_stay_within_documented_budget(tmp_path):
    rows = {row.name: row for row in _bench_module().measure("nrf52840", dsp=True, out_dir=tmp_path)}
    for name, budget in DSP_BUDGET.items():
        assert rows[name].per_unit <= budget, f"{name}: {rows[name].per_unit:.2f} instructions per unit > {budget}"
    for name, budget in DSP_CYCLE_BUDGET.items():
        assert rows[name].cycles_per_unit <= budget, \
            f"{name}: {rows[name].cycles_per_unit:.2f} est. cycles per unit > {budget}"

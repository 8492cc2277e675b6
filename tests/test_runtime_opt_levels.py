"""The runtime and generated projects at every optimisation level: -O0, -Og, -O1, -O2, -O3, -Os,
each also with -fno-omit-frame-pointer (r7 reserved), on the Cortex-M4 DSP path and the portable
path, -Werror, and bit-exact against the integer reference.

Why: the DSP path's inline assembly needs many registers; at -O0 (hard-float ABI), -O3 and with
the frame pointer kept, GCC could not allocate some of it ("'asm' operand has impossible
constraints"), which broke every IDE Debug build. The default tier runs the runtime at -O0, -O2
and -O3 on both paths and -O2 -fno-omit-frame-pointer on the DSP path, and the generated projects
at -O0 (both paths), -O3 and -O2 -fno-omit-frame-pointer (DSP; -O2 is what every firmware test
builds); everything else is in the slow tier (scripts/test.sh --slow).

Two builds per level and path: the runtime test driver with every kernel family's 1,000-case suite
(tests/runtime_harness), and a generated project (runtime_harness.projects.long_delay_model: byte
delays up to 255 steps into a SiLIF layer, 4-bit delays into a C-SiLIF layer, a 16-bit-lane
readout) plus its --synapses dense twin, run in QEMU with every output and hidden spike compared.
"""
from __future__ import annotations

import pytest

from runtime_harness import build, suites
from runtime_harness.checks import HAS_ARM, assert_all_pass
from runtime_harness.projects import build_project, long_delay_model, run_bit_exact
from silifc.reference.int_ref import run_int

pytestmark = [pytest.mark.firmware, pytest.mark.skipif(not HAS_ARM, reason="needs arm-none-eabi-gcc and qemu-system-arm")]

LEVELS = ("-O0", "-Og", "-O1", "-O2", "-O3", "-Os")
FRAME = "-fno-omit-frame-pointer"


def configs(default_tier):
    """Every (level, frame pointer, path); those in default_tier run by default, the rest are slow."""
    return [pytest.param(opt, frame, dsp, id=f"{opt}{frame}-{'dsp' if dsp else 'portable'}",
                         marks=() if (opt, frame, dsp) in default_tier else pytest.mark.slow)
            for opt in LEVELS for frame in ("", FRAME) for dsp in (True, False)]


# -O2 on both paths is also what every other runtime test builds (the same cached driver).
RUNTIME_DEFAULT = {("-O0", "", True), ("-O0", "", False), ("-O2", "", True), ("-O2", "", False), ("-O3", "", True),
                   ("-O3", "", False), ("-O2", FRAME, True)}
PROJECT_DEFAULT = {("-O0", "", True), ("-O0", "", False), ("-O3", "", True), ("-O2", FRAME, True)}


@pytest.mark.parametrize("opt,frame,dsp", configs(RUNTIME_DEFAULT))
def test_runtime_is_bit_exact_at_every_optimisation_level(runtime_drivers, tmp_path, opt, frame, dsp):
    board, image = runtime_drivers.firmware("nrf52840", dsp=dsp, opt=opt, extra_cflags=(frame,) if frame else ())
    for family in suites.FAMILIES:
        report, _ = build.run_firmware_cases(board, image, suites.standard_cases(family), tmp_path, name=family)
        assert_all_pass(report, family)


@pytest.fixture(scope="module")
def models():
    quantized, counts = long_delay_model()
    dense, dense_counts = long_delay_model(max_delay=0, kinds=("csilif", "silif"), seed=6)
    return {"event": (quantized, counts, run_int(quantized, counts)),
            "dense": (dense, dense_counts, run_int(dense, dense_counts))}


@pytest.mark.parametrize("opt,frame,dsp", configs(PROJECT_DEFAULT))
@pytest.mark.parametrize("synapses", ["event", "dense"])
def test_generated_project_is_bit_exact_at_every_optimisation_level(models, tmp_path, opt, frame, dsp, synapses):
    quantized, counts, reference = models[synapses]
    project, image = build_project(quantized, "nrf52840", tmp_path, dsp=dsp, opt=opt, synapses=synapses,
                                   extra_cflags=(frame,) if frame else ())
    run_bit_exact(project, image, quantized, counts, reference)

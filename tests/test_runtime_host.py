"""runtime_c on the host: bit-exact against compiler/int_ref.py, warning-free C99, sanitizer-clean.

The runtime and tests/runtime_harness/driver.c are built as a standalone executable (no
ctypes, so AddressSanitizer needs no LD_PRELOAD) that replays a binary case file. Every
kernel gets >= 1000 seeded randomized cases with parameters at the edges of their formats;
every result must equal the reference exactly.
"""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from runtime_harness import build, cases

pytestmark = [pytest.mark.host,
              pytest.mark.skipif(build.host_cc() is None, reason="no host C compiler (gcc or $CC)")]

LONG_RUN_STEPS = 1_000_000
LONG_RUN_SEGMENT = 1000


@pytest.fixture(scope="module")
def drivers(tmp_path_factory):
    """{"plain": -O2 build, "sanitizers": ASan+UBSan build}; a warning fails the build (-Werror)."""
    root = tmp_path_factory.mktemp("runtime-host")
    return {"plain": build.build_host_driver(root / "plain"),
            "sanitizers": build.build_host_driver(root / "asan", sanitize=True, opt="-O1")}


def assert_all_pass(report: cases.Report, per_kernel: int):
    for kernel in cases.KERNELS:
        assert report.counts.get(kernel, 0) >= per_kernel, f"{kernel}: only {report.counts.get(kernel, 0)} cases ran"
    assert report.counts.get("invalid arguments") == 1
    assert not report.failures, report.summary()


@pytest.mark.parametrize("variant", ["plain", "sanitizers"])
def test_kernels_match_int_ref(drivers, tmp_path, variant):
    case_set = cases.standard_cases()
    report = build.run_host(drivers[variant], case_set, tmp_path)
    assert_all_pass(report, cases.STANDARD_PER_KERNEL)


@pytest.mark.parametrize("model", cases.LongRunCase.MODELS)
def test_million_step_run_has_no_overflow_or_drift(drivers, tmp_path, model):
    """10^6 steps of an 8-neuron layer, half of it saturating; every step checked (see LongRunCase)."""
    long_run = cases.LongRunCase(np.random.default_rng(100 + len(model)), model, LONG_RUN_STEPS, LONG_RUN_SEGMENT)
    report = build.run_host(drivers["plain"], [long_run], tmp_path)
    assert not report.failures, report.summary()
    assert long_run.summary["saturated"] > 0          # the input really drove states to the int32 limits
    if model == "readout":
        assert long_run.summary["totals_saturated"] > 0   # decision totals hit 2^31 - 1 and stayed there
    else:
        assert long_run.summary["spikes"] > 0


@pytest.mark.parametrize("model", cases.LongRunCase.MODELS)
def test_long_run_under_sanitizers(drivers, tmp_path, model):
    long_run = cases.LongRunCase(np.random.default_rng(200 + len(model)), model, 100_000, LONG_RUN_SEGMENT)
    report = build.run_host(drivers["sanitizers"], [long_run], tmp_path)
    assert not report.failures, report.summary()


@pytest.mark.parametrize("header", ["silifc.h", "slf_common.h", "slf_synapses.h", "slf_neurons.h",
                                    "slf_decision.h", "slf_config.h"])
def test_public_headers_are_self_contained(tmp_path, header):
    source = tmp_path / "only.c"
    source.write_text(f'#include "{header}"\nint slf_test_unused;\n')
    subprocess.run([build.host_cc(), *build.C99_WARNINGS, f"-I{build.INCLUDE}", "-c", str(source),
                    "-o", str(tmp_path / "only.o")], check=True, capture_output=True, text=True)


def test_runtime_is_integer_only_without_allocation_or_mutable_globals(tmp_path):
    """No float/double/malloc in the sources; no writable file-scope object in the compiled code."""
    for path in (*build.RUNTIME_SOURCES, *build.INCLUDE.glob("*.h"), build.RUNTIME / "src" / "slf_internal.h"):
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(), flags=re.S)
        for word in ("float", "double", "malloc", "calloc", "free", "printf"):
            assert not re.search(rf"\b{word}\b", code), f"{path.name} uses {word}"
    objects = []
    for source in build.RUNTIME_SOURCES:
        obj = tmp_path / (source.stem + ".o")
        subprocess.run([build.host_cc(), *build.C99_WARNINGS, "-O2", f"-I{build.INCLUDE}", "-c", str(source),
                        "-o", str(obj)], check=True, capture_output=True, text=True)
        objects.append(str(obj))
    symbols = subprocess.run(["nm", *objects], check=True, capture_output=True, text=True).stdout
    writable = [line for line in symbols.splitlines() if line[17:19].strip() in ("D", "d", "B", "b", "C")]
    assert not writable, "mutable static storage:\n" + "\n".join(writable)

"""libFuzzer on the host build of the runtime's input checks and accumulation kernels
(tests/runtime_harness/fuzz_accumulate.c), under AddressSanitizer and UBSan, for a bounded
time in the slow tier. clang with libFuzzer comes from `scripts/setup.sh --fuzz`, which
`scripts/test.sh --slow` runs.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT

FUZZ_SECONDS = 120
HARNESS = ROOT / "tests" / "runtime_harness" / "fuzz_accumulate.c"

pytestmark = [pytest.mark.host, pytest.mark.slow]


def _clang() -> str:
    for name in ("clang", "clang-14", "clang-15", "clang-16"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("clang is not installed: run `bash scripts/setup.sh --fuzz` (scripts/test.sh --slow does)")


def test_libfuzzer_finds_nothing_in_the_accumulation_kernels(tmp_path):
    from silifc.codegen.runtime import runtime_sources

    sources = [str(p) for p in runtime_sources(dsp=False, root=ROOT / "runtime_c")]   # the portable path
    binary = tmp_path / "fuzz_accumulate"
    build = subprocess.run([_clang(), "-g", "-O1", "-std=c11", "-Wall", "-Wextra", "-Werror",
                            "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
                            f"-I{ROOT / 'runtime_c' / 'include'}", f"-I{ROOT / 'runtime_c' / 'src'}",
                            str(HARNESS), *sources, "-o", str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rng = np.random.default_rng(0)
    for index in range(32):                                   # seeds: every kernel, small layers
        seed = bytes([index % 9, rng.integers(0, 256), 5 + index % 7, 3 + index % 11, 1 + index % 5, 0])
        (corpus / f"seed{index}").write_bytes(seed + rng.bytes(400))
    run = subprocess.run([str(binary), str(corpus), f"-max_total_time={FUZZ_SECONDS}", "-rss_limit_mb=2048",
                          "-print_final_stats=1", f"-artifact_prefix={tmp_path}/"],
                         capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", run.stderr)
    print(f"libFuzzer: {runs[1] if runs else '?'} inputs in {FUZZ_SECONDS} s, exit {run.returncode}")
    assert run.returncode == 0, run.stderr[-4000:]
    assert runs and int(runs[1]) > 10_000

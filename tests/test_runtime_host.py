"""runtime_c as a library, on the host: self-contained ASCII headers, integer-only code without
allocation or mutable globals, internal helpers out of the public API, and both paths complete.

The kernels' bit-exactness is tested per kernel family: test_runtime_synapses.py,
test_runtime_neurons.py, test_runtime_decision.py (and test_dense.py).
"""
from __future__ import annotations

import re
import subprocess

import pytest

from runtime_harness import build

pytestmark = [pytest.mark.host,
              pytest.mark.skipif(build.host_cc() is None, reason="no host C compiler (gcc or $CC)")]

SOURCES_AND_HEADERS = (*sorted((build.RUNTIME / "src").rglob("*.[ch]")), *sorted(build.INCLUDE.glob("*.h")))


@pytest.mark.parametrize("header", ["silifc.h", "slf_common.h", "slf_synapses.h", "slf_neurons.h", "slf_lif.h",
                                    "slf_decision.h", "slf_config.h"])
def test_public_headers_are_self_contained(tmp_path, header):
    source = tmp_path / "only.c"
    source.write_text(f'#include "{header}"\nint slf_test_unused;\n')
    subprocess.run([build.host_cc(), *build.C99_WARNINGS, f"-I{build.INCLUDE}", "-c", str(source),
                    "-o", str(tmp_path / "only.o")], check=True, capture_output=True, text=True)


def test_runtime_is_integer_only_without_allocation_or_mutable_globals(tmp_path):
    """No float/double/malloc in the sources; no writable file-scope object in the compiled code."""
    for path in (*(build.RUNTIME / "src").rglob("*.[ch]"), *build.INCLUDE.glob("*.h")):
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


def test_runtime_sources_and_headers_are_ascii():
    for path in SOURCES_AND_HEADERS:
        for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
            assert line.isascii(), f"{path.relative_to(build.RUNTIME)}:{number} is not ASCII: {line!r}"


def public_functions() -> set[str]:
    code = "".join(re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S) for path in build.INCLUDE.glob("*.h"))
    return set(re.findall(r"^slf_status (slf_\w+)\(", code, flags=re.M))


def public_and_internal_symbols(nm_output: str) -> tuple[set[str], set[str]]:
    """Global symbols the objects define: (those of the public API, the others)."""
    defined = {line.split()[-1] for line in nm_output.splitlines() if re.match(r"^\S+ [TDBRC] ", line)}
    public = public_functions()
    return defined & public, defined - public


def test_internal_helpers_stay_out_of_the_public_api(tmp_path):
    """Every global symbol of the (portable) runtime is a function of a public header or is named
    slf_internal_*; every function of the public headers is defined (test_runtime_firmware.py checks
    the DSP path the same way)."""
    objects = []
    for source in build.RUNTIME_SOURCES:
        obj = tmp_path / (source.stem + ".o")
        subprocess.run([build.host_cc(), *build.C99_WARNINGS, "-O2", f"-I{build.INCLUDE}", "-c", str(source),
                        "-o", str(obj)], check=True, capture_output=True, text=True)
        objects.append(str(obj))
    public, other = public_and_internal_symbols(
        subprocess.run(["nm", *objects], check=True, capture_output=True, text=True).stdout)
    assert public == public_functions(), f"declared but not defined: {sorted(public_functions() - public)}"
    assert all(name.startswith("slf_internal_") for name in other), sorted(other)


def test_both_paths_implement_the_same_kernels():
    """src/dsp/ and src/portable/ hold the same kernels (the DSP path may add slf_internal_* helpers;
    an slf_internal_* file on the portable path has its DSP twin), and no kernel is in src/ as well."""
    src = build.RUNTIME / "src"
    dsp = {p.name for p in (src / "dsp").glob("*.c") if not p.name.startswith("slf_internal_")}
    portable = {p.name for p in (src / "portable").glob("*.c")}
    internal = {name for name in portable if name.startswith("slf_internal_")}
    assert internal <= {p.name for p in (src / "dsp").glob("slf_internal_*.c")}
    portable -= internal
    assert dsp == portable and dsp
    assert not dsp & {p.name for p in src.glob("*.c")}

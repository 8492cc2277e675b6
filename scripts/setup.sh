#!/usr/bin/env bash
# One-time setup on Debian (as root): ARM toolchain + QEMU from apt, a venv with silifc.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc make espeak-ng)
# `setup.sh --fuzz` (scripts/test.sh --slow): clang with libFuzzer for the runtime's fuzz target.
if [ "${1:-}" = "--fuzz" ]; then
    APT_PACKAGES+=(clang-14 libclang-rt-14-dev)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} (apt)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv" >&2
    "$PYTHON" -m venv .venv
fi
# torch is pinned: 2.13.0 is the CPU build on the project machines' disk; an unpinned
# torch would pull a multi-GB CUDA build.
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
    echo "setup: installing torch==2.13.0 (CPU)" >&2
    .venv/bin/pip install -q torch==2.13.0
fi
.venv/bin/pip install -q -e ".[test]"
# NIR producers for the round-trip tests, without their dependencies (they would replace torch).
if ! .venv/bin/python -c "import nir, nirtorch, snntorch, norse" 2>/dev/null; then
    echo "setup: installing the NIR producers for the tests (tests/requirements-nir.txt)" >&2
    .venv/bin/pip install -q --no-deps -r tests/requirements-nir.txt
fi
echo "setup: done ($(.venv/bin/silifc --version))" >&2

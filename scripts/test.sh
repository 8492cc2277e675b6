#!/usr/bin/env bash
# Set up (if needed) and run the test suite. `--slow` also runs the large matrices.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--slow" ]; then
    shift
    bash scripts/setup.sh --fuzz
    exec .venv/bin/pytest -m "" "$@"
fi
bash scripts/setup.sh
exec .venv/bin/pytest "$@"

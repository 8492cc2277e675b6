#!/usr/bin/env bash
# Set up (if needed) and run the test suite. `--slow` also runs the large matrices.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--slow" ]; then
    shift
    exec .venv/bin/pytest -m "" "$@"
fi
exec .venv/bin/pytest "$@"

#!/usr/bin/env bash
# Set up (if needed) and run the test suite. `--slow` also runs the large matrices.
# The tests run in parallel (pytest-xdist), one worker per CPU core, each test file whole on one
# worker: module fixtures (a compiled project, a trained model) are built once, and a file's tests
# keep their order. Options after the script's go to pytest: `-n 0` runs serially.
set -euo pipefail
cd "$(dirname "$0")/.."
PARALLEL=(-n auto --dist loadfile)
if [ "${1:-}" = "--slow" ]; then
    shift
    bash scripts/setup.sh --fuzz
    exec .venv/bin/pytest -m "" "${PARALLEL[@]}" "$@"
fi
bash scripts/setup.sh
exec .venv/bin/pytest "${PARALLEL[@]}" "$@"

#!/usr/bin/env bash
# Set up (if needed) and run the main job on the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/silifc check silif_ssc_4ms.pth --input models/paper-ssc/sample_inputs.npz "$@"

#!/usr/bin/env bash
# Set up (if needed), then the main job on the bundled default: compile the SiLIF paper
# model for the nRF52840, run it in QEMU on the bundled sample inputs and compare every
# output and hidden spike with the integer reference (agreement, memory, instructions).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/silifc run silif_ssc_4ms.pth --board nrf52840 --input models/paper-ssc/sample_inputs.npz \
    --spikes --count "$@"

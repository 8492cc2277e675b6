#!/usr/bin/env bash
# Set up (if needed), then the main job on the bundled defaults:
# 1. keyword spotting: compile the bundled SiLIF keyword model (models/kws/kws_silif.pt) for the
#    nRF52840 with the always-listening app, run it in QEMU on the bundled 6-second WAV with five
#    keywords, print each detection with its time, and check every step (front-end counts,
#    per-step probabilities, detections) against the integer reference; cost per 4 ms step and memory;
# 2. the SiLIF paper model on its sample inputs: every output and hidden spike against the
#    integer reference (agreement, memory, instructions). Extra arguments go to this run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/silifc run kws_silif.pt --board nrf52840 --wav models/kws/stream.wav
echo
exec .venv/bin/silifc run silif_ssc_4ms.pth --board nrf52840 --input models/paper-ssc/sample_inputs.npz \
    --spikes --count "$@"

"""Device firmware matrix: the bundled keyword model on every real board, in the emulated
nRF52840, on the bundled stream and two synthesized streams (espeak-ng, held-out test voices),
against `silifc listen`. Prints a table (numbers: emulated; cycles = instructions x CPI).

    python bench/device.py [--out bench/device.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

BOARDS = ("nano33_ble_sense", "xiao_nrf52840_sense", "nrf52840dk")
# (name, words, espeak-ng voice, seed): test-split voice variants (docs/audio.md), never flite.
STREAMS = (("synth_a", ("no", "right", "up", "off"), "en-gb+m4", 11),
           ("synth_b", ("on", "stop", "yes", "down", "left"), "en-us+klatt3", 5))


def make_streams(directory: Path) -> list[tuple[str, Path]]:
    from silifc.audio.stream import make_keyword_stream
    from silifc.kws import bundled_path

    streams = [("stream.wav", bundled_path("stream.wav"))]
    for name, words, voice, seed in STREAMS:
        path = directory / f"{name}.wav"
        make_keyword_stream(words, voice=voice, seed=seed, gap_seconds=(0.6, 1.0), lead_seconds=0.8,
                            tail_seconds=0.8, path=path)
        streams.append((f"{name} ({voice}: {' '.join(words)})", path))
    return streams


def main() -> int:
    from silifc.board import load_board
    from silifc.device.run import run_device_audio
    from silifc.kws import load_kws_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args()
    model = load_kws_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stream, path in make_streams(Path(tmp)):
            for name in BOARDS:
                summary, _, _ = run_device_audio(model, load_board(name), str(path))
                summary["stream"] = stream
                rows.append(summary)
                print(f"  {name:<20} {stream:<45} {'same' if summary['same_as_reference'] else 'DIFFERENT':<9} "
                      f"{len(summary['detections'])} detections, overruns {summary['overruns']}", file=sys.stderr)
    head = (f"| board | stream | detections (device = listen) | overruns | flash B | RAM B | instr/wake-up mean (max) "
            f"| asleep | current | days on 100 mAh | emulation |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        w = r["instructions_per_wakeup"]
        print(f"| {r['board']} | {r['stream']} | {'; '.join(r['detections']) or 'none'} "
              f"({'same' if r['same_as_reference'] else 'DIFFERENT'}) | {r['overruns']} | {r['flash_used']} | "
              f"{r['ram_used']} | {w['mean']:,.0f} ({w['max']:,}) | {100 * r['asleep_fraction']:.1f} % | "
              f"{r['power']['current_ma']:.2f} mA | {r['power']['days_on_100mah']:.1f} | "
              f"{r['emulated_instructions_per_second'] / 1e6:.1f} M instr/s |")
    print(f"\nCPI {rows[0]['cpi']} (cycles = instructions x CPI, an estimate); currents: "
          + "; ".join(f"{k}: {v}" for k, v in rows[0]["power"]["sources"].items()))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

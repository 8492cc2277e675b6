"""Device firmware matrix: the bundled keyword model on every real board, in the emulated
nRF52840, on the bundled stream and two synthesized streams (espeak-ng, held-out test voices),
against `silifc listen`. Prints a table (instructions: exact; time, overruns and power: at the
CPI of each stream, cycles = instructions x CPI, the CPI estimated by running the same keyword
pipeline on that stream in QEMU with the Cortex-M4 cycle model unless --cpi is given).

    python bench/device.py [--cpi X] [--out bench/device.json] > bench/device.md
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
    from silifc.kws.audio.labelled_streams import make_keyword_stream
    from silifc.kws.model import bundled_path

    streams = [("stream.wav", bundled_path("stream.wav"))]
    for name, words, voice, seed in STREAMS:
        path = directory / f"{name}.wav"
        make_keyword_stream(words, voice=voice, seed=seed, gap_seconds=(0.6, 1.0), lead_seconds=0.8,
                            tail_seconds=0.8, path=path)
        streams.append((f"{name} ({voice}: {' '.join(words)})", path))
    return streams


def main() -> int:
    from silifc.codegen.boards import load_board
    from silifc.kws.device import pipeline_cpi, run_device_audio
    from silifc.kws.model import load_kws_model
    from silifc.target.nrf52840.power import CPU_DCDC, CPU_LDO, PDM, SLEEP

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpi", type=float, help="the time model's CPI (default: estimated per stream)")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args()
    model = load_kws_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stream, path in make_streams(Path(tmp)):
            cpi = args.cpi if args.cpi is not None else pipeline_cpi(model, path)
            for name in BOARDS:
                summary, _, _ = run_device_audio(model, load_board(name), str(path), cpi=cpi)
                summary["cpi_source"] = "given (--cpi)" if args.cpi is not None else "estimated (Cortex-M4 cycle model)"
                summary["stream"] = stream
                summary["wav"] = path.name          # local folders are not results
                summary["model"] = Path(summary["model"]).name
                summary["artefacts"] = [Path(p).name for p in summary["artefacts"]]
                rows.append(summary)
                print(f"  {name:<20} {stream:<45} {'same' if summary['same_as_reference'] else 'DIFFERENT':<9} "
                      f"{len(summary['detections'])} detections, overruns {summary['overruns']}", file=sys.stderr)
    print("# Device firmware matrix (python bench/device.py; emulated nRF52840; instructions exact, "
          "time and power at the CPI of the row)\n")
    head = ("| board | stream | detections (device = listen) | CPI | overruns | flash B | RAM B "
            "| instr/wake-up mean (max) | no overrun below CPI | asleep | current "
            "| days on 100 mAh | emulation |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        w = r["instructions_per_wakeup"]
        print(f"| {r['board']} | {r['stream']} | {'; '.join(r['detections']) or 'none'} "
              f"({'same' if r['same_as_reference'] else 'DIFFERENT'}) | {r['cpi']:.3f} | {r['overruns']} | "
              f"{r['flash_used']} | "
              f"{r['ram_used']} | {w['mean']:,.0f} ({w['max']:,}) | {r['overrun_free_below_cpi']:.1f} | "
              f"{100 * r['asleep_fraction']:.1f} % | {r['power']['current_ma']:.2f} mA ({r['power']['regulator']}) | "
              f"{r['power']['days']:.1f} | {r['emulated_instructions_per_second'] / 1e6:.1f} M instr/s |")
    print(f"\nCycles = instructions x CPI; CPI {rows[0]['cpi_source']} (`silifc run --cpi` overrides). \"No overrun below CPI\": "
          f"the longest wake-up still fits one 4 ms buffer (256,000 cycles at 64 MHz) up to that CPI. Current = "
          f"I_PDM + active x I_CPU (by the board's regulator) + asleep x I_sleep; microphone and board not included. "
          f"Currents (docs/device.md, Power):")
    for name, current in (("PDM", PDM), ("CPU, DC/DC (xiao, DK)", CPU_DCDC), ("CPU, LDO (Nano)", CPU_LDO),
                          ("sleep", SLEEP)):
        print(f"- {name}: {current.milliamps:g} mA: {current.source}. Checked: {current.verified}.")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Device-board commands: `silifc flash`, and the device branches of `silifc compile --audio`
and `silifc run --wav` (called from cli_audio for boards with a device section)."""
from __future__ import annotations

import sys


def _say(message: str) -> None:
    print(f"silifc: {message}", file=sys.stderr, flush=True)


def compile_device(args, model, board) -> tuple[dict, list[str]]:
    """The device project (and with --build its artefacts); returns (report, lines)."""
    from .app import build_device_firmware, write_device_project

    project = write_device_project(model, board, args.output, args.prefix, args.weights,
                                   getattr(args, "synapses", None) or "event")
    report = {"device": True, "register_header": str(project.register_header)}
    lines = [f"device/main.c: PDM -> front end -> network -> detector per {model.step_ms:g} ms buffer, UART lines "
             f"'<ms> <word> <score>' on {board.device.uart_tx} at {board.device.uart_baud} baud, LED "
             f"{board.device.led}; device/nrf52840_regs.h: every register it writes"]
    if getattr(args, "build", False):
        _, image = build_device_firmware(model, board, args.weights, args.prefix, work_dir=args.output,
                                         synapses=getattr(args, "synapses", None) or "event")
        report["linked"] = {"flash_used": image.flash_used, "ram_used": image.ram_used,
                            "artefacts": [str(p) for p in image.artefacts]}
        lines.append(f"linked {image.elf}: flash {image.flash_used} B of {board.flash.size} from "
                     f"0x{board.flash.origin:X}, RAM {image.ram_used} B of {board.ram.size}; "
                     + ", ".join(p.name for p in image.artefacts))
    lines.append(f"build with: make -C {args.output} -f device/Makefile; flash with: silifc flash MODEL --board "
                 f"{board.name} (docs/device.md)")
    return report, lines


def run_device(args, model, board) -> int:
    import json

    from .run import run_device_audio, summary_text

    summary, _, _ = run_device_audio(model, board, args.wav, args.weights, args.prefix,
                                     progress=None if args.json else _say, cpi=getattr(args, "cpi", None),
                                     synapses=getattr(args, "synapses", None) or "event")
    print(json.dumps(summary, indent=2) if args.json else summary_text(summary, board))
    return 0 if summary["passed"] else 1


def cmd_flash(args) -> int:
    from ..board import load_board
    from ..cli_audio import _load
    from .app import build_device_firmware, require_device_board
    from .flash import flash

    board = load_board(args.board)
    require_device_board(board)
    model = _load(args)
    _, image = build_device_firmware(model, board, args.weights, args.prefix, progress=_say)
    _say(f"built {', '.join(p.name for p in image.artefacts)}: flash {image.flash_used} B from "
         f"0x{board.flash.origin:X}, RAM {image.ram_used} B")
    print(flash(image, board, args.method, args.port, args.drive, args.probe, progress=_say))
    return 0


def add_commands(sub, add_quant_options) -> None:
    flash = sub.add_parser("flash", help="build the keyword firmware for a real board and flash it (docs/device.md)",
                           description="Builds the device firmware (cached) and flashes it with the board's method: "
                                       "pyocd (SWD probe), bossac (Arduino bootloader) or a copy to the UF2 drive.")
    flash.add_argument("model", nargs="?", help="keyword model (default: the bundled kws_silif.pt)")
    flash.add_argument("--board", required=True, help="a board with a device section, e.g. nano33_ble_sense")
    flash.add_argument("--method", choices=("pyocd", "bossac", "uf2"), help="override the board's flash method")
    flash.add_argument("--port", help="bossac: the bootloader's serial port (default: found by USB vendor)")
    flash.add_argument("--drive", help="uf2: the bootloader drive's folder (default: found by INFO_UF2.TXT)")
    flash.add_argument("--probe", help="pyocd: the probe's unique ID (default: the only one connected)")
    flash.add_argument("--prefix", default="silifc", help="C prefix of the model API (default silifc)")
    add_quant_options(flash)
    flash.set_defaults(func=cmd_flash)

"""`silifc flash MODEL --board B`: build the keyword firmware for a real board and put it on
the board with the board's method (docs/device.md)."""
from __future__ import annotations

from ..codegen.boards import FLASH_METHODS, load_board, require_device_board
from ..kws.device import build_device_firmware
from ..target.flash import flash
from .audio import _load
from .common import add_quant_options, say


def cmd_flash(args) -> int:
    board = load_board(args.board)
    require_device_board(board)              # before loading the model: a wrong board fails at once
    model = _load(args)
    _, image = build_device_firmware(model, board, args.weights, args.prefix, progress=say)
    say(f"built {', '.join(p.name for p in image.artefacts)}: flash {image.flash_used} B from "
        f"0x{board.flash.origin:X}, RAM {image.ram_used} B")
    print(flash(image, args.method, args.port, args.drive, args.probe, progress=say))
    return 0


def add_commands(sub) -> None:
    parser = sub.add_parser("flash", help="build the keyword firmware for a real board and flash it (docs/device.md)",
                            description="Builds the device firmware (cached) and flashes it with the board's method: "
                                        "pyocd (SWD probe), bossac (Arduino bootloader) or a copy to the UF2 drive.")
    parser.add_argument("model", nargs="?", help="keyword model (default: the bundled kws_silif.pt)")
    parser.add_argument("--board", required=True, help="a board with a device section, e.g. nano33_ble_sense")
    parser.add_argument("--method", choices=FLASH_METHODS, help="override the board's flash method")
    parser.add_argument("--port", help="bossac: the bootloader's serial port (default: found by USB vendor)")
    parser.add_argument("--drive", help="uf2: the bootloader drive's folder (default: found by INFO_UF2.TXT)")
    parser.add_argument("--probe", help="pyocd: the probe's unique ID (default: the only one connected)")
    parser.add_argument("--prefix", default="silifc", help="C prefix of the model API (default silifc)")
    add_quant_options(parser)
    parser.set_defaults(func=cmd_flash)

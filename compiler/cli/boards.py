"""`silifc boards`: the boards silifc knows."""
from __future__ import annotations

from ..codegen.boards import list_boards, load_board
from .common import emit


def cmd_boards(args) -> int:
    boards = [load_board(name) for name in list_boards()]
    report = [{"name": b.name, "cpu": b.cpu, "clock_hz": b.clock_hz, "flash": b.flash.size, "ram": b.ram.size,
               "dsp": b.has_dsp, "emulator": b.emulator.machine if b.emulator else None, "file": b.source}
              for b in boards]
    lines = [f"{'board':<12} {'cpu':<14} {'MHz':>5} {'flash KB':>9} {'RAM KB':>7} {'DSP':>4}  emulator"]
    for b in report:
        lines.append(f"{b['name']:<12} {b['cpu']:<14} {b['clock_hz'] / 1e6:>5.0f} {b['flash'] // 1024:>9} "
                     f"{b['ram'] // 1024:>7} {'yes' if b['dsp'] else 'no':>4}  {b['emulator'] or 'none (build only)'}"
                     + ("" if b["file"].startswith("silifc.boards/") else f"  ({b['file']})"))
    emit(args, report, "\n".join(lines))
    return 0


def add_commands(sub) -> None:
    boards = sub.add_parser("boards", help="list the boards silifc can compile for")
    boards.add_argument("--json", action="store_true", help="machine-readable list")
    boards.set_defaults(func=cmd_boards)

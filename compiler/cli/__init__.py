"""`silifc` command line: one module per command group, registered here."""
from __future__ import annotations

import argparse
import sys

from ..errors import SilifcError
from ..target.processes import Terminated, install_termination_handler
from ..version import __version__
from . import audio, boards, export, firmware, flash, model, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="silifc", description=__doc__)
    parser.add_argument("--version", action="version", version=f"silifc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (model, train, firmware, audio, flash, boards, export):
        group.add_commands(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    install_termination_handler()
    try:
        return args.func(args)
    except SilifcError as exc:
        print(f"silifc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Child processes were killed and temporary folders removed while this unwound.
        print("silifc: interrupted (Ctrl-C); stopped child processes and removed temporary files",
              file=sys.stderr)
        return 130
    except Terminated:
        print("silifc: terminated (SIGTERM); stopped child processes and removed temporary files", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())

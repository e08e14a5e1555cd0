"""The ``pacekit`` command line: one sub-command per job, each defined beside the code it runs.

A module that offers commands has ``add_commands(subparsers)``; each sub-parser sets ``func(args)``.
Errors a user can fix (a wrong path, a missing split file, a bad value) are printed as one line that
says what was expected -- never a bare traceback. ``PACEKIT_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

#: Modules whose ``add_commands`` contribute sub-commands, in help order.
COMMAND_MODULES = (
    "pacekit.quickstart",
    "pacekit.data.commands",
    "pacekit.train",
    "pacekit.evaluate",
    "pacekit.probe",
    "pacekit.retrieval",
    "pacekit.attention",
    "pacekit.lab",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pacekit",
        description="Self-supervised video representation learning by pace prediction (ECCV 2020), as a kit.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("\ninterrupted; runs resume from their last checkpoint with --resume", file=sys.stderr)
        return 130
    except (OSError, ValueError, ImportError, RuntimeError) as exc:  # OSError: missing paths, full disks
        if os.environ.get("PACEKIT_DEBUG"):
            raise
        print(f"pacekit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

"""The ``pacekit`` command line: one sub-command per job, defined in :mod:`pacekit.commands` (and
:mod:`pacekit.commands.data`, :mod:`pacekit.commands.lab`) over the library's functions.

A module that offers commands has ``add_commands(subparsers)``; each sub-parser sets ``func(args)``.
Errors a user can fix -- a :class:`pacekit.errors.PacekitError` (a missing split file, an unreadable
video, a file that is no checkpoint, a bad config value), a missing file or folder, a permission denied,
a bad argument value pacekit's own checks reject -- are printed as one line that says what was expected.
Any other exception (a shape mismatch or out-of-memory after an edit to a model, a bug) keeps its full
traceback, followed by a one-line hint. ``PACEKIT_DEBUG=1`` shows the traceback of the one-line errors too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

from .console import show_messages
from .errors import PacekitError, is_os_fault, os_fault_message

#: Modules whose ``add_commands`` contribute sub-commands, in help order.
COMMAND_MODULES = (
    "pacekit.commands.quickstart",
    "pacekit.commands.data",
    "pacekit.commands.train",
    "pacekit.commands.evaluate",
    "pacekit.commands.probe",
    "pacekit.commands.retrieval",
    "pacekit.commands.attention",
    "pacekit.commands.claims",
    "pacekit.commands.game",
    "pacekit.commands.ship",
    "pacekit.commands.lab",
    "pacekit.commands.colab",
)

EPILOG = ("Errors you can fix (a wrong path, a missing split file, a bad value) are printed as one line; "
          "set PACEKIT_DEBUG=1 to see their traceback too. Any other error keeps its traceback.")

BUG_HINT = ("pacekit: this looks like a bug or the effect of a change to the code, not a wrong argument; the "
            "traceback above shows where it happened")

_PACKAGE_DIR = Path(__file__).resolve().parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pacekit",
        description="Self-supervised video representation learning by pace prediction (ECCV 2020), as a kit.",
        epilog=EPILOG,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(subparsers)
    return parser


def is_user_error(exc: BaseException) -> bool:
    """Is ``exc`` one the user can fix from its message alone (printed as one line)?

    A :class:`PacekitError`, a missing (or misplaced) file or a permission denied always is. A ``ValueError`` or an
    ``ImportError`` is when pacekit's own code raised it (its checks of argument values, a missing optional
    package); raised inside torch or numpy, it is more likely a bug and keeps its traceback.
    """
    if isinstance(exc, (PacekitError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError,
                        PermissionError)) or is_os_fault(exc):
        return True
    if isinstance(exc, (ValueError, ImportError)):
        frames = traceback.extract_tb(exc.__traceback__)
        return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE_DIR)
    return False


def interrupt_hint(args) -> str:
    """What to tell after Ctrl-C: the command's own ``interrupt_hint`` default when its sub-parser sets one,
    the ``--resume`` hint for a command that has that flag, else just that it was interrupted."""
    hint = getattr(args, "interrupt_hint", None)
    if hint:
        return hint
    if hasattr(args, "resume"):
        return "interrupted; runs resume from their last checkpoint with --resume"
    return "interrupted"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The command line as typed (what a ledger or report records as the command that made it).
    args.command_line = " ".join(["pacekit", *(sys.argv[1:] if argv is None else [str(a) for a in argv])])
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with show_messages():
            result = args.func(args)
    except KeyboardInterrupt:
        print("\n" + interrupt_hint(args), file=sys.stderr)
        return 130
    except Exception as exc:
        if not is_user_error(exc):
            traceback.print_exc()
            print(BUG_HINT, file=sys.stderr)
            return 1
        if os.environ.get("PACEKIT_DEBUG"):
            raise
        message = os_fault_message(exc) if is_os_fault(exc) and not isinstance(exc, PacekitError) else exc
        print(f"pacekit {args.command}: error: {message}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

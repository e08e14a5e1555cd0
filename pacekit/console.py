"""How the library's messages reach a person.

Modules below the command line and the notebooks never print: they log to a logger under ``"pacekit"``
(``logging.getLogger("pacekit.training")``, ...). A command (:func:`pacekit.cli.main`), a notebook
(:func:`pacekit.teaching.notebook.setup`) or a pool worker shows those records with :func:`show_messages`:
information as plain lines on standard output, warnings and errors on standard error, each as its message
alone, as ``print`` would have written it.

An error the user can fix (:class:`pacekit.errors.PacekitError`) is one line too: the command line prints its
message (:func:`pacekit.cli.main`), and in a notebook :func:`show_user_errors_as_one_line` makes the kernel show
it as a one-line error instead of a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Iterator

from .errors import PacekitError

#: The logger every pacekit module logs under.
LOGGER = "pacekit"


class _Below(logging.Filter):
    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level


class _StdStream(logging.StreamHandler):
    """A handler writing to ``sys.stdout`` or ``sys.stderr`` as they are when a record comes (a notebook or a
    test may replace them after the handler was made)."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    @property
    def stream(self):
        return getattr(sys, self.name)

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ sets it; the stream is looked up at each record instead
        pass


def _handlers() -> list[logging.Handler]:
    out, err = _StdStream("stdout"), _StdStream("stderr")
    out.addFilter(_Below(logging.WARNING))
    err.setLevel(logging.WARNING)
    for handler in (out, err):
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.pacekit_console = True
    return [out, err]


def show_messages_from_now() -> None:
    """Show pacekit's messages from now on in this process (a notebook kernel, a pool worker); calling it
    again adds nothing."""
    logger = logging.getLogger(LOGGER)
    if not any(getattr(h, "pacekit_console", False) for h in logger.handlers):
        for handler in _handlers():
            logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


@contextlib.contextmanager
def show_messages() -> Iterator[None]:
    """Show pacekit's messages while the block runs (a command), and leave the logger as it was after it."""
    logger = logging.getLogger(LOGGER)
    if any(getattr(h, "pacekit_console", False) for h in logger.handlers):
        yield  # already shown (a command run from a notebook, or a nested call)
        return
    added, level = _handlers(), logger.level
    for handler in added:
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for handler in added:
            logger.removeHandler(handler)
        logger.setLevel(level)


def show_user_errors_as_one_line(shell=None) -> bool:
    """Make an IPython kernel (``shell``, default: the running one) show a :class:`PacekitError` raised in a cell as
    one error line, ``TypeName: message``, instead of a traceback into pacekit's code; any other exception keeps
    its traceback. The cell still fails (the kernel reports the error), so a notebook run stops there as before.
    ``PACEKIT_DEBUG=1`` keeps every traceback. Returns whether a shell was set up (none outside IPython)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or os.environ.get("PACEKIT_DEBUG"):
        return False
    earlier, earlier_handler = tuple(shell.custom_exceptions), shell.CustomTB  # one another package set keeps working
    if PacekitError in earlier:
        return True  # set up already

    def one_line(self, etype, value, tb, tb_offset=None):
        if not issubclass(etype, PacekitError):
            return earlier_handler(etype, value, tb, tb_offset=tb_offset)
        structured = [f"{etype.__name__}: {value}"]
        self._showtraceback(etype, value, structured)  # what IPython does with a traceback, with the line alone
        return structured

    shell.set_custom_exc(earlier + (PacekitError,), one_line)
    return True


__all__ = ["LOGGER", "show_messages", "show_messages_from_now", "show_user_errors_as_one_line"]

"""How the library's messages reach a person.

Modules below the command line and the notebooks never print: they log to a logger under ``"pacekit"``
(``logging.getLogger("pacekit.training")``, ...). A command (:func:`pacekit.cli.main`), a notebook
(:func:`pacekit.teaching.notebook.setup`) or a pool worker shows those records with :func:`show_messages`:
information as plain lines on standard output, warnings and errors on standard error, each as its message
alone, as ``print`` would have written it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Iterator

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


__all__ = ["LOGGER", "show_messages", "show_messages_from_now"]

"""The base of every error pacekit raises on purpose.

A :class:`PacekitError` is something the user can fix -- a missing split file, a video that will not
decode, a file that is no checkpoint, a config value out of range -- and its message says what was
expected. The command line prints such an error as one line; anything else keeps its traceback, because
it is more likely a bug or the effect of an edit to the code. Each subclass keeps the built-in base it
had before (``SplitError`` is still a ``FileNotFoundError``), so existing ``except`` clauses still work.
"""

from __future__ import annotations


class PacekitError(Exception):
    """An error pacekit raises on purpose, with a message that says what was expected."""


__all__ = ["PacekitError"]

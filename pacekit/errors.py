"""The base of every error pacekit raises on purpose.

A :class:`PacekitError` is something the user can fix -- a missing split file, a video that will not
decode, a file that is no checkpoint, a config value out of range -- and its message says what was
expected. The command line prints such an error as one line; anything else keeps its traceback, because
it is more likely a bug or the effect of an edit to the code. Each subclass keeps the built-in base it
had before (``SplitError`` is still a ``FileNotFoundError``), so existing ``except`` clauses still work.
"""

from __future__ import annotations

import errno


class PacekitError(Exception):
    """An error pacekit raises on purpose, with a message that says what was expected."""


class DamagedFileError(PacekitError, ValueError):
    """A file pacekit wrote and reads back (a cached result, a record, a log) that is truncated, not JSON, or not
    of the shape pacekit writes. The message names the file, what is wrong with it and what to do (delete it to
    recompute, pass --overwrite, ...); :func:`pacekit.atomic.read_json` raises it. A ``ValueError`` as well, so
    an ``except ValueError`` written before it existed still catches it."""


#: Operating-system faults a user causes and can fix, in words.
OS_FAULTS = {
    errno.ENOSPC: "the disk is full (no space left on the device)",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file is in the way of a folder",
}

#: What to do about each of them.
OS_FAULT_FIXES = {
    errno.ENOSPC: "free some space and run the same command again (runs resume from their last checkpoint)",
    errno.EDQUOT: "free some space and run the same command again (runs resume from their last checkpoint)",
    errno.EACCES: "fix its permissions, or choose a folder you may write to (--out-dir / --out)",
    errno.EPERM: "fix its permissions, or choose a folder you may write to (--out-dir / --out)",
    errno.EROFS: "choose a folder on a writable disk (--out-dir / --out)",
    errno.ENOTDIR: "check the path: one of its parts is a file",
    errno.EEXIST: "move the file that is in the way, or choose another folder",
}


def one_line(exc: BaseException, limit: int = 240) -> str:
    """``exc`` as ``"TypeName: its message"`` on one line (a multi-line message joined, cut at ``limit``), to name
    the cause inside a one-line error."""
    message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {message[:limit] or 'no message'}"


def describe_os_error(exc: OSError) -> str:
    """The cause of ``exc`` in words (``"the disk is full ..."``), falling back to the system's message."""
    return OS_FAULTS.get(exc.errno) or exc.strerror or str(exc)


def is_os_fault(exc: BaseException) -> bool:
    """Is ``exc`` an operating-system fault the user can fix (a full disk, a read-only or forbidden path)?"""
    return isinstance(exc, OSError) and exc.errno in OS_FAULTS


def os_fault_message(exc: OSError) -> str:
    """One line for an operating-system fault: the path, the cause, the fix."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{describe_os_error(exc)}; {OS_FAULT_FIXES.get(exc.errno, 'fix the path and run it again')}"


__all__ = ["OS_FAULTS", "DamagedFileError", "PacekitError", "describe_os_error", "is_os_fault", "one_line",
           "os_fault_message"]

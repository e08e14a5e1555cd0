"""Files written whole or not at all.

A results file that pacekit reads back to resume or reuse a run (a claims cell, an experiment's JSON, a
linear probe's metrics, the ledger, the quickstart's ``result.json``) is written to a temp file beside it,
flushed to disk, then renamed over it: a crash or a full disk mid-write leaves the previous file (or none),
never half of one that a rerun would fail to parse. Checkpoints have their own writer,
:func:`pacekit.training.checkpoint.save_checkpoint`, which also checks what goes into them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (parents created) so that ``path`` is never seen half-written; returns it.

    The file gets the permissions a plain ``open(path, "wb")`` would (``0o666`` less the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path, text: str, encoding: str = "utf-8") -> Path:
    """:func:`write_bytes_atomic` for text."""
    return write_bytes_atomic(path, text.encode(encoding))


def ensure_writable(folder) -> Path:
    """Create ``folder`` (and its parents) and check a file can be written in it, before a long computation
    whose results go there; raises the ``OSError`` (a read-only disk, a full one, no permission) at once."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".pacekit-write-check.", dir=folder)
    os.close(fd)
    os.unlink(probe)
    return folder


__all__ = ["current_umask", "ensure_writable", "write_bytes_atomic", "write_text_atomic"]

"""Folders pacekit owns: a dataset, a run or a cache is written only into a new or empty folder, or one pacekit made.

Every writer marks the folder it creates with a small JSON file naming pacekit and what the folder holds: the
synthetic set's ``synthetic.json`` (its description), the claims ledger's ``seeds.json`` (the seeds fixed before
its results), and :data:`MARKER` (``pacekit.json``) for the others -- a training run, a prepared copy of a
dataset, the quickstart's folder. Before any work, :func:`check_folder` refuses a folder that holds files but no
such mark, in one line naming a few of them and what to do instead: a dataset, someone's notes or another
program's output are never written into, whatever flag is given, and so ``--overwrite`` never deletes a file
pacekit did not write.

A folder that an older pacekit wrote before the marks existed is recognised by its files alone: each kind of
folder (:class:`Kind`) lists the files pacekit writes there, and a folder holding only those is pacekit's; its
writer marks it when it next writes there, so earlier runs still resume and are still reused.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from . import __version__
from .atomic import read_json, write_text_atomic
from .errors import PacekitError

#: The mark of a folder whose kind has no description file of its own.
MARKER = "pacekit.json"

#: Files any writer may leave for a moment: :func:`pacekit.atomic.ensure_writable`'s probe.
COMMON_FILES = (r"(.*/)?\.pacekit-write-check\..*",)

#: Folders named, at most, in a refusal.
SHOWN = 3


class ForeignFolderError(PacekitError, FileExistsError):
    """A folder pacekit was asked to write into holds files pacekit did not write (or is pacekit's folder of
    another kind). The message names a few of them and what to do instead."""


@dataclass(frozen=True)
class Kind:
    """A kind of folder pacekit writes.

    Attributes:
        format: recorded in the mark (``"pacekit-run"``).
        what: what the folder holds, in words (``"a training run"``), for messages and the mark.
        marker: the file that marks it (:data:`MARKER` unless the kind has a description file of its own).
        files: regular expressions matching the paths (relative to the folder, ``/``-separated) of the files
            pacekit writes there: a folder holding nothing else was written by pacekit before marks existed...
        required: ...provided one of its files matches this expression too (a run's ``metrics.jsonl``, written
            first): a folder holding only a file named like one of pacekit's (``last.pt``) is not taken for one.
    """

    format: str
    what: str
    marker: str = MARKER
    files: tuple[str, ...] = ()
    required: Optional[str] = None

    def written_by_pacekit(self, rel: str) -> bool:
        return any(re.fullmatch(pattern, rel) for pattern in self.files + COMMON_FILES)


def _listing(folder: Path, kind: Kind, ours: Optional[Callable[[str], bool]]) -> list[str]:
    """The top-level entries of ``folder`` (``"notes.txt"``, ``"Basketball/"``) that keep it from being pacekit's, in
    name order, at most ``SHOWN + 1``: those holding a file pacekit does not write there; or, when there is none,
    every entry unless the folder holds a file pacekit writes there and one matching ``kind.required``. Empty when
    the folder is pacekit's, written before the mark existed."""
    def pacekit_wrote(rel: str) -> bool:
        return kind.written_by_pacekit(rel) or (ours is not None and ours(rel))

    entries, foreign, written, required = [], [], False, kind.required is None
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if len(foreign) > SHOWN:
            break
        if not entry.is_dir(follow_symlinks=False):
            entries.append(entry.name)
            if not pacekit_wrote(entry.name):
                foreign.append(entry.name)
                continue
            written = True
            required = required or bool(re.fullmatch(kind.required, entry.name))
            continue
        entries.append(entry.name + "/")
        for top, dirs, files in os.walk(entry.path):
            dirs.sort()
            rel = [f"{Path(top).relative_to(folder).as_posix()}/{name}" for name in files]
            if not all(pacekit_wrote(r) for r in rel):
                foreign.append(entry.name + "/")
                break
            written = written or bool(rel)
            required = required or any(re.fullmatch(kind.required, r) for r in rel)
    if foreign or (written and required):
        return foreign
    return entries[:SHOWN + 1]


def refusal(folder, kind: Kind, found: list[str], fix: str) -> ForeignFolderError:
    """The error for ``folder`` holding ``found`` (top-level entries, one more than shown meaning "more")."""
    shown = ", ".join(found[:SHOWN]) + (", ..." if len(found) > SHOWN else "")
    return ForeignFolderError(
        f"{folder} already holds files and no {kind.marker}, so pacekit did not write it ({shown}); pacekit writes "
        f"{kind.what} only into a new or empty folder, or one it wrote before. {fix}")


def read_mark(folder, kind: Kind, fix: str) -> dict:
    """The :data:`MARKER` of ``folder``, checked to mark a folder of ``kind``.

    Raises:
        ForeignFolderError: it marks pacekit's folder of another kind.
        DamagedFileError: it is not a mark pacekit writes.
    """
    path = Path(folder) / MARKER
    mark = read_json(path, f"it marks the folder as pacekit's: restore it, or {fix[0].lower()}{fix[1:]}",
                     keys={"format": str}, optional={"what": str})
    if mark["format"] != kind.format:
        what = mark.get("what") or mark["format"]
        raise ForeignFolderError(f"{folder} is pacekit's folder of {what}, not of {kind.what}. {fix}")
    return mark


def check_folder(folder, kind: Kind, fix: str, ours: Optional[Callable[[str], bool]] = None) -> bool:
    """Refuse ``folder`` unless pacekit may write a folder of ``kind`` there; reads only.

    Args:
        fix: what to do instead, ending the refusal (``"Choose another --name."``).
        ours: recognises more of the files pacekit writes there (a relative ``/``-separated path -> bool), for a
            kind whose files depend on the call (a prepared copy's split files are the source's).

    Returns:
        True when the folder is pacekit's already (marked, or holding only files pacekit writes there); False when
        it is new or empty.

    Raises:
        NotADirectoryError: ``folder`` is a file.
        ForeignFolderError: it holds files pacekit did not write, or is pacekit's folder of another kind.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; give a folder for {kind.what}")
    if not folder.is_dir():
        return False
    if (folder / MARKER).is_file():  # pacekit's: of this kind, or of another (refused)
        read_mark(folder, kind, fix)
    if (folder / kind.marker).is_file():
        return True
    with os.scandir(folder) as entries:
        if next(entries, None) is None:
            return False
    found = _listing(folder, kind, ours)
    if found:
        raise refusal(folder, kind, found, fix)
    return True


def mark_folder(folder, kind: Kind) -> Path:
    """Create ``folder`` and write its :data:`MARKER` (left as it is when there); returns the folder. Call it after
    :func:`check_folder`, before the first file of the work."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / MARKER).is_file():
        write_text_atomic(folder / MARKER, json.dumps({"format": kind.format, "what": kind.what,
                                                       "written_by": f"pacekit {__version__}"}, indent=1) + "\n")
    return folder


__all__ = ["COMMON_FILES", "MARKER", "ForeignFolderError", "Kind", "check_folder", "mark_folder", "read_mark",
           "refusal"]

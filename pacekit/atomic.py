"""Files written whole or not at all.

A results file that pacekit reads back to resume or reuse a run (a claims cell, an experiment's JSON, a
linear probe's metrics, the ledger, the quickstart's ``result.json``) is written to a temp file beside it,
flushed to disk, then renamed over it: a crash or a full disk mid-write leaves the previous file (or none),
never half of one that a rerun would fail to parse. Checkpoints have their own writer,
:func:`pacekit.training.checkpoint.save_checkpoint`, which also checks what goes into them.

A JSON file pacekit reads back is read with :func:`read_json` (or :func:`read_json_lines`), which checks it
parsed into the shape pacekit writes: a file damaged all the same (cut short by a full disk on another
machine, edited by hand, a copy gone wrong) is a :class:`pacekit.errors.DamagedFileError` that names the file,
what is wrong and what to do -- never a ``JSONDecodeError`` traceback, nor a ``KeyError`` deep in the code that
uses it. A caller whose file is a cache catches it, logs a warning and recomputes.

Result files carry the version of their layout, ``"schema_version"`` (:data:`RESULT_SCHEMA`), written by
:func:`write_json_atomic` and checked by :func:`read_result_json` / :func:`check_schema`: a file of another
version is refused with the fix, instead of readers guessing from which keys are present. A result file
without the field was written before the field existed, in version 1's layout.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .errors import DamagedFileError


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


#: The layout version of the result files pacekit writes and reads back (``experiment.json``, claims cells,
#: ``ledger.json``, ``seeds.json``, the quickstart's ``result.json``, ``eval.json``, the commands' result files).
#: Raise it when a field changes meaning or a reader would need a field older files lack.
RESULT_SCHEMA = 1
#: The key that carries it, first in every result file.
SCHEMA_KEY = "schema_version"


def result_text(data: Mapping, **dumps: Any) -> str:
    """``data`` as the JSON text of a result file: ``"schema_version": RESULT_SCHEMA`` first, then ``data``;
    ``dumps``: :func:`json.dumps`' options (``indent``, ``default``, ``allow_nan``)."""
    return json.dumps({SCHEMA_KEY: RESULT_SCHEMA, **data}, **dumps)


def write_json_atomic(path, data: Mapping, **dumps: Any) -> Path:
    """Write :func:`result_text` of ``data`` to ``path`` with :func:`write_text_atomic`."""
    return write_text_atomic(path, result_text(data, **dumps))


def ensure_writable(folder) -> Path:
    """Create ``folder`` (and its parents) and check a file can be written in it, before a long computation
    whose results go there; raises the ``OSError`` (a read-only disk, a full one, no permission) at once."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".pacekit-write-check.", dir=folder)
    os.close(fd)
    os.unlink(probe)
    return folder


#: What a JSON value is called in messages, by its Python type.
_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}

Kind = Union[type, tuple[type, ...]]


def _json_name(kind: Kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(_JSON_NAMES.get(k, k.__name__) for k in kinds))


def _is(value: Any, kind: Kind) -> bool:
    """``isinstance`` where a JSON true/false is no number (``bool`` is an ``int`` in Python)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def damaged(path, problem: str, fix: str) -> DamagedFileError:
    """The error for ``path`` damaged by ``problem``: ``"<path> is damaged (<problem>); <fix>"``."""
    return DamagedFileError(f"{path} is damaged ({problem}); {fix}")


def check_json(data: Any, path, fix: str, shape: Kind = dict, keys: Optional[Mapping[str, Optional[Kind]]] = None,
               optional: Optional[Mapping[str, Kind]] = None, where: Optional[str] = None) -> Any:
    """``data`` (parsed from ``path``) when it is a ``shape`` holding each of ``keys`` with its kind (None: any
    kind), and each of ``optional`` that it holds with its kind; else :func:`damaged`'s error, ending with ``fix``.
    ``where`` names ``data`` inside the file (``"videos[3]"``) when it is not the whole file."""
    it, its = (where, f"{where}'s") if where else ("it", "its")
    if not _is(data, shape):
        raise damaged(path, f"{it} holds {_json_name(type(data))}, not {_json_name(shape)}", fix)
    for key, kind in (keys or {}).items():
        if key not in data:
            raise damaged(path, f"{it} lacks {key!r}", fix)
    for key, kind in {**(optional or {}), **(keys or {})}.items():
        if key in data and kind is not None and not _is(data[key], kind):
            raise damaged(path, f"{its} {key!r} is {_json_name(type(data[key]))}, not {_json_name(kind)}", fix)
    return data


def _parse(text: str, path, fix: str, where: str = "") -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        if not text.strip():
            raise damaged(path, f"{where}empty", fix) from None
        raise damaged(path, f"{where}not valid JSON, cut short or edited: {exc.msg} at line {exc.lineno} column "
                            f"{exc.colno}", fix) from None


def _read_text(path: Path, fix: str) -> str:
    data = path.read_bytes()  # a missing file or a permission denied stays the OSError it is
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(path, f"not UTF-8 text: byte {exc.start} is {data[exc.start]:#04x}", fix) from None


def read_json(path, fix: str, shape: Kind = dict, keys: Optional[Mapping[str, Optional[Kind]]] = None,
              optional: Optional[Mapping[str, Kind]] = None) -> Any:
    """The JSON in ``path``, a file pacekit wrote, checked to be a ``shape`` holding ``keys`` (and ``optional``'s
    keys, where it holds them, of their kinds: :func:`check_json`).

    Args:
        fix: what the user should do about a damaged file, ending its message: ``"delete it to recompute the
            cell"``, ``"pass --overwrite"``.

    Raises:
        DamagedFileError: the file is empty, not UTF-8, not JSON (cut short, edited) or of another shape.
        OSError: it cannot be read (missing, a folder, permission denied), as ``open`` raises it.
    """
    path = Path(path)
    return check_json(_parse(_read_text(path, fix), path, fix), path, fix, shape, keys, optional)


def check_schema(data: dict, path, fix: str) -> dict:
    """``data`` (a result file's object) without its ``"schema_version"``, when that is :data:`RESULT_SCHEMA`
    (or absent: version 1); else a :class:`pacekit.errors.DamagedFileError` naming ``path``, both versions and ``fix``."""
    version = data.get(SCHEMA_KEY, 1)
    if not _is(version, int):
        raise damaged(path, f"its {SCHEMA_KEY!r} is {_json_name(type(version))}, not a number", fix)
    if version != RESULT_SCHEMA:
        newer = version > RESULT_SCHEMA
        raise DamagedFileError(f"{path} holds results of layout version {version}, and this pacekit reads version "
                               f"{RESULT_SCHEMA} (it was written by {'a newer' if newer else 'an older'} pacekit); "
                               + (f"upgrade pacekit to read it, or {fix}" if newer else fix))
    return {k: v for k, v in data.items() if k != SCHEMA_KEY}


def read_result_json(path, fix: str, keys: Optional[Mapping[str, Optional[Kind]]] = None,
                     optional: Optional[Mapping[str, Kind]] = None) -> dict:
    """A result file written by :func:`write_json_atomic`: :func:`read_json` (an object holding ``keys``),
    then :func:`check_schema`; returned without its ``"schema_version"``."""
    path = Path(path)
    return check_schema(read_json(path, fix, dict, keys, optional), path, fix)


def read_json_lines(path, fix: str) -> list[dict]:
    """The rows of a JSON-lines file pacekit wrote (one object a line, blank lines skipped), each checked to be
    an object; a damaged line is a :class:`pacekit.errors.DamagedFileError` naming its number."""
    path = Path(path)
    rows = []
    for number, line in enumerate(_read_text(path, fix).splitlines(), start=1):
        if line.strip():
            row = _parse(line, path, fix, where=f"line {number}: ")
            if not isinstance(row, dict):
                raise damaged(path, f"line {number} holds {_json_name(type(row))}, not an object", fix)
            rows.append(row)
    return rows


__all__ = ["RESULT_SCHEMA", "SCHEMA_KEY", "check_json", "check_schema", "current_umask", "damaged", "ensure_writable",
           "read_json", "read_json_lines", "read_result_json", "result_text", "write_bytes_atomic", "write_json_atomic",
           "write_text_atomic"]

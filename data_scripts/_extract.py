"""Safe extraction of tar, zip and rar archives: nothing may land outside the target folder.

One idea: `extract(archive, dest)` unpacks into a staging folder inside `dest`, checks every
member, then moves the result into `dest`. An archive with a member that would escape (an
absolute path, a `..` component, a link pointing out, a device file) is refused as a whole:
nothing from it is kept.

- tar: every member passes the same checks as Python's `tarfile.data_filter` (Python 3.12,
  3.11.4+, 3.10.12+), which is also passed to tarfile where it exists.
- zip: every member name is checked before anything is written; symlink entries are refused.
- rar: member names are listed (with the `rarfile` package when installed, else with the tool)
  and checked BEFORE extracting; the extraction itself runs the first tool found of `unrar`,
  `unar`, `bsdtar`; the staged result is checked again (no links) before it is moved.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Callable

RAR_TOOLS = ("unrar", "unar", "bsdtar")

NO_RAR_TOOL = (
    "Extracting {archive} needs a RAR extractor, and none of unrar, unar, bsdtar was found on PATH.\n"
    "Install one, then re-run (downloads are kept):\n"
    "  Debian/Ubuntu: sudo apt install unar      (or: sudo apt install libarchive-tools  for bsdtar)\n"
    "  macOS:         brew install unar\n"
    "  Windows:       install 7-Zip or WinRAR and extract by hand, or use WSL.\n"
    "(`pip install rarfile` alone is not enough: it needs one of these tools for compressed data.)"
)


class UnsafeArchiveError(RuntimeError):
    """An archive member would be written outside the target folder; the archive was refused."""


class ExtractionError(RuntimeError):
    """The extraction tool failed, or no tool is available."""


def check_member_name(name: str, archive: Path) -> PurePosixPath:
    """The member's relative path, or UnsafeArchiveError for an absolute or `..` path.

    Both "/" and "\\" count as separators (RAR 4 archives made on Windows use "\\").
    """
    unified = name.replace("\\", "/")
    posix = PurePosixPath(unified)
    if not unified or posix.is_absolute() or PureWindowsPath(name).drive or PureWindowsPath(name).root:
        raise UnsafeArchiveError(f"{archive}: refusing member {name!r}: absolute path")
    if ".." in posix.parts:
        raise UnsafeArchiveError(f"{archive}: refusing member {name!r}: it would land outside the target")
    return posix


def _inside(path: Path, root: Path) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root + os.sep)


# -- tar ---------------------------------------------------------------------------------------

def check_tar_member(member: tarfile.TarInfo, staging: Path, archive: Path) -> None:
    """The checks of `tarfile.data_filter`, written out so they also run on older Pythons."""
    rel = check_member_name(member.name, archive)
    target = staging / rel
    if not _inside(target, staging):
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: it resolves outside the target")
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: device or FIFO")
    if member.issym() or member.islnk():
        link = member.linkname.replace("\\", "/")
        if os.path.isabs(link):
            raise UnsafeArchiveError(f"{archive}: refusing link {member.name!r} -> {link!r}: absolute target")
        base = target.parent if member.issym() else staging
        if not _inside(base / link, staging):
            raise UnsafeArchiveError(f"{archive}: refusing link {member.name!r} -> {link!r}: it points outside")


def _extract_tar(archive: Path, staging: Path) -> None:
    data_filter = getattr(tarfile, "data_filter", None)
    with tarfile.open(archive, "r:*") as tf:
        for member in tf:  # one pass: members are checked and written in stream order
            check_tar_member(member, staging, archive)
            if data_filter is not None:
                tf.extract(member, staging, filter="data")
            else:
                tf.extract(member, staging)


# -- zip ---------------------------------------------------------------------------------------

def _extract_zip(archive: Path, staging: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            check_member_name(info.filename, archive)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeArchiveError(f"{archive}: refusing member {info.filename!r}: symlink")
        for info in infos:
            zf.extract(info, staging)


# -- rar ---------------------------------------------------------------------------------------

def find_rar_tool(preferred: str | None = None, archive: Path | str = "a .rar archive") -> str:
    """The name of the RAR extractor to use; `preferred` (or $PACEKIT_RAR_TOOL) picks one."""
    preferred = preferred or os.environ.get("PACEKIT_RAR_TOOL") or None
    candidates = (preferred,) if preferred else RAR_TOOLS
    for tool in candidates:
        if tool not in RAR_TOOLS:
            raise ExtractionError(f"unknown RAR tool {tool!r}; choose one of {', '.join(RAR_TOOLS)}")
        if shutil.which(tool) and (tool != "unar" or shutil.which("lsar")):
            return tool
    raise ExtractionError(NO_RAR_TOOL.format(archive=archive))


def list_rar_members(archive: Path, tool: str) -> list[tuple[str, bool]]:
    """[(name, is_link)] of a rar archive: parsed by `rarfile` when installed, else by `tool`."""
    try:
        import rarfile
    except ImportError:
        rarfile = None
    if rarfile is not None:
        try:
            with rarfile.RarFile(archive) as rf:
                return [(i.filename, i.is_symlink() or bool(i.file_redir)) for i in rf.infolist()]
        except rarfile.Error as err:
            raise ExtractionError(
                f"{archive}: cannot read the archive ({err}). It may be damaged: delete it "
                "(and its .done file) and re-run to download it again."
            ) from err
    if tool == "unar":
        out = _run(["lsar", "-j", str(archive)], archive)
        entries = json.loads(out)["lsarContents"]
        return [(e["XADFileName"], bool(e.get("XADIsLink"))) for e in entries]
    if tool == "unrar":
        out = _run(["unrar", "lb", "-p-", str(archive)], archive)
    else:
        out = _run(["bsdtar", "-tf", str(archive)], archive)
    return [(line, False) for line in out.splitlines() if line]


def _run(cmd: list[str], archive: Path) -> str:
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        raise ExtractionError(
            f"{archive}: `{' '.join(cmd)}` failed (exit {result.returncode}): {result.stderr.strip()[-500:]}\n"
            "The archive may be damaged: delete it (and its .done file) and re-run to download it again."
        )
    return result.stdout


def _rar_extract_command(tool: str, archive: Path, staging: Path, names: list[str] = ()) -> list[str]:
    """The tool's command line; with `names` (as the archive lists them) only those members are extracted."""
    if tool == "unrar":
        return ["unrar", "x", "-y", "-o+", "-p-", "-idq", str(archive), *names, str(staging) + os.sep]
    if tool == "unar":  # -D: no extra containing folder; -f: overwrite
        return ["unar", "-q", "-f", "-D", "-o", str(staging), str(archive), *names]
    return ["bsdtar", "-x", "-f", str(archive), "-C", str(staging), *names]


def _extract_rar(archive: Path, staging: Path, tool: str | None = None, keep: Callable[[str], bool] | None = None) -> None:
    tool = find_rar_tool(tool, archive)
    chosen = []
    for name, is_link in list_rar_members(archive, tool):
        path = check_member_name(name, archive)
        if is_link:
            raise UnsafeArchiveError(f"{archive}: refusing member {name!r}: symbolic link")
        if keep is not None and keep(path.as_posix()):
            chosen.append((name, path))
    if keep is not None and not chosen:
        raise ExtractionError(f"{archive}: no member is one of those asked for; is it the right archive?")
    _run(_rar_extract_command(tool, archive, staging, [name for name, _ in chosen]), archive)
    for path in staging.rglob("*"):  # the tools follow their own rules; trust only what we see
        if path.is_symlink():
            raise UnsafeArchiveError(f"{archive}: refusing member {path.relative_to(staging)}: symbolic link")
        if keep is not None and path.is_file() and not keep(path.relative_to(staging).as_posix()):
            raise ExtractionError(f"{archive}: {tool} extracted {path.relative_to(staging)}, which was not asked for")
    absent = [path for _, path in chosen if not (staging / path).exists()]
    if absent:
        raise ExtractionError(f"{archive}: {tool} did not extract {len(absent)} of the {len(chosen)} members asked "
                              f"for (e.g. {absent[0]}); the archive may be damaged: delete it and re-run")


# -- all kinds ---------------------------------------------------------------------------------

def archive_kind(archive: Path) -> str:
    """'rar', 'zip' or 'tar', from the file's first bytes (names can lie)."""
    with open(archive, "rb") as f:
        head = f.read(8)
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if tarfile.is_tarfile(archive):
        return "tar"
    raise ExtractionError(f"{archive}: not a rar, zip or tar archive (first bytes {head!r})")


def extract(archive: Path, dest: Path, rar_tool: str | None = None,
            keep: Callable[[str], bool] | None = None) -> list[str]:
    """Unpack `archive` into `dest` safely; return the extracted files' paths relative to `dest`.

    The archive is unpacked into `dest/.staging-<name>` and moved into place only when every
    member passed the checks, so a refused or failed archive leaves `dest` as it was. `keep`
    (rar archives only) picks the members to extract by their relative POSIX path; every member
    is still checked.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    staging = dest / f".staging-{archive.name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        kind = archive_kind(archive)
        if kind == "rar":
            _extract_rar(archive, staging, rar_tool, keep)
        elif keep is not None:
            raise ExtractionError(f"{archive}: extracting some members only is supported for rar archives")
        elif kind == "zip":
            _extract_zip(archive, staging)
        else:
            _extract_tar(archive, staging)
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        for entry in list(staging.iterdir()):
            _merge_move(entry, dest / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files


def _merge_move(src: Path, dst: Path) -> None:
    """Move `src` to `dst`; folders are merged entry by entry, files replace older ones."""
    if src.is_dir() and dst.is_dir():
        for child in list(src.iterdir()):
            _merge_move(child, dst / child.name)
        src.rmdir()
    else:
        if dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        os.replace(src, dst)


# -- done-markers for extraction ---------------------------------------------------------------

def extracted_marker(archive: Path, part: str = "") -> Path:
    """The done-marker of `archive`'s extraction; `part` names a partial one (e.g. a subset's classes)."""
    return archive.with_name(archive.name + (f".{part}" if part else "") + ".extracted")


def is_extracted(archive: Path, dest: Path, part: str = "") -> bool:
    """True when `archive` (or its `part`) was extracted into `dest` and every file it gave is still there."""
    marker = extracted_marker(archive, part)
    if not marker.is_file():
        return False
    try:
        record = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    if record.get("dest") != os.path.relpath(dest, marker.parent):
        return False
    # A file that was itself an archive counts while its own .extracted marker is there
    # (HMDB51's inner rars, deleted after extraction with --delete-archives).
    return all(
        (Path(dest) / rel).is_file() or extracted_marker(Path(dest) / rel).is_file()
        for rel in record.get("files", [])
    )


def mark_extracted(archive: Path, dest: Path, files: list[str], part: str = "") -> None:
    marker = extracted_marker(archive, part)
    # dest is stored relative to the marker, so moving the whole dataset folder keeps it valid
    record = {"dest": os.path.relpath(dest, marker.parent), "files": files}
    marker.write_text(json.dumps(record) + "\n")

"""Resumable, verified HTTP downloads for the dataset scripts (stdlib urllib + tqdm).

One idea: `download(url, dest)` leaves a complete, verified file at `dest`, or raises.

- Resume: bytes go to `dest.part`; a retry or a re-run asks for the rest with an HTTP
  `Range: bytes=N-` header. A server that ignores Range (answers 200 with the whole body) is
  handled by starting the part file again from zero.
- Verify: the expected size when known, and MD5 / SHA-256 where published (or pinned by the user).
  A file that fails is deleted, never marked done. The computed SHA-256 is always printed, so a
  user can pin it next time.
- Retries with exponential backoff; the count starts again whenever bytes arrive.
- A done-marker `dest.done` (JSON: url, size, md5, sha256) makes a re-run do nothing, and say so.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

USER_AGENT = "Mozilla/5.0 (compatible; pacekit-data-scripts/0.1)"
CHUNK = 1 << 20  # 1 MiB


class DownloadError(RuntimeError):
    """The download could not be completed after all retries."""


class VerificationError(RuntimeError):
    """The downloaded file does not have the expected size or checksum (it has been deleted)."""


@dataclass(frozen=True)
class Expected:
    """What a downloaded file must match; None means "not published, not checked"."""

    size: int | None = None
    md5: str | None = None
    sha256: str | None = None


@dataclass
class Options:
    """How to download: retries, backoff, timeouts, TLS and progress display."""

    retries: int = 5  # attempts in a row without any progress before giving up
    backoff_s: float = 2.0  # wait backoff_s * 2**k seconds after the k-th failure in a row
    timeout_s: float = 60.0  # socket timeout of one request
    insecure: bool = False  # skip TLS certificate checks (size/checksum checks still run)
    progress: bool = True


def done_marker(dest: Path) -> Path:
    return dest.with_name(dest.name + ".done")


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def file_digests(path: Path) -> tuple[str, str]:
    """(md5, sha256) hex digests of a file, read once."""
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            md5.update(block)
            sha.update(block)
    return md5.hexdigest(), sha.hexdigest()


def is_downloaded(dest: Path, expected: Expected = Expected()) -> bool:
    """True when `dest` has a done-marker that still matches the file and `expected`."""
    marker = done_marker(dest)
    if not (dest.is_file() and marker.is_file()):
        return False
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    if info.get("size") != dest.stat().st_size:
        return False
    if expected.size is not None and expected.size != info.get("size"):
        return False
    if expected.md5 and expected.md5.lower() != info.get("md5"):
        return False
    if expected.sha256 and expected.sha256.lower() != info.get("sha256"):
        return False
    return True


def download(
    url: str,
    dest: Path,
    expected: Expected = Expected(),
    options: Options = Options(),
    log=print,
) -> Path:
    """Download `url` to `dest` (resuming `dest.part`), verify it, and write `dest.done`.

    Returns `dest`. Raises DownloadError when the server keeps failing, VerificationError when the
    finished file has the wrong size or checksum (the file is deleted so a re-run starts afresh).
    """
    dest = Path(dest)
    if is_downloaded(dest, expected):
        log(f"skip: {dest.name} is already downloaded and verified ({dest})")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    done_marker(dest).unlink(missing_ok=True)
    part = part_path(dest)
    if dest.is_file() and not part.exists():
        dest.rename(part)  # a finished but unverified file from an interrupted run: re-check it
    _fetch_to_part(url, part, expected, options, log)
    md5, sha = verify(part, expected, label=dest.name, source=url, log=log)
    part.replace(dest)
    record = {"url": url, "size": dest.stat().st_size, "md5": md5, "sha256": sha}
    done_marker(dest).write_text(json.dumps(record, indent=1) + "\n")
    return dest


def verify(path: Path, expected: Expected, label: str, source: str, log=print) -> tuple[str, str]:
    """Check `path` against `expected`; return its (md5, sha256). A mismatch deletes the file."""
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        path.unlink()
        raise VerificationError(
            f"{source}: got {size} bytes, expected {expected.size}; the file was deleted. "
            "Re-run to download it again."
        )
    md5, sha = file_digests(path)
    log(f"{label}: {size} bytes, sha256 {sha}")
    for kind, want, got in (("md5", expected.md5, md5), ("sha256", expected.sha256, sha)):
        if want and want.lower() != got:
            path.unlink()
            raise VerificationError(
                f"{source}: {kind} is {got}, expected {want.lower()}; the file was deleted. "
                "Re-run to download it again. If you trust this mirror's copy, pin its checksum "
                f"with --{kind} {label}={got}"
            )
    if not expected.md5 and not expected.sha256:
        log(f"  no published checksum for {label}; to pin this one next time: --sha256 {label}={sha}")
    return md5, sha


def _open(url: str, start: int, options: Options):
    headers = {"User-Agent": USER_AGENT}
    if start > 0:
        headers["Range"] = f"bytes={start}-"
    context = None
    if options.insecure:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=options.timeout_s, context=context)


_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)")
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError)


def _fetch_to_part(url: str, part: Path, expected: Expected, options: Options, log) -> None:
    """Fill `part` with the whole body of `url`, resuming and retrying as needed."""
    failures = 0
    while True:
        start = part.stat().st_size if part.exists() else 0
        if expected.size is not None and start == expected.size:
            return  # the part already holds every byte
        try:
            received, error = _fetch_once(url, part, start, expected, options, log)
        except urllib.error.HTTPError as err:
            if err.code == 416 and start > 0:
                # Range not satisfiable: the part is already complete, or it is longer than the
                # file (then start over).
                if _total_from_content_range(err.headers.get("Content-Range")) == start:
                    return
                log(f"{url}: server refused to resume at byte {start}; starting again")
                part.unlink()
                continue
            if err.code not in (408, 425, 429) and err.code < 500:
                raise DownloadError(f"{url}: HTTP {err.code} {err.reason}; check the URL or --mirror") from err
            received, error = 0, f"HTTP {err.code}"
        except _NETWORK_ERRORS as err:
            received, error = 0, f"{type(err).__name__}: {err}"
        if error is None:
            return
        failures = 1 if received > 0 else failures + 1  # progress resets the count
        if failures > options.retries:
            raise DownloadError(
                f"{url}: gave up after {options.retries} retries in a row ({error}). "
                f"The bytes so far are kept in {part}; re-run the script to resume."
            )
        wait = options.backoff_s * 2 ** (failures - 1)
        log(f"{url}: {error}; retry {failures}/{options.retries} in {wait:g} s")
        time.sleep(wait)


def _total_from_content_range(value: str | None) -> int | None:
    match = _CONTENT_RANGE.match(value or "")
    return int(match.group(2)) if match and match.group(2) != "*" else None


def _fetch_once(url: str, part: Path, start: int, expected: Expected, options: Options, log):
    """One request, appending to `part` from byte `start`.

    Returns (bytes received, None) when the body arrived in full, or (bytes received, reason)
    when the connection broke off first (what arrived is kept for the next attempt).
    """
    with _open(url, start, options) as response:
        if start > 0 and response.status == 200:
            log(f"{url}: server ignored the Range request; downloading from the start")
            start = 0
        elif response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or match.group(1) is None or int(match.group(1)) != start:
                raise http.client.HTTPException(
                    f"answered bytes {response.headers.get('Content-Range')!r} to a request from byte {start}"
                )
        length = response.headers.get("Content-Length")
        remaining = int(length) if length is not None else None
        total = start + remaining if remaining is not None else expected.size
        received, error = 0, None
        with open(part, "ab" if start > 0 else "wb") as f, tqdm(
            total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
            desc=part.name.removesuffix(".part"), disable=not options.progress, leave=False,
        ) as bar:
            try:
                while block := response.read(CHUNK):
                    f.write(block)
                    received += len(block)
                    bar.update(len(block))
            except _NETWORK_ERRORS as err:
                error = f"{type(err).__name__}: {err}"
    if error is None and remaining is not None and received < remaining:
        error = f"connection closed after {start + received} of {total} bytes"
    return received, error

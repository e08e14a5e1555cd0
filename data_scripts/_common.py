"""What the three dataset scripts share: command-line options, mirrors, download+extract steps,
and the optional re-encode and `pacekit prepare` steps that follow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from _extract import ExtractionError, UnsafeArchiveError, extract, is_extracted, mark_extracted
from _fetch import DownloadError, Expected, Options, VerificationError, done_marker, download
from _reencode import reencode_tree


def build_parser(description: str, default_mirror: str, rar: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="dataset root to create (pass it to pacekit as --root)")
    p.add_argument("--mirror", default=default_mirror,
                   help="base URL that replaces the official one (scheme, host and folder)")
    p.add_argument("--downloads", type=Path, default=None,
                   help="where archives and their .done/.extracted markers go (default: OUT/downloads)")
    p.add_argument("--sha256", action="append", default=[], metavar="FILE=HEX",
                   help="pin the SHA-256 of a downloaded file, e.g. --sha256 UCF101.rar=<hex>; repeatable")
    p.add_argument("--md5", action="append", default=[], metavar="FILE=HEX", help="pin an MD5 the same way")
    p.add_argument("--retries", type=int, default=5, help="retries in a row without progress before giving up")
    p.add_argument("--retry-wait", type=float, default=2.0,
                   help="seconds before the first retry; doubles after each failure in a row")
    p.add_argument("--timeout", type=float, default=60.0, help="network timeout of one request, in seconds")
    p.add_argument("--insecure", action="store_true",
                   help="do not check TLS certificates (for a mirror with a broken certificate; "
                        "size and checksum checks still run)")
    if rar:
        p.add_argument("--rar-tool", choices=("unrar", "unar", "bsdtar"), default=None,
                       help="RAR extractor to use (default: the first found of unrar, unar, bsdtar)")
    p.add_argument("--delete-archives", action="store_true",
                   help="delete each archive once it is extracted (its .extracted marker stays, so a "
                        "re-run still skips it)")
    p.add_argument("--reencode", action="store_true",
                   help="also write a copy with every video re-encoded to a short side of --short-side "
                        "pixels (PyAV; no system ffmpeg needed)")
    p.add_argument("--reencode-out", type=Path, default=None, help="where the re-encoded copy goes (default: OUT_s128)")
    p.add_argument("--short-side", type=int, default=128, help="short side of re-encoded videos, in pixels")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel re-encode processes")
    p.add_argument("--prepare", action="store_true",
                   help="then run `pacekit prepare` on the result (the re-encoded copy with --reencode)")
    p.add_argument("--prepared-out", type=Path, default=None, help="output of pacekit prepare (default: OUT_prepared)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def parse_pins(pairs: list[str], kind: str) -> dict[str, str]:
    """{"UCF101.rar": "ab12..."} from ["UCF101.rar=ab12..."]; a bad entry names what is expected."""
    pins = {}
    digits = {"md5": 32, "sha256": 64}[kind]
    for pair in pairs:
        name, sep, hexdigest = pair.partition("=")
        hexdigest = hexdigest.strip().lower()
        if not sep or not name or len(hexdigest) != digits or any(c not in "0123456789abcdef" for c in hexdigest):
            raise SystemExit(f"--{kind} {pair!r}: expected FILE={'<' + str(digits) + ' hex digits>'}, "
                             f"e.g. --{kind} UCF101.rar={'0' * digits}")
        pins[name] = hexdigest
    return pins


def join_url(mirror: str, relative: str) -> str:
    return mirror.rstrip("/") + "/" + relative.lstrip("/")


def rewrite_url(url: str, default_mirror: str, mirror: str) -> str:
    """`url` with the official base replaced by `mirror` (URLs elsewhere are left as they are)."""
    base = default_mirror.rstrip("/") + "/"
    if url.startswith(base):
        return join_url(mirror, url[len(base):])
    return url


@dataclass
class Run:
    """One script's settings, built from its parsed arguments."""

    out: Path
    downloads: Path
    mirror: str
    options: Options
    sha256: dict[str, str]
    md5: dict[str, str]
    rar_tool: str | None
    delete_archives: bool
    log: object = print

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Run":
        out = args.out.expanduser().resolve()
        return cls(
            out=out,
            downloads=(args.downloads.expanduser().resolve() if args.downloads else out / "downloads"),
            mirror=args.mirror,
            options=Options(retries=args.retries, backoff_s=args.retry_wait, timeout_s=args.timeout,
                            insecure=args.insecure, progress=not args.quiet),
            sha256=parse_pins(args.sha256, "sha256"),
            md5=parse_pins(args.md5, "md5"),
            rar_tool=getattr(args, "rar_tool", None),
            delete_archives=args.delete_archives,
        )

    def expected(self, name: str, published: Expected = Expected()) -> Expected:
        """Published size/checksums for `name`; a checksum the user pins replaces all of them."""
        if name in self.md5 or name in self.sha256:
            return Expected(md5=self.md5.get(name), sha256=self.sha256.get(name))
        return published

    def fetch(self, url: str, name: str, published: Expected = Expected()) -> Path:
        return download(url, self.downloads / name, self.expected(name, published), self.options, self.log)

    def fetch_and_extract(self, url: str, name: str, dest: Path, published: Expected = Expected(),
                          keep=None, part: str = "") -> list[str]:
        """Download `url` as downloads/`name` and extract it into `dest`, unless already done.

        `keep` and `part`: extract only the members `keep` accepts, marked done as `part` (see `extract_local`).
        """
        archive = self.downloads / name
        if is_extracted(archive, dest, part):
            self.log(f"skip: {name} is already extracted into {dest}")
            return []
        self.fetch(url, name, published)
        return self.extract_local(archive, dest, keep, part)

    def extract_local(self, archive: Path, dest: Path, keep=None, part: str = "") -> list[str]:
        """Extract an archive already on disk into `dest` and mark it done.

        With `keep` (a predicate on member paths) only those members are extracted, and the done-marker
        is named for `part`, so a later run for the whole archive does not take the part for the whole.
        """
        if is_extracted(archive, dest, part):
            self.log(f"skip: {archive.name} is already extracted into {dest}")
            return []
        self.log(f"extracting {archive.name}{f' ({part})' if part else ''} into {dest}")
        files = extract(archive, dest, self.rar_tool, keep)
        mark_extracted(archive, dest, files, part)
        if self.delete_archives:
            archive.unlink(missing_ok=True)
            done_marker(archive).unlink(missing_ok=True)
        return files


def prepare_command(root: Path, out: Path) -> list[str]:
    """The `pacekit prepare` call, run with this same Python so the same pacekit is used."""
    return [sys.executable, "-m", "pacekit.cli", "prepare", "--root", str(root), "--out", str(out)]


def finish(args: argparse.Namespace, run: Run, dataset: str) -> int:
    """The optional steps after extraction: re-encode, then prepare; then say what to run next."""
    root = run.out
    if args.reencode:
        dst = args.reencode_out or run.out.with_name(f"{run.out.name}_s{args.short_side}")
        reencode_tree(run.out, dst, short_side=args.short_side, jobs=args.jobs,
                      progress=not args.quiet, log=run.log)
        root = dst
    if args.prepare:
        prepared = args.prepared_out or run.out.with_name(f"{run.out.name}_prepared")
        cmd = prepare_command(root, prepared)
        run.log("running: " + " ".join(cmd))
        result = subprocess.run(cmd)
        if result.returncode != 0:
            run.log(f"pacekit prepare failed (exit {result.returncode}); the extracted data in {root} is fine, "
                    "fix the error above and run the command again")
            return result.returncode
        root = prepared
    run.log(f"done. Check the result with:  pacekit info --dataset {dataset} --root {root}")
    return 0


def run_cli(main) -> int:
    """Run a script's main(); the failures it explains itself end with their message, no traceback."""
    try:
        return main()
    except (DownloadError, VerificationError, UnsafeArchiveError, ExtractionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume", file=sys.stderr)
        return 130

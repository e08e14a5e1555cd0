"""Parsers for the official split files of UCF101, HMDB51 and Kinetics-400, and for class folders.

Each parser returns a :class:`SplitIndex`: the class names (label order) and one :class:`VideoRecord`
per video of the subset asked for. They accept the files exactly as the datasets ship them (CRLF line
ends, trailing spaces, a class named ``HandstandPushups`` whose videos are ``v_HandStandPushups_*``).

Expected layouts (``root`` is what the user passes as ``--root``):

- UCF101: ``root/ucfTrainTestlist/{classInd.txt, trainlist0N.txt, testlist0N.txt}`` and videos under
  ``root/UCF-101/<Class>/v_*.avi`` (or directly ``root/<Class>/``).
- HMDB51: ``root/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt`` and videos under
  ``root/videos/<class>/`` (or ``root/hmdb51_org/<class>/`` or ``root/<class>/``).
- Kinetics-400: ``root/annotations/<subset>.csv`` (``label,youtube_id,time_start,time_end,split``) and
  videos named ``<youtube_id>_<start:06d>_<end:06d>.mp4`` under ``root/<subset>/<label>/`` or flat in
  ``root/<subset>/``. Missing videos are counted and reported, not fatal.
- folder: ``root/<subset>/<class>/<video>`` or, with no subset folders, ``root/<class>/<video>``.

A video may also be present in pacekit's prepared form (``<name>.jpack``) or as a frame folder
(``<name>/frame000001.jpg``): :func:`resolve_video` finds whichever exists.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Optional

from ..errors import PacekitError
from .readers import FRAME_PACK_SUFFIX, VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoRecord:
    """One video of a split: where it is, its 0-based action label, and its id within the dataset."""

    path: Path
    label: int
    name: str


@dataclass
class SplitIndex:
    """The classes (label order) and videos of one subset, with what the split listed but was left out."""

    classes: list[str]
    records: list[VideoRecord]
    missing: list[str] = field(default_factory=list)  # ids listed by the split but absent on disk
    duplicates: list[str] = field(default_factory=list)  # ids listed again in the subset; repeats left out


class SplitError(PacekitError, FileNotFoundError):
    """A split file, a dataset root or a listed video is missing or malformed. Says what was expected."""


# A file whose labels nearly all disagree with their class folders by one constant is one mistake (a
# 0-based list, another classInd.txt), not thousands: one error says so instead of naming line 1.
OFFSET_SHARE = 0.9

_INT = re.compile(r"[+-]?[0-9]+")
_SEPARATORS = re.compile(r"[/\\]")
_DRIVE = re.compile(r"[A-Za-z]:")  # 'C:\\videos\\a.avi' in a list written on Windows


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of ``path``, stripped, with their 1-based line numbers (CRLF, CR or LF ends)."""
    if not path.is_file():
        raise SplitError(f"split file not found: {path}")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    # Not str.splitlines(): it also breaks at form feeds and U+2028, which would shift the line numbers
    # the errors quote away from what an editor shows.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [(number, line.strip()) for number, line in enumerate(lines, start=1) if line.strip()]


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise SplitError(f"{what} not found: {path}")
    return path


def _escape_reason(rel: str) -> Optional[str]:
    """Why the listed path ``rel`` would point outside the folder it is joined to, or None."""
    if rel.startswith(("/", "\\")) or _DRIVE.match(rel):
        return "an absolute path"
    if ".." in _SEPARATORS.split(rel):
        return "a path that climbs out with '..'"
    return None


class _Listed(NamedTuple):
    """Where a line came from, for error messages."""

    file: Path
    number: int
    line: str

    def error(self, problem: str) -> SplitError:
        return SplitError(f"{self.file} line {self.number}: {problem} (the line reads {self.line!r})")

    def malformed(self, expected: str) -> SplitError:
        return SplitError(f"{self.file} line {self.number}: expected {expected}, got {self.line!r}")


class _Collector:
    """Turns found videos into records: refuses any outside ``videos_dir``, drops and records repeats."""

    def __init__(self, videos_dir: Path):
        self.videos_dir = videos_dir
        self.base = videos_dir.resolve()
        self.records: list[VideoRecord] = []
        self.duplicates: list[str] = []
        self._first: dict[str, _Listed] = {}
        self._repeats: list[tuple[_Listed, _Listed, str]] = []
        self._parents: dict[str, bool] = {}  # folder -> whether it resolves inside the dataset

    def check_relative(self, where: _Listed, rel: str, example: str) -> None:
        why = _escape_reason(rel)
        if why:
            raise where.error(f"{rel!r} is {why}: expected a path relative to {self.videos_dir} such as "
                              f"{example!r}; the dataset's videos must stay inside it")

    def is_repeat(self, key: str, where: _Listed, name: str) -> bool:
        """Whether ``key`` was seen before; a repeat is recorded in ``duplicates`` under ``name``."""
        if key not in self._first:
            self._first[key] = where
            return False
        self.duplicates.append(name)
        self._repeats.append((where, self._first[key], name))
        return True

    def add(self, where: _Listed, path: Path, label: int, name: str) -> None:
        """Record the video found at ``path`` unless it is a repeat of ``name`` (ignoring case, as videos
        are found ignoring case: HandStand/Handstand)."""
        if not self.is_repeat(name.lower(), where, name):
            self.keep(where, path, label, name)

    def keep(self, where: _Listed, path: Path, label: int, name: str) -> None:
        """Record the video found at ``path``, or raise if it lies outside the dataset."""
        if not self._inside(path):
            raise where.error(
                f"{name!r} resolves to {path.resolve()}, outside the dataset's video folder {self.base}: "
                "expected the video itself under that folder, not a symlink leading out of the dataset"
            )
        self.records.append(VideoRecord(path, label, name))

    def _inside(self, path: Path) -> bool:
        # Resolving each of Kinetics' 240k paths is slow: each folder is resolved once, and a video
        # itself only when it is a symlink.
        text = str(path)
        if os.path.islink(text):
            return path.resolve().is_relative_to(self.base)
        folder = os.path.dirname(text)
        inside = self._parents.get(folder)
        if inside is None:
            inside = self._parents[folder] = Path(folder).resolve().is_relative_to(self.base)
        return inside

    def index(self, classes: list[str], missing: Optional[list[str]] = None) -> SplitIndex:
        if self._repeats:
            where, first, name = self._repeats[0]
            warnings.warn(
                f"{len(self._repeats)} videos are listed more than once (e.g. {name!r}: {where.file.name} line "
                f"{where.number} repeats {first.file.name} line {first.number}); each is kept once",
                stacklevel=3,
            )
        return SplitIndex(classes, self.records, missing or [], self.duplicates)


def resolve_video(videos_dir: Path, rel: str) -> Optional[Path]:
    """The file (or frame folder) for ``rel`` under ``videos_dir``: original, ``.jpack`` or frame folder."""
    original = videos_dir / rel
    if original.is_file():
        return original
    stem = original.with_suffix("") if original.suffix.lower() in VIDEO_SUFFIXES else original
    pack = stem.with_name(stem.name + FRAME_PACK_SUFFIX)
    if pack.is_file():
        return pack
    if stem.is_dir():
        return stem
    return _case_insensitive_match(original, pack, stem)


def _case_insensitive_match(*candidates: Path) -> Optional[Path]:
    """Match names ignoring case: UCF101 lists ``v_HandStandPushups_*`` while some copies (the authors'
    frame folders among them) spell it ``v_HandstandPushups_*``."""
    parent = candidates[0].parent
    if not parent.is_dir():
        return None
    wanted = {c.name.lower(): c for c in candidates}
    for entry in parent.iterdir():
        if entry.name.lower() in wanted:
            return entry
    return None


def _first_dir(candidates: list[Path]) -> Optional[Path]:
    return next((c for c in candidates if c.is_dir()), None)


# ---------------------------------------------------------------------------------------------- UCF101


def ucf101_dirs(root) -> tuple[Path, Path]:
    """(splits_dir, videos_dir) of a UCF101-layout root."""
    root = _require_dir(Path(root), "dataset root")
    splits_dir = root / "ucfTrainTestlist" if (root / "ucfTrainTestlist").is_dir() else root
    if not (splits_dir / "classInd.txt").is_file():
        raise SplitError(
            f"UCF101 split files not found: expected {root / 'ucfTrainTestlist' / 'classInd.txt'} "
            "(from UCF101TrainTestSplits-RecognitionTask.zip; data_scripts/get_ucf101.py fetches it)"
        )
    videos_dir = _first_dir([root / "UCF-101", root / "videos"]) or root
    return splits_dir, videos_dir


def _read_class_ind(path: Path) -> list[str]:
    """The class names of ``classInd.txt`` (lines ``<n> <name>``, n = 1, 2, 3, ...), in label order."""
    classes: list[str] = []
    seen: dict[str, int] = {}
    for number, line in _read_lines(path):
        where = _Listed(path, number, line)
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _INT.fullmatch(parts[0]):
            raise where.malformed("'<number> <ClassName>' such as '1 ApplyEyeMakeup'")
        if int(parts[0]) != len(classes) + 1:
            raise where.error(f"expected class number {len(classes) + 1}: classes are numbered 1, 2, 3, ... "
                              "in order, one per line")
        name = parts[1].strip()
        if name.lower() in seen:  # class folders are matched ignoring case, so these would collide
            raise where.error(f"class {name!r} is already listed on line {seen[name.lower()]}: expected each "
                              "class once")
        seen[name.lower()] = number
        classes.append(name)
    if not classes:
        raise SplitError(f"{path} lists no classes: expected lines '<number> <ClassName>' such as "
                         "'1 ApplyEyeMakeup'")
    return classes


class _UcfLine(NamedTuple):
    where: _Listed
    rel: str
    given: Optional[int]  # the 1-based label written on the line, if any
    folder_label: int  # 0-based label of the class folder


def _check_ucf_labels(entries: list[_UcfLine], classes: list[str], list_file: Path, class_ind: Path) -> None:
    """Raise on labels out of range or disagreeing with their class folders, a constant offset first."""
    labeled = [e for e in entries if e.given is not None]
    wrong = [e for e in labeled if e.given != e.folder_label + 1]
    if not wrong:
        return
    offset, count = Counter(e.given - (e.folder_label + 1) for e in wrong).most_common(1)[0]
    if count >= 2 and count >= OFFSET_SHARE * len(labeled):
        e = next(e for e in wrong if e.given - (e.folder_label + 1) == offset)
        fix = ("the file is 0-based? UCF101 lists number classes from 1 as classInd.txt does: add 1 to every "
               "label or use the official file" if offset == -1 else
               f"was it written for another classInd.txt? expected the numbers of {class_ind}")
        raise SplitError(
            f"labels of {list_file} are {'all' if count == len(labeled) else 'nearly all'} off by {offset:+d} "
            f"from their class folders ({count} of {len(labeled)} lines; e.g. line {e.where.number} "
            f"{e.where.line!r}, where {classes[e.folder_label]} is {e.folder_label + 1} in classInd.txt): {fix}"
        )
    e = wrong[0]
    folder = classes[e.folder_label]
    more = f"; {len(wrong) - 1} more lines disagree" if len(wrong) > 1 else ""
    if not 1 <= e.given <= len(classes):
        raise e.where.error(f"label {e.given} is out of range: expected 1-{len(classes)} (the numbers of "
                            f"{class_ind}); class folder {folder!r} is {e.folder_label + 1}{more}")
    raise e.where.error(
        f"label {e.given} disagrees with the class folder {folder!r}, which is {e.folder_label + 1} in "
        f"{class_ind}: expected '{e.rel} {e.folder_label + 1}'; fix the label or the path{more}"
    )


def read_ucf101(root, subset: str = "train", split: int = 1) -> SplitIndex:
    """UCF101 (and pacekit's synthetic set, which uses the same layout).

    ``classInd.txt`` is 1-based; ``trainlist0N.txt`` lines carry the 1-based label, ``testlist0N.txt``
    lines do not, so their label comes from the class folder (matched case-insensitively). A label that is
    written must equal its folder's. A listed video that is absent on disk is an error naming it.
    """
    if subset not in ("train", "test"):
        raise ValueError(f"UCF101 subset must be 'train' or 'test', got {subset!r}")
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 split must be 1, 2 or 3, got {split!r}")
    splits_dir, videos_dir = ucf101_dirs(root)
    class_ind = splits_dir / "classInd.txt"
    classes = _read_class_ind(class_ind)
    by_name = {c.lower(): i for i, c in enumerate(classes)}
    list_file = splits_dir / f"{subset}list0{split}.txt"
    form = f"'<Class>/<video>.avi <label 1-{len(classes)}>'" if subset == "train" else "'<Class>/<video>.avi'"
    example = f"{classes[0]}/v_{classes[0]}_g01_c01.avi"
    collect = _Collector(videos_dir)
    entries = []
    for number, line in _read_lines(list_file):
        where = _Listed(list_file, number, line)
        parts = line.split()
        if len(parts) > 2 or (len(parts) == 2 and not _INT.fullmatch(parts[1])):
            raise where.malformed(form)
        rel = parts[0]
        collect.check_relative(where, rel, example)
        folder, _, video = rel.partition("/")
        if not folder or not video or "/" in video:
            raise where.malformed(form)
        if folder.lower() not in by_name:
            raise where.error(f"class folder {folder!r} of {rel!r} is not in {class_ind}: expected one of its "
                              f"{len(classes)} class names")
        given = int(parts[1]) if len(parts) == 2 else None
        entries.append(_UcfLine(where, rel, given, by_name[folder.lower()]))
    _check_ucf_labels(entries, classes, list_file, class_ind)
    for e in entries:
        path = resolve_video(videos_dir, e.rel)
        if path is None:
            raise SplitError(
                f"video listed in {list_file.name} line {e.where.number} not found: {videos_dir / e.rel} "
                f"(expected UCF101 videos under {videos_dir}/<Class>/)"
            )
        collect.add(e.where, path, e.folder_label, e.rel)
    return collect.index(classes)


# ---------------------------------------------------------------------------------------------- HMDB51

HMDB51_IDS = {"train": "1", "test": "2", "unused": "0"}


def read_hmdb51(root, subset: str = "train", split: int = 1) -> SplitIndex:
    """HMDB51 from the 153 official ``<class>_test_split{1,2,3}.txt`` files.

    Lines are ``name.avi <id> `` (trailing space): id 1 = train, 2 = test, 0 = unused. Classes are the
    51 names in alphabetical order (labels 0..50). A video listed twice in one file with different ids is
    an error (it would be both trained and tested on).
    """
    if subset not in HMDB51_IDS:
        raise ValueError(f"HMDB51 subset must be one of {sorted(HMDB51_IDS)}, got {subset!r}")
    if split not in (1, 2, 3):
        raise ValueError(f"HMDB51 split must be 1, 2 or 3, got {split!r}")
    root = _require_dir(Path(root), "dataset root")
    splits_dir = _first_dir([root / "testTrainMulti_7030_splits", root / "splits"])
    if splits_dir is None:
        raise SplitError(
            f"HMDB51 split files not found: expected {root / 'testTrainMulti_7030_splits'}/ "
            "(from test_train_splits.rar; data_scripts/get_hmdb51.py fetches it)"
        )
    suffix = f"_test_split{split}.txt"
    by_class = {f.name[: -len(suffix)]: f for f in splits_dir.glob(f"*{suffix}")}
    if not by_class:
        raise SplitError(f"no HMDB51 split files '*{suffix}' in {splits_dir}")
    for name, file in by_class.items():
        if not name or name.startswith(".") or _escape_reason(name):
            raise SplitError(f"{file}: expected a file named '<class>{suffix}' with a class name such as "
                             f"'wave{suffix}'; rename or remove it")
    classes = sorted(by_class)  # by class name: "climb" before "climb_stairs"
    videos_dir = _first_dir([root / "videos", root / "hmdb51_org"]) or root
    wanted = HMDB51_IDS[subset]
    form = "'<video>.avi <id>' with id 0 (unused), 1 (train) or 2 (test)"
    collect = _Collector(videos_dir)
    for label, name in enumerate(classes):
        file = by_class[name]
        ids: dict[str, tuple[int, str]] = {}  # video -> (line number, id) of its first line
        for number, line in _read_lines(file):
            where = _Listed(file, number, line)
            parts = line.split()
            if len(parts) != 2 or parts[1] not in HMDB51_IDS.values():
                raise where.malformed(form)
            video, flag = parts
            collect.check_relative(where, video, f"{name}_1.avi")
            if "/" in video or "\\" in video or video == ".":
                raise where.malformed(form + f": a file name inside {videos_dir / name}/, with no folder")
            if video in ids and ids[video][1] != flag:
                first, first_flag = ids[video]
                raise where.error(f"{video!r} has id {flag} here but {first_flag} on line {first}: expected one "
                                  "id per video and split; remove one of the lines")
            ids.setdefault(video, (number, flag))
            if flag != wanted:
                continue
            rel = f"{name}/{video}"
            path = resolve_video(videos_dir, rel)
            if path is None:
                raise SplitError(
                    f"video listed in {file.name} line {number} not found: {videos_dir / rel} "
                    f"(expected HMDB51 videos under {videos_dir}/<class>/)"
                )
            collect.add(where, path, label, rel)
    return collect.index(classes)


# --------------------------------------------------------------------------------------- Kinetics-400

KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")


def kinetics_filename(youtube_id: str, time_start, time_end) -> str:
    """``<youtube_id>_<start:06d>_<end:06d>.mp4``, the name the public K400 mirrors use."""
    return f"{youtube_id}_{int(float(time_start)):06d}_{int(float(time_end)):06d}.mp4"


def _kinetics_csv(root: Path, subset: str) -> Optional[Path]:
    return next((p for p in (root / "annotations" / f"{subset}.csv", root / f"{subset}.csv") if p.is_file()),
                None)


class _KineticsRow(NamedTuple):
    where: _Listed
    label: str  # "" when the CSV has no label column (the test set)
    name: str  # the video's file name, see kinetics_filename


def _read_kinetics_rows(csv_path: Path) -> tuple[list[_KineticsRow], bool]:
    """The rows of a Kinetics CSV, checked, and whether it has a label column."""
    expected = ",".join(KINETICS_COLUMNS)
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            if not {"youtube_id", "time_start", "time_end"} <= set(header):
                raise SplitError(f"{csv_path} line 1: expected the columns {expected}, got {','.join(header)!r}")
            reader.fieldnames = header
            has_labels = "label" in header
            rows = []
            for row in reader:
                given = [v for k, v in row.items() if k is not None and v is not None] + row.get(None, [])
                where = _Listed(csv_path, reader.line_num, ",".join(given))
                if len(given) != len(header):  # DictReader pads short rows with None, keeps extras under None
                    raise where.malformed(f"{len(header)} fields ({','.join(header)})")
                row = {k: v.strip() for k, v in row.items()}
                rows.append(_check_kinetics_row(where, row, has_labels))
    except UnicodeDecodeError as exc:
        raise SplitError(f"{csv_path} is not UTF-8 text ({exc}): expected the official CSV") from None
    except csv.Error as exc:
        raise SplitError(f"{csv_path}: not a readable CSV ({exc}): expected the columns {expected}") from None
    return rows, has_labels


def _check_kinetics_row(where: _Listed, row: dict, has_labels: bool) -> _KineticsRow:
    label = row["label"] if has_labels else ""
    for column in (["label"] if has_labels else []) + ["youtube_id", "time_start", "time_end"]:
        if not row[column]:
            raise where.error(f"the {column} field is empty: expected a value in each of "
                              f"{','.join(KINETICS_COLUMNS)}")
    youtube_id = row["youtube_id"]
    # Both are joined into the video's path, so neither may name a folder outside the subset's.
    for column, value in (("label", label), ("youtube_id", youtube_id)):
        if "/" in value or "\\" in value or value in (".", ".."):
            raise where.error(f"{column} {value!r} contains a path separator or is '.'/'..': expected a plain "
                              f"{'class name' if column == 'label' else 'YouTube id'}")
    try:
        name = kinetics_filename(youtube_id, row["time_start"], row["time_end"])
    except (ValueError, OverflowError):
        raise where.error(f"time_start {row['time_start']!r} / time_end {row['time_end']!r}: expected whole "
                          "seconds such as '14' and '24'") from None
    return _KineticsRow(where, label, name)


def read_kinetics400(root, subset: str = "train", classes: Optional[list[str]] = None) -> SplitIndex:
    """Kinetics-400 from its official CSV; videos missing on disk are listed in ``missing``, not fatal.

    Labels are the sorted class names of the subset's CSV (400 for train/val), unless ``classes`` is
    given (pass the train classes when reading val so labels agree); a label outside ``classes`` is an
    error naming its row.
    """
    root = _require_dir(Path(root), "dataset root")
    csv_path = _kinetics_csv(root, subset)
    if csv_path is None:
        raise SplitError(
            f"Kinetics-400 annotation file not found: expected {root / 'annotations' / f'{subset}.csv'} "
            "(columns label,youtube_id,time_start,time_end,split; data_scripts/get_kinetics400.py fetches it)"
        )
    rows, has_labels = _read_kinetics_rows(csv_path)
    if classes is None:
        classes = sorted({r.label for r in rows}) if has_labels else []
    by_name = {c: i for i, c in enumerate(classes)}
    videos_dir = root / subset if (root / subset).is_dir() else root / "videos" / subset
    collect = _Collector(videos_dir)
    missing = []
    for row in rows:
        if has_labels and row.label not in by_name:
            raise row.where.error(f"label {row.label!r} is not among the {len(classes)} classes given: expected "
                                  "a class of the train CSV (is this CSV from another Kinetics version?)")
        # Checked before the disk lookup, so a repeated missing video is missing once. Case matters here:
        # YouTube ids 'aBc' and 'abc' are different videos.
        if collect.is_repeat(row.name, row.where, row.name):
            continue
        path = None
        nested = (f"{row.label}/{row.name}", f"{row.label.replace(' ', '_')}/{row.name}") if row.label else ()
        for rel in nested + (row.name,):
            path = resolve_video(videos_dir, rel)
            if path is not None:
                break
        if path is None:
            missing.append(row.name)
            continue
        collect.keep(row.where, path, by_name.get(row.label, -1), row.name)
    return collect.index(classes, missing)


# --------------------------------------------------------------------------------------------- folder

SUBSET_FOLDERS = ("train", "val", "test")


def read_folder(root, subset: Optional[str] = "train") -> SplitIndex:
    """A generic dataset: one sub-folder per class, videos (or frame packs, or frame folders) inside.

    With ``root/<subset>/`` present the subset folder is used; with no subset folders at all, ``root``
    itself. One video present in several forms (``a.avi``, ``a.jpack``, ``a/``) counts once, in the form
    :func:`resolve_video` would pick; the others are recorded in ``duplicates``.
    """
    root = _require_dir(Path(root), "dataset root")
    if subset and (root / subset).is_dir():
        base = root / subset
    else:
        others = [s for s in SUBSET_FOLDERS if (root / s).is_dir()]
        if subset and others:  # otherwise the other subset's folder would be read as a class
            raise SplitError(f"no {subset}/ folder in {root} (it has {', '.join(o + '/' for o in others)}): "
                             f"expected {root / subset}/<class>/<video>")
        base = root
    classes = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise SplitError(f"no class folders in {base}: expected {base}/<class>/<video>")
    # No containment check here: nothing is listed, the folders are the listing, and a class folder
    # symlinked from elsewhere is a deliberate way to build such a dataset.
    records, duplicates = [], []
    for label, name in enumerate(classes):
        by_video: dict[str, list[tuple[int, Path]]] = {}
        for item in sorted((base / name).iterdir()):
            suffix = item.suffix.lower()
            if item.is_file() and suffix in VIDEO_SUFFIXES:
                rank, stem = 0, item.stem
            elif item.is_file() and suffix == FRAME_PACK_SUFFIX:
                rank, stem = 1, item.stem
            elif item.is_dir() and any(item.glob("*.jpg")):
                rank, stem = 2, item.name
            else:
                continue
            by_video.setdefault(stem, []).append((rank, item))
        kept = []
        for forms in by_video.values():
            forms.sort(key=lambda form: form[0])  # stable: name order within a rank
            kept.append(forms[0][1])
            duplicates.extend(f"{name}/{item.name}" for _, item in forms[1:])
        records.extend(VideoRecord(item, label, f"{name}/{item.name}") for item in sorted(kept))
    return SplitIndex(classes, records, [], duplicates)


DATASETS = ("ucf101", "hmdb51", "kinetics400", "synthetic", "folder")


def read_split(dataset: str, root, subset: str = "train", split: int = 1) -> SplitIndex:
    """Dispatch to the parser for ``dataset`` (one of :data:`DATASETS`)."""
    if dataset in ("ucf101", "synthetic"):
        return read_ucf101(root, subset, split)
    if dataset == "hmdb51":
        return read_hmdb51(root, subset, split)
    if dataset == "kinetics400":
        classes = None
        if subset != "train" and Path(root).is_dir() and _kinetics_csv(Path(root), "train") is not None:
            classes = read_kinetics400_classes(root)
        return read_kinetics400(root, "val" if subset == "test" else subset, classes)
    if dataset == "folder":
        return read_folder(root, subset)
    raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")


def read_kinetics400_classes(root) -> list[str]:
    """The sorted class names of the Kinetics-400 train CSV: the label order of every subset."""
    root = Path(root)
    csv_path = _kinetics_csv(root, "train")
    if csv_path is None:
        raise SplitError(f"Kinetics-400 annotation file not found: expected {root / 'annotations' / 'train.csv'}")
    rows, has_labels = _read_kinetics_rows(csv_path)
    if not has_labels:
        raise SplitError(f"{csv_path} has no label column: expected the columns {','.join(KINETICS_COLUMNS)}")
    return sorted({r.label for r in rows})

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .readers import FRAME_PACK_SUFFIX, VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoRecord:
    """One video of a split: where it is, its 0-based action label, and its id within the dataset."""

    path: Path
    label: int
    name: str


@dataclass
class SplitIndex:
    classes: list[str]
    records: list[VideoRecord]
    missing: list[str] = field(default_factory=list)  # ids listed by the split but absent on disk


class SplitError(FileNotFoundError):
    """A split file, a dataset root or a listed video is missing or malformed. Says what was expected."""


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise SplitError(f"split file not found: {path}")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise SplitError(f"{what} not found: {path}")
    return path


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


def read_ucf101(root, subset: str = "train", split: int = 1) -> SplitIndex:
    """UCF101 (and pacekit's synthetic set, which uses the same layout).

    ``classInd.txt`` is 1-based; ``trainlist0N.txt`` lines carry the 1-based label, ``testlist0N.txt``
    lines do not, so their label comes from the class folder (matched case-insensitively as a guard).
    A listed video that is absent on disk is an error naming it.
    """
    if subset not in ("train", "test"):
        raise ValueError(f"UCF101 subset must be 'train' or 'test', got {subset!r}")
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 split must be 1, 2 or 3, got {split!r}")
    splits_dir, videos_dir = ucf101_dirs(root)
    classes = []
    for line in _read_lines(splits_dir / "classInd.txt"):
        number, name = line.split(maxsplit=1)
        if int(number) != len(classes) + 1:
            raise SplitError(f"{splits_dir / 'classInd.txt'}: expected class number {len(classes) + 1}, got {line!r}")
        classes.append(name.strip())
    by_name = {c.lower(): i for i, c in enumerate(classes)}
    list_file = splits_dir / f"{subset}list0{split}.txt"
    records = []
    for line in _read_lines(list_file):
        parts = line.split()
        rel = parts[0]
        if len(parts) > 1:
            label = int(parts[1]) - 1
        else:
            folder = rel.split("/")[0]
            if folder.lower() not in by_name:
                raise SplitError(f"{list_file}: class folder {folder!r} of {rel!r} is not in classInd.txt")
            label = by_name[folder.lower()]
        path = resolve_video(videos_dir, rel)
        if path is None:
            raise SplitError(
                f"video listed in {list_file.name} not found: {videos_dir / rel} "
                f"(expected UCF101 videos under {videos_dir}/<Class>/)"
            )
        records.append(VideoRecord(path, label, rel))
    return SplitIndex(classes, records)


# ---------------------------------------------------------------------------------------------- HMDB51

HMDB51_IDS = {"train": "1", "test": "2", "unused": "0"}


def read_hmdb51(root, subset: str = "train", split: int = 1) -> SplitIndex:
    """HMDB51 from the 153 official ``<class>_test_split{1,2,3}.txt`` files.

    Lines are ``name.avi <id> `` (trailing space): id 1 = train, 2 = test, 0 = unused. Classes are the
    51 names in alphabetical order (labels 0..50).
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
    classes = sorted(by_class)  # by class name: "climb" before "climb_stairs"
    files = [by_class[c] for c in classes]
    videos_dir = _first_dir([root / "videos", root / "hmdb51_org"]) or root
    wanted = HMDB51_IDS[subset]
    records = []
    for label, (name, file) in enumerate(zip(classes, files)):
        for line in _read_lines(file):
            video, flag = line.split()
            if flag != wanted:
                continue
            rel = f"{name}/{video}"
            path = resolve_video(videos_dir, rel)
            if path is None:
                raise SplitError(
                    f"video listed in {file.name} not found: {videos_dir / rel} "
                    f"(expected HMDB51 videos under {videos_dir}/<class>/)"
                )
            records.append(VideoRecord(path, label, rel))
    return SplitIndex(classes, records)


# --------------------------------------------------------------------------------------- Kinetics-400


def kinetics_filename(youtube_id: str, time_start, time_end) -> str:
    """``<youtube_id>_<start:06d>_<end:06d>.mp4``, the name the public K400 mirrors use."""
    return f"{youtube_id}_{int(float(time_start)):06d}_{int(float(time_end)):06d}.mp4"


def read_kinetics400(root, subset: str = "train", classes: Optional[list[str]] = None) -> SplitIndex:
    """Kinetics-400 from its official CSV; videos missing on disk are listed in ``missing``, not fatal.

    Labels are the sorted class names of the subset's CSV (400 for train/val), unless ``classes`` is
    given (pass the train classes when reading val so labels agree).
    """
    root = _require_dir(Path(root), "dataset root")
    csv_path = next(
        (p for p in (root / "annotations" / f"{subset}.csv", root / f"{subset}.csv") if p.is_file()), None
    )
    if csv_path is None:
        raise SplitError(
            f"Kinetics-400 annotation file not found: expected {root / 'annotations' / f'{subset}.csv'} "
            "(columns label,youtube_id,time_start,time_end,split; data_scripts/get_kinetics400.py fetches it)"
        )
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    needed = {"youtube_id", "time_start", "time_end"}
    if rows and not needed <= set(rows[0]):
        raise SplitError(f"{csv_path}: expected columns label,youtube_id,time_start,time_end,split")
    has_labels = bool(rows) and "label" in rows[0]
    if classes is None:
        classes = sorted({r["label"] for r in rows}) if has_labels else []
    by_name = {c: i for i, c in enumerate(classes)}
    videos_dir = root / subset if (root / subset).is_dir() else root / "videos" / subset
    records, missing = [], []
    for r in rows:
        name = kinetics_filename(r["youtube_id"], r["time_start"], r["time_end"])
        label_name = r.get("label", "")
        path = None
        for rel in (f"{label_name}/{name}", f"{label_name.replace(' ', '_')}/{name}", name):
            path = resolve_video(videos_dir, rel)
            if path is not None:
                break
        if path is None:
            missing.append(name)
            continue
        if has_labels and label_name not in by_name:
            raise SplitError(f"{csv_path}: label {label_name!r} is not among the {len(classes)} classes given")
        records.append(VideoRecord(path, by_name.get(label_name, -1), name))
    return SplitIndex(classes, records, missing)


# --------------------------------------------------------------------------------------------- folder


def read_folder(root, subset: Optional[str] = "train") -> SplitIndex:
    """A generic dataset: one sub-folder per class, videos (or frame packs, or frame folders) inside.

    With ``root/<subset>/`` present the subset folder is used; otherwise ``root`` itself.
    """
    root = _require_dir(Path(root), "dataset root")
    base = root / subset if subset and (root / subset).is_dir() else root
    classes = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise SplitError(f"no class folders in {base}: expected {base}/<class>/<video>")
    records = []
    for label, name in enumerate(classes):
        for item in sorted((base / name).iterdir()):
            is_video = item.is_file() and item.suffix.lower() in VIDEO_SUFFIXES + (FRAME_PACK_SUFFIX,)
            if is_video or (item.is_dir() and any(item.glob("*.jpg"))):
                records.append(VideoRecord(item, label, f"{name}/{item.name}"))
    return SplitIndex(classes, records)


DATASETS = ("ucf101", "hmdb51", "kinetics400", "synthetic", "folder")


def read_split(dataset: str, root, subset: str = "train", split: int = 1) -> SplitIndex:
    """Dispatch to the parser for ``dataset`` (one of :data:`DATASETS`)."""
    if dataset in ("ucf101", "synthetic"):
        return read_ucf101(root, subset, split)
    if dataset == "hmdb51":
        return read_hmdb51(root, subset, split)
    if dataset == "kinetics400":
        classes = None
        if subset != "train" and (Path(root) / "annotations" / "train.csv").is_file():
            classes = read_kinetics400_classes(root)
        return read_kinetics400(root, "val" if subset == "test" else subset, classes)
    if dataset == "folder":
        return read_folder(root, subset)
    raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")


def read_kinetics400_classes(root) -> list[str]:
    with open(Path(root) / "annotations" / "train.csv", newline="", encoding="utf-8") as f:
        return sorted({r["label"] for r in csv.DictReader(f)})

"""Named subsets of the real datasets: a few classes of an official split, small enough for a Colab GPU.

``ucf101-mini`` is ten classes of UCF101 split 1 (about 1,000 training and 390 test videos). Its split
files are the official ones with every line of another class left out and the labels renumbered 1-10 in
the official class order, so a video's place in the subset can be checked against the official lists.
``data_scripts/get_ucf101.py --subset ucf101-mini`` fetches and extracts only these classes and writes the
subset's ``ucfTrainTestlist``; ``pacekit prepare`` then reads it like any UCF101 copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..atomic import write_text_atomic
from ..errors import PacekitError


@dataclass(frozen=True)
class Subset:
    """A subset of a dataset's official split: ``classes`` maps each kept class to why it is there."""

    name: str
    dataset: str
    split: int
    classes: dict[str, str]
    reason: str
    train_videos: int  # in the official split files: tests check these against them
    test_videos: int

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.classes)


UCF101_MINI = Subset(
    name="ucf101-mini",
    dataset="ucf101",
    split=1,
    train_videos=1006,
    test_videos=389,
    reason=("Ten UCF101 actions whose motion and speed differ and whose look sets the expected speed (a "
            "bow on a violin, a rope, a billiard table), so the pace a network reads from a clip must come "
            "from what moves and how: the paper's argument in Sec. 3 on real video. The slowest (TaiChi, "
            "ApplyEyeMakeup) and fastest (JumpRope, Drumming, SoccerJuggling) actions are a few times apart "
            "in natural speed. Four of them have sample clips that pacekit's tests read."),
    classes={
        "ApplyEyeMakeup": "slow, small hand motion in a close-up",
        "BaseballPitch": "one fast whole-body throw",
        "Basketball": "a jump shot: body and ball",
        "Billiards": "mostly still, one short quick strike; the table sets the scene",
        "Drumming": "fast periodic hand motion",
        "HorseRiding": "a periodic gait outdoors, with a moving camera",
        "JumpRope": "fast periodic whole-body jumps",
        "PlayingViolin": "periodic bowing by a body that stays in place",
        "SoccerJuggling": "fast, repeated touches of a ball",
        "TaiChi": "very slow whole-body motion",
    },
)

SUBSETS: dict[str, Subset] = {UCF101_MINI.name: UCF101_MINI}


class SubsetError(PacekitError, ValueError):
    """Split files that do not hold a subset's classes, or a folder that holds another dataset's lists."""


def get_subset(name: str) -> Subset:
    if name not in SUBSETS:
        raise SubsetError(f"unknown subset {name!r}; choose one of {', '.join(SUBSETS)}")
    return SUBSETS[name]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def ucf101_subset_lists(class_ind: str, trainlist: str, testlist: str, subset: Subset = UCF101_MINI) -> dict[str, str]:
    """The subset's ``classInd.txt``, ``trainlist0S.txt`` and ``testlist0S.txt`` from the official texts.

    Classes keep the official order and are numbered 1, 2, ...; training lines get the new label; every
    line of another class is left out. Raises :class:`SubsetError` when a class of the subset is not in
    ``class_ind`` or has no training or test video.
    """
    official = {}
    for line in _lines(class_ind):
        number, _, name = line.partition(" ")
        official[name.strip()] = int(number)
    missing = [c for c in subset.class_names if c not in official]
    if missing:
        raise SubsetError(f"classInd.txt lacks {', '.join(missing)} of {subset.name}; is it UCF101's official file?")
    kept = sorted(subset.class_names, key=official.__getitem__)
    label = {name: i + 1 for i, name in enumerate(kept)}

    def keep(text: str, labelled: bool) -> list[str]:
        out = []
        for line in _lines(text):
            rel = line.split()[0].replace("\\", "/")
            name = rel.split("/")[0]
            if name in label:
                out.append(f"{rel} {label[name]}" if labelled else rel)
        return out

    train, test = keep(trainlist, True), keep(testlist, False)
    for lines, what in ((train, "training"), (test, "test")):
        empty = [c for c in kept if not any(line.startswith(c + "/") for line in lines)]
        if empty:
            raise SubsetError(f"the official {what} list of split {subset.split} has no video of {', '.join(empty)}")
    s = subset.split
    return {"classInd.txt": "".join(f"{label[c]} {c}\n" for c in kept),
            f"trainlist0{s}.txt": "".join(line + "\n" for line in train),
            f"testlist0{s}.txt": "".join(line + "\n" for line in test)}


def subset_videos(lists: dict[str, str]) -> list[str]:
    """The videos (``<Class>/<file>``) the subset's split files name, training then test, each once."""
    seen: dict[str, None] = {}
    for name, text in lists.items():
        if name != "classInd.txt":
            for line in _lines(text):
                seen.setdefault(line.split()[0], None)
    return list(seen)


def write_subset_lists(folder, lists: dict[str, str], subset: Subset = UCF101_MINI) -> Path:
    """Write the subset's split files into ``folder`` (created); a folder holding other split files is refused.

    Files already there with the same text are left as they are, so a rerun changes nothing; a
    ``classInd.txt`` of another set (the full UCF101's, say) is never overwritten.
    """
    folder = Path(folder)
    clash: Optional[Path] = next((folder / n for n, text in lists.items()
                                  if (folder / n).is_file() and (folder / n).read_text() != text), None)
    if clash is not None:
        raise SubsetError(f"{clash} already holds other split files (not {subset.name}'s); pass another --out "
                          f"for the {subset.name} subset")
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in lists.items():
        path = folder / name
        if not path.is_file():
            write_text_atomic(path, text)
    return folder


__all__ = ["SUBSETS", "UCF101_MINI", "Subset", "SubsetError", "get_subset", "subset_videos",
           "ucf101_subset_lists", "write_subset_lists"]

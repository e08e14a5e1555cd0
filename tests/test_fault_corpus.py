"""The user-fault corpus: every fault a user can cause, one row each, is ONE line with exit status 2.

Each row is an id, a category, a setup that makes the bad input under ``tmp_path`` (a missing path, a file
where a folder is expected, a damaged split file, video, pack, cache or checkpoint, a read-only or full disk),
the command line, and words the one error line must hold. :func:`test_a_user_fault_is_one_line` runs
``pacekit.cli.main`` in-process on each and checks the exit status, that the error is one line holding the
words (the fault and its fix), that no traceback is printed, and that no file the row's folder held before the
command was changed or removed. The expensive steps of every command (training, evaluating, drawing or
converting videos, serving the game, the ledger's cells) are replaced by :func:`_reached`, so a row whose fault
slips past pacekit's checks fails instead of running: each command refuses before any long work. Rows reuse the session's fixtures (conftest's ``ucf_root`` and ``flow``)
read-only and copy what they damage.

Operating-system faults are simulated (the tests may run as root, for whom permission bits do not bind): a
read-only, full or forbidden folder refuses every folder and temp file made in it (:func:`_refuse_writes`), and
a path below a file fails for everyone. Faults in other tests keep their home: numeric flags in
``tests/test_flags.py``, run folders, diverging runs and transfers in ``tests/test_faults.py``, prepare's flags
in ``tests/test_cli_data.py``, the game's port in use in ``tests/test_user_faults.py``.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import string
import struct
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest
import torch
from helpers import make_users_ucf101, tree_bytes

from pacekit import cli
from pacekit.data.readers import FRAME_PACK_MAGIC
from pacekit.data.synthetic import FORMAT_NAME
from pacekit.owned import mark_folder
from pacekit.training.checkpoint import load_checkpoint
from pacekit.training.loop import RUN_FOLDER

#: The categories of the corpus, in the order the count reports them.
CATEGORIES = ("flags", "paths", "splits", "videos", "damaged", "os", "devices")


class ReachedWork(BaseException):
    """Raised where a command would start long work: its fault was not refused up front. ``main`` does not
    catch it (it is no ``Exception``), so the row fails with this message."""


def _reached(*args, **kwargs):
    raise ReachedWork("the command went past its checks into real work")


#: Where each command's long work starts (module, attribute).
WORK = [
    ("pacekit.training.loop", "make_train_loader"),            # pretrain, finetune, linear-probe, ship-weights
    ("pacekit.commands.evaluate", "evaluate_videos"),
    ("pacekit.commands.retrieval", "run_retrieval"),
    ("pacekit.commands.attention", "attention_grid"),
    ("pacekit.study.claims.ledger", "run_tasks"),
    ("pacekit.data.synthetic.writer", "_render_entry"),         # make-synthetic, quickstart, claims, game
    ("pacekit.data.synthetic.writer", "spawn_pool"),
    ("pacekit.commands.game", "_serve"),
    ("pacekit.data.prepare", "_convert_one"),
]


# ------------------------------------------------------------------------------------------ the rows' world


class Ctx:
    """What a row's setup and command line use: ``{name}`` placeholders in a row's argv are these attributes.

    ``tmp`` is the row's own folder (``FILE`` in it is a plain file); ``ucf`` (conftest's ``ucf_root``) and the
    ``flow``'s ``syn`` set and ``pre`` / ``ft`` checkpoints are shared and never written; a setup damages copies
    (:meth:`ucf_copy`, :meth:`syn_copy`, :meth:`checkpoint`) and may set ``root``, ``ckpt``, ``out``, ``video``.
    """

    def __init__(self, request, tmp_path: Path, monkeypatch):
        self._request, self.tmp, self.monkeypatch = request, tmp_path, monkeypatch
        self.FILE = tmp_path / "FILE"
        self.FILE.write_text("a file, not a folder")
        self.root = self.ckpt = self.out = self.video = None

    # shared fixtures, built only for the rows that use them
    @property
    def ucf(self) -> Path:
        return self._request.getfixturevalue("ucf_root")

    @property
    def flow(self) -> dict:
        return self._request.getfixturevalue("flow")

    @property
    def syn(self) -> Path:
        return self.flow["root"]

    @property
    def pre(self) -> Path:
        return self.flow["pre"]

    @property
    def ft(self) -> Path:
        return self.flow["ft"]

    @property
    def avi(self) -> Path:
        """A good video of ``ucf``."""
        return sorted((self.ucf / "UCF-101" / "Basketball").glob("*.avi"))[0]

    def __getitem__(self, name):  # str.format_map's lookup: placeholders resolve lazily
        return getattr(self, name)

    # what setups make
    def file(self, name: str, data) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return path

    def ucf_copy(self, edit: Callable[[Path], object]) -> Path:
        """A copy of ``ucf`` edited by ``edit(root)``, as ``root``."""
        self.root = self.tmp / "ucf"
        shutil.copytree(self.ucf, self.root)
        edit(self.root)
        return self.root

    def syn_copy(self, edit: Callable[[Path], object]) -> Path:
        """A copy of the flow's synthetic set edited by ``edit(root)``, as ``root``."""
        self.root = self.tmp / "syn"
        shutil.copytree(self.syn, self.root)
        edit(self.root)
        return self.root

    def checkpoint(self, edit: Callable[[dict], object], source: str = "ft", name: str = "edited.pt") -> Path:
        """The ``source`` checkpoint with ``edit(state)`` applied, saved with plain ``torch.save``, as ``ckpt``."""
        state = load_checkpoint(getattr(self, source))
        edit(state)
        self.ckpt = self.tmp / name
        self.ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, self.ckpt)
        return self.ckpt


def _refuse_writes(monkeypatch, folder: Path, err: int) -> None:
    """``folder`` as on a read-only (EROFS), full (ENOSPC) or forbidden (EACCES) disk: every folder and temp file
    pacekit makes in it fails with ``err``, also for root."""
    folder = Path(folder).absolute()

    def refused(path) -> bool:
        return Path(path).absolute().is_relative_to(folder)

    real_mkdir, real_mkstemp = Path.mkdir, tempfile.mkstemp

    def mkdir(self, *args, **kwargs):
        if refused(self) and not self.is_dir():
            raise OSError(err, os.strerror(err), str(self))
        return real_mkdir(self, *args, **kwargs)

    def mkstemp(*args, **kwargs):
        where = kwargs.get("dir") or (args[2] if len(args) > 2 else None)
        if where is not None and refused(where):
            raise OSError(err, os.strerror(err), str(where))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def _pack(header: bytes, length: Optional[int] = None) -> bytes:
    """A frame pack's first bytes: the magic, a header length and ``header``."""
    return FRAME_PACK_MAGIC + struct.pack("<I", len(header) if length is None else length) + header


def _splits(root: Path) -> Path:
    return root / "ucfTrainTestlist"


def _garble_videos(root: Path, subset_glob: str = "*.avi", data: bytes = b"not a video" * 20) -> None:
    for path in (root / "UCF-101").rglob(subset_glob):
        path.write_bytes(data)


def _run_folder(ctx: Ctx, name: str) -> Path:
    """``tmp/runs/<name>`` as a run leaves its folder (marked, its metrics begun), for a row to damage."""
    folder = mark_folder(ctx.tmp / "runs" / name, RUN_FOLDER)
    (folder / "metrics.jsonl").write_text("")
    return folder


def _synthetic_json(ctx: Ctx, folder: str, contents) -> Path:
    """``tmp/<folder>/synthetic.json`` holding ``contents`` (bytes as they are, anything else as JSON)."""
    return ctx.file(f"{folder}/synthetic.json", contents if isinstance(contents, bytes) else json.dumps(contents))


# ---------------------------------------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Row:
    id: str
    category: str
    argv: tuple  # words; "{name}" is replaced by Ctx.name
    says: tuple  # each must be in the one error line
    setup: Optional[Callable[[Ctx], object]] = None
    code: int = 2
    skip: Optional[Callable[[], Optional[str]]] = None  # a reason to skip here, or None
    lets: tuple = ()  # names of WORK this row runs for real (cheap here, and where its fault shows)


def row(id, category, argv, says, setup=None, code=2, skip=None, lets=()) -> Row:
    return Row(id, category, tuple(argv), (says,) if isinstance(says, str) else tuple(says), setup, code, skip,
               tuple(lets))


def _needs_no_cuda() -> Optional[str]:
    return "CUDA is available here, so the device is not refused" if torch.cuda.is_available() else None


def _needs_no_mps() -> Optional[str]:
    return "MPS is available here" if torch.backends.mps.is_available() else None


#: Flags that keep a pretraining or fine-tuning on the flow's synthetic set tiny (it never starts: see WORK).
TRAIN = ("--preset", "cpu-tiny", "--dataset", "synthetic", "--root", "{syn}", "--out-dir", "{tmp}/runs",
         "--frame-size", "64,80", "--crop", "64", "--clip-len", "8", "--num-workers", "0", "--device", "cpu",
         "--no-progress")
#: The same on ``root`` (a damaged copy of ``ucf``) with the tiny backbone.
TRAIN_UCF = ("--preset", "cpu-tiny", "--dataset", "ucf101", "--root", "{root}", "--out-dir", "{tmp}/runs",
             "--frame-size", "32,48", "--crop", "32", "--clip-len", "4", "--num-workers", "0", "--device", "cpu",
             "--no-progress")
#: The flow's test split, for evaluate and retrieve.
ON_SYN = ("--dataset", "synthetic", "--root", "{syn}", "--device", "cpu", "--num-workers", "0")
#: attention on one good video of ``ucf`` with the pretraining checkpoint.
ATTENTION = ("attention", "--checkpoint", "{pre}", "--video", "{avi}", "--out", "{tmp}/a.png", "--device", "cpu")
#: make-synthetic of a tiny set.
SMALL_SET = ("--classes", "2", "--videos-per-class", "2", "--width", "32", "--height", "32")
#: claims of one claim and one seed, its data folder under tmp (never the repository's data/synthetic).
CLAIMS = ("claims", "--out", "{tmp}/ledger", "--data", "{tmp}/data", "--claims", "C1", "--seeds", "1", "--jobs", "1",
          "--no-progress")
#: A small synthetic set for quickstart and claims (its plan, drawn before the folder is checked, takes seconds at
#: the presets' 10 classes x 40 videos).
SMALL_PLAN = ("--synthetic-classes", "2", "--synthetic-videos", "2")
SYNTHETIC_FIX = "delete the folder"

FLAG_ROWS = [
    row("preset-unknown", "flags", ["pretrain", *TRAIN, "--preset", "nope"], ["--preset", "invalid choice: 'nope'"]),
    row("quickstart-preset-unknown", "flags", ["quickstart", "--data", "{tmp}/data", "--preset", "laptop"], ["--preset", "'laptop'"]),
    row("epochs-negative", "flags", ["pretrain", *TRAIN, "--epochs", "-1"], "--epochs -1: expected an integer >= 1"),
    row("epochs-fraction", "flags", ["pretrain", *TRAIN, "--epochs", "1.5"], ["--epochs", "invalid int value: '1.5'"]),
    row("ft-epochs-zero", "flags", ["finetune", *TRAIN, "--ft-epochs", "0"], "--ft-epochs 0: expected an integer >= 1"),
    row("batch-size-zero", "flags", ["pretrain", *TRAIN, "--batch-size", "0"], "--batch-size 0: expected an integer >= 1"),
    row("clip-len-zero", "flags", ["pretrain", *TRAIN, "--clip-len", "0"], "--clip-len 0: expected an integer >= 1"),
    row("crop-above-frame-size", "flags", ["pretrain", *TRAIN, "--crop", "100"], ["frame_size=(64, 80)", "crop=100"]),
    row("frame-size-zero", "flags", ["pretrain", *TRAIN, "--frame-size", "0,0"], "--frame-size 0,0: expected (height, width)"),
    row("frame-size-one-number", "flags", ["pretrain", *TRAIN, "--frame-size", "10"], "--frame-size 10: expected (height, width)"),
    row("frame-size-words", "flags", ["pretrain", *TRAIN, "--frame-size", "big"], ["--frame-size", "expected integers like 128,171"]),
    row("pace-set-word", "flags", ["pretrain", *TRAIN, "--pace-set", "absolut"], ["unknown pace set 'absolut'", "relative"]),
    row("pace-set-zero", "flags", ["pretrain", *TRAIN, "--pace-set", "0,1"], "pace must be positive, got '0'"),
    row("pace-set-negative", "flags", ["pretrain", *TRAIN, "--pace-set=-1,2"], "pace must be positive"),
    row("pace-set-not-a-number", "flags", ["pretrain", *TRAIN, "--pace-set", "1,x"], "pace 'x' is not a number"),
    row("pace-set-repeated", "flags", ["pretrain", *TRAIN, "--pace-set", "2,2"], "paces must be distinct"),
    row("pace-set-one-pace", "flags", ["pretrain", *TRAIN, "--pace-set", "3"], ["--pace-set 3", "at least two paces"]),
    row("pace-set-divide-by-zero", "flags", ["pretrain", *TRAIN, "--pace-set", "1,1/0"], "pace '1/0' is not a number"),
    row("backbone-unknown", "flags", ["pretrain", *TRAIN, "--backbone", "resnet"], ["unknown backbone 'resnet'", "r21d"]),
    row("dataset-unknown", "flags", ["pretrain", *TRAIN, "--dataset", "imagenet"], ["unknown dataset 'imagenet'", "ucf101"]),
    row("contrastive-unknown", "flags", ["pretrain", *TRAIN, "--contrastive", "both"], "--contrastive both: expected one of"),
    row("projection-unknown", "flags", ["pretrain", *TRAIN, "--projection", "deep"], "--projection deep: expected none"),
    row("precision-unknown", "flags", ["pretrain", *TRAIN, "--precision", "fp8"], "--precision fp8: expected one of"),
    row("jitter-unknown", "flags", ["pretrain", *TRAIN, "--jitter", "video"], "--jitter video: expected 'frame'"),
    row("input-mode-unknown", "flags", ["pretrain", *TRAIN, "--input-mode", "gray"], "--input-mode gray: expected one of"),
    row("backend-unknown", "flags", ["pretrain", *TRAIN, "--backend", "opencv"], "--backend opencv: expected one of"),
    row("start-policy-unknown", "flags", ["pretrain", *TRAIN, "--start-policy", "end"], "--start-policy end: expected"),
    row("wrap-unknown", "flags", ["pretrain", *TRAIN, "--wrap", "mirror"], "--wrap mirror: expected one of"),
    row("optimizer-unknown", "flags", ["pretrain", *TRAIN, "--optimizer", "lbfgs"], "--optimizer lbfgs: expected one of"),
    row("slow-fill-unknown", "flags", ["pretrain", *TRAIN, "--slow-fill", "blur"], "slow_fill must be 'repeat' or 'interpolate'"),
    row("threads-zero", "flags", ["pretrain", *TRAIN, "--threads", "0"], "--threads 0: expected none or an integer >= 1"),
    row("width-zero", "flags", ["pretrain", *TRAIN, "--width", "0"], "--width 0.0: expected a positive number"),
    row("temperature-zero", "flags", ["pretrain", *TRAIN, "--temperature", "0"], "--temperature 0.0: expected a positive"),
    row("lambda-cls-negative", "flags", ["pretrain", *TRAIN, "--lambda-cls", "-1"], "--lambda-cls -1.0: expected a number >= 0"),
    row("momentum-word", "flags", ["pretrain", *TRAIN, "--momentum", "high"], ["--momentum", "invalid float value"]),
    row("seed-word", "flags", ["finetune", *TRAIN, "--seed", "abc"], ["--seed", "invalid int value: 'abc'"]),
    row("labels-per-class-zero", "flags", ["finetune", *TRAIN, "--labels-per-class", "0"], "--labels-per-class 0"),
    row("proj-dim-zero", "flags", ["pretrain", *TRAIN, "--proj-dim", "0"], "--proj-dim 0: expected an integer >= 1"),
    row("log-every-zero", "flags", ["pretrain", *TRAIN, "--log-every", "0"], "--log-every 0: expected an integer >= 1"),
    row("max-videos-word", "flags", ["pretrain", *TRAIN, "--max-videos", "all"], ["--max-videos", "'all'"]),
    row("name-empty", "flags", ["pretrain", *TRAIN, "--name", ""], ["--name ''", "run folder name"]),
    row("name-parent", "flags", ["finetune", *TRAIN, "--name", ".."], ["--name '..'", "run folder name"]),
    row("bool-flag-with-value", "flags", ["pretrain", *TRAIN, "--normalize", "yes"], "unrecognized arguments: yes"),
    row("split-four", "flags", ["pretrain", *TRAIN, "--split", "4"], "UCF101 split must be 1, 2 or 3, got 4"),
    row("unknown-command", "flags", ["train"], "invalid choice: 'train'"),
    row("synthetic-version-2", "flags", ["make-synthetic", "--out", "{tmp}/set", "--version", "2"],
        ["--version", "invalid choice: 2"]),
    row("quickstart-synthetic-version-1", "flags", ["quickstart", "--out", "{tmp}/q", "--data", "{tmp}/data",
                                                    "--synthetic-version", "1"],
        ["--synthetic-version", "invalid choice: 1"]),
    row("speed-spread-below-one", "flags", ["make-synthetic", "--out", "{tmp}/set", "--speed-spread", "0.5"],
        ["speed_spread=0.5", "a number >= 1"]),
    row("speed-spread-nan", "flags", ["make-synthetic", "--out", "{tmp}/set", "--speed-spread", "nan"], "speed_spread=nan"),
    row("speed-spread-version-1", "flags", ["make-synthetic", "--out", "{tmp}/set", "--version", "1", "--speed-spread", "2"],
        "needs format version 3, 4 or 5"),
    row("synthetic-too-many-classes", "flags", ["make-synthetic", "--out", "{tmp}/set", "--classes", "11"],
        ["num_classes=11", "choose 1..10"]),
    row("synthetic-odd-size", "flags", ["make-synthetic", "--out", "{tmp}/set", "--width", "33", "--height", "32"],
        ["frame size 33x32", "even"]),
    row("quickstart-speed-spread-zero", "flags", ["quickstart", "--out", "{tmp}/q", "--data", "{tmp}/data",
                                                  "--pretrain-speed-spread", "0"], "speed_spread=0.0"),
    row("claims-unknown-claim", "flags", ["claims", "--out", "{tmp}/ledger", "--data", "{tmp}/data", "--claims", "C99"],
        ["unknown claims ['C99']", "C1"]),
    row("claims-empty-claim-list", "flags", ["claims", "--out", "{tmp}/ledger", "--data", "{tmp}/data", "--claims", ","],
        "unknown claims"),
    row("claims-attention-videos-zero", "flags", ["claims", "--data", "{tmp}/data", "--attention-videos", "0"], "--attention-videos"),
    row("evaluate-dataset-unknown", "flags", ["evaluate", "--checkpoint", "{ft}", "--dataset", "kinetics", "--root", "{syn}"],
        ["--dataset", "invalid choice: 'kinetics'"]),
    row("evaluate-subset-unknown", "flags", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--subset", "val"],
        "subset must be 'train' or 'test', got 'val'"),
    row("retrieve-feature-unknown", "flags", ["retrieve", "--checkpoint", "{ft}", *ON_SYN, "--feature", "p9"],
        ["--feature", "invalid choice: 'p9'"]),
    row("retrieve-arch-unknown", "flags", ["retrieve", "--authors-checkpoint", "{ft}", *ON_SYN, "--arch", "vgg"],
        ["--arch", "invalid choice: 'vgg'"]),
    row("retrieve-two-checkpoints", "flags", ["retrieve", "--checkpoint", "{ft}", "--authors-checkpoint", "{ft}", *ON_SYN],
        "not allowed with argument --checkpoint"),
    row("attention-pace-zero", "flags", [*ATTENTION, "--paces", "1", "0"], "pace must be positive, got '0'"),
    row("attention-pace-divide-by-zero", "flags", [*ATTENTION, "--paces", "1/0"], "pace '1/0' is not a number"),
    row("attention-target-unknown", "flags", [*ATTENTION, "--gradcam", "--target", "top"],
        "--target must be 'predicted', 'pace' or a logit index 0..3, got 'top'"),
    row("attention-target-out-of-range", "flags", [*ATTENTION, "--gradcam", "--target", "99"], "a logit index 0..3, got '99'"),
    row("attention-target-pace-on-finetuned", "flags",
        ["attention", "--checkpoint", "{ft}", "--video", "{avi}", "--out", "{tmp}/a.png", "--device", "cpu", "--gradcam",
         "--target", "pace"], "--target pace needs a pretraining checkpoint"),
    row("attention-stage-unknown", "flags", [*ATTENTION, "--stage", "conv9"], ["--stage", "invalid choice: 'conv9'"]),
    row("attention-start-word", "flags", [*ATTENTION, "--start", "begin"], ["--start", "expected an integer >= 0"]),
    row("info-split-word", "flags", ["info", "--dataset", "ucf101", "--root", "{ucf}", "--split", "one"],
        ["--split", "invalid int value"]),
    row("info-split-zero", "flags", ["info", "--dataset", "ucf101", "--root", "{ucf}", "--split", "0"],
        "UCF101 split must be 1, 2 or 3, got 0"),
    row("prepare-short-side-15", "flags", ["prepare", "--root", "{ucf}", "--out", "{tmp}/p", "--short-side", "15"],
        "--short-side must be at least 16 pixels, got 15"),
    row("prepare-quality-negative", "flags", ["prepare", "--root", "{ucf}", "--out", "{tmp}/p", "--quality", "-5"],
        "--quality must be between 1 and 100"),
    row("prepare-workers-negative", "flags", ["prepare", "--root", "{ucf}", "--out", "{tmp}/p", "--workers", "-2"],
        "--workers must be at least 1, got -2"),
    row("game-port-negative", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--port", "-5"],
        "expected a port number 0..65535"),
    row("game-port-too-large", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--port", "70000"],
        "expected a port number 0..65535"),
    row("game-port-word", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--port", "http"],
        "expected a port number 0..65535"),
    row("game-host-unknown", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--host", "nohost.invalid"],
        "not an address of this machine"),
    row("game-host-remote", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--host", "0.0.0.0"],
        "add --allow-remote"),
    row("game-rounds-zero", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--rounds", "0"],
        ["--rounds", "expected an integer >= 1"]),
    row("game-seed-negative", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--seed", "-1"],
        ["--seed", "expected an integer >= 0, got -1"]),
    row("game-max-kernels-zero", "flags", ["game", "--no-browser", "--data", "{tmp}/set", "--max-kernels", "0"],
        ["--max-kernels", "expected an integer >= 1, got 0"]),
]

PATH_ROWS = [
    row("root-missing", "paths", ["pretrain", *TRAIN, "--root", "{tmp}/nowhere"], "dataset root not found"),
    row("root-is-a-file", "paths", ["finetune", *TRAIN, "--root", "{FILE}"], "dataset root not found"),
    row("pretrained-missing", "paths", ["finetune", *TRAIN, "--pretrained", "{tmp}/pre.pt"],
        ["--pretrained", "no such checkpoint file"]),
    row("pretrained-is-a-folder", "paths", ["finetune", *TRAIN, "--pretrained", "{tmp}"], "no such checkpoint file"),
    row("probe-pretrained-missing", "paths", ["linear-probe", *TRAIN, "--pretrained", "{tmp}/pre.pt"],
        "--pretrained {tmp}/pre.pt: no such checkpoint file"),
    row("probe-finetuned-missing", "paths", ["linear-probe", *TRAIN, "--finetuned", "{tmp}/ft.pt"],
        "--finetuned {tmp}/ft.pt: no such checkpoint file"),
    row("evaluate-checkpoint-missing", "paths", ["evaluate", "--checkpoint", "{tmp}/last.pt", *ON_SYN],
        "no checkpoint at {tmp}/last.pt"),
    row("evaluate-checkpoint-is-a-folder", "paths", ["evaluate", "--checkpoint", "{tmp}", *ON_SYN],
        ["is a folder, not a checkpoint file", "latest_checkpoint"]),
    row("evaluate-root-missing", "paths", ["evaluate", "--checkpoint", "{ft}", "--dataset", "synthetic", "--root",
                                           "{tmp}/nowhere"], "dataset root not found"),
    row("evaluate-on-another-dataset", "paths", ["evaluate", "--checkpoint", "{ft}", "--dataset", "ucf101", "--root",
                                                 "{ucf}", "--device", "cpu"],
        ["was fine-tuned on 3 classes", "evaluate on the dataset it was fine-tuned on"]),
    row("retrieve-checkpoint-missing", "paths", ["retrieve", "--checkpoint", "{tmp}/last.pt", *ON_SYN], "no checkpoint at"),
    row("retrieve-authors-checkpoint-missing", "paths", ["retrieve", "--authors-checkpoint", "{tmp}/r3d.pth", *ON_SYN],
        "no checkpoint file at {tmp}/r3d.pth"),
    row("attention-video-missing", "paths", ["attention", "--checkpoint", "{pre}", "--video", "{tmp}/v.avi", "--out",
                                             "{tmp}/a.png"], "video not found: {tmp}/v.avi"),
    row("attention-no-videos", "paths", ["attention", "--checkpoint", "{pre}", "--out", "{tmp}/a.png"],
        "give the videos with --video"),
    row("attention-root-missing", "paths", ["attention", "--checkpoint", "{pre}", "--dataset", "ucf101", "--root",
                                            "{tmp}/nowhere", "--out", "{tmp}/a.png"], "dataset root not found"),
    row("info-root-is-a-file", "paths", ["info", "--dataset", "ucf101", "--root", "{FILE}"], "dataset root not found"),
    row("prepare-root-missing", "paths", ["prepare", "--root", "{tmp}/nowhere", "--out", "{tmp}/p"], "dataset root not found"),
    row("prepare-out-is-root", "paths", ["prepare", "--root", "{ucf}", "--out", "{ucf}"], "--out must differ from --root"),
    row("prepare-out-inside-root", "paths", ["prepare", "--root", "{ucf}", "--out", "{ucf}/prepared"],
        "is inside --root"),
    row("prepare-root-inside-out", "paths", ["prepare", "--root", "{ucf}/UCF-101", "--out", "{ucf}"], "is inside --out"),
    row("prepare-no-videos", "paths", ["prepare", "--root", "{tmp}/empty", "--out", "{tmp}/p", "--workers", "1"],
        "no videos under {tmp}/empty", setup=lambda c: (c.tmp / "empty").mkdir()),
    row("synthetic-out-is-a-file", "paths", ["make-synthetic", "--out", "{FILE}", *SMALL_SET],
        "{FILE} is a file; give a folder"),
    row("synthetic-out-is-a-users-folder", "paths", ["make-synthetic", "--out", "{tmp}/mine", *SMALL_SET],
        ["already holds files and no synthetic.json", "Choose another output folder"],
        setup=lambda c: c.file("mine/notes.txt", "mine")),
    row("quickstart-data-is-a-users-folder", "paths", ["quickstart", "--out", "{tmp}/q", "--data", "{ucf}", *SMALL_PLAN],
        "pacekit did not write it"),
    row("claims-data-is-a-file", "paths", ["claims", "--out", "{tmp}/ledger", "--data", "{FILE}", *SMALL_PLAN], "is a file"),
    row("ship-weights-refuses-to-replace", "paths", ["ship-weights", "--out", "{tmp}/w", "--data", "{tmp}/data"],
        ["already exist", "--overwrite"],
        setup=lambda c: (c.file("w/cpu_tiny_pace.pt", b"x"), c.file("w/cpu_tiny_pace.json", "{}"))),
    row("game-data-is-a-file", "paths", ["game", "--no-browser", "--data", "{FILE}"], ["--data", "is a file"]),
    row("lab-dir-missing", "paths", ["lab", "--dir", "{tmp}/notebooks"], "no such folder"),
    # pacekit writes only into what it owns: a folder of the user's (a copy of UCF101, notes) is refused whatever the
    # flags, and (checked for every row) none of its files changes
    row("synthetic-out-is-a-users-ucf101", "paths", ["make-synthetic", "--out", "{tmp}/ucf101", *SMALL_SET],
        ["{tmp}/ucf101 already holds files and no synthetic.json", "ApplyEyeMakeup/", "Choose another output folder"],
        setup=lambda c: make_users_ucf101(c.tmp / "ucf101")),
    row("claims-data-is-a-users-ucf101", "paths", [*CLAIMS, *SMALL_PLAN, "--data", "{tmp}/ucf101"],
        ["{tmp}/ucf101 already holds files", "UCF-101/", "ucfTrainTestlist/"],
        setup=lambda c: make_users_ucf101(c.tmp / "ucf101", videos_folder=True)),
    row("game-data-is-a-users-ucf101", "paths", ["game", "--no-browser", "--data", "{tmp}/ucf101"],
        ["--data {tmp}/ucf101", "pacekit did not write it"], setup=lambda c: make_users_ucf101(c.tmp / "ucf101")),
    row("ship-weights-data-is-a-users-ucf101", "paths", ["ship-weights", "--out", "{tmp}/w", "--data", "{tmp}/ucf101"],
        "pacekit did not write it", setup=lambda c: make_users_ucf101(c.tmp / "ucf101")),
    row("pretrain-run-folder-is-a-users-ucf101", "paths", ["pretrain", *TRAIN, "--name", "ucf101"],
        ["{tmp}/runs/ucf101 already holds files", "ApplyEyeMakeup/", "a training run", "--name"],
        setup=lambda c: make_users_ucf101(c.tmp / "runs" / "ucf101")),
    row("pretrain-overwrite-a-users-ucf101", "paths", ["pretrain", *TRAIN, "--name", "ucf101", "--overwrite"],
        ["pacekit did not write it", "--name"], setup=lambda c: make_users_ucf101(c.tmp / "runs" / "ucf101")),
    row("evaluate-out-is-a-users-folder", "paths", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--out", "{tmp}/mine"],
        ["{tmp}/mine already holds files and no pacekit.json", "(notes.txt)", "an evaluation's results", "--out"],
        setup=lambda c: (c.file("mine/eval.json", "my own"), c.file("mine/notes.txt", "mine"))),
    row("retrieve-out-is-a-users-folder", "paths", ["retrieve", "--checkpoint", "{ft}", *ON_SYN, "--out", "{tmp}/mine"],
        ["{tmp}/mine already holds files and no pacekit.json", "(notes.txt)", "a retrieval's results", "--out"],
        setup=lambda c: (c.file("mine/retrieval.json", "my own"), c.file("mine/notes.txt", "mine"))),
    row("pretrain-resume-in-a-users-folder", "paths", ["pretrain", *TRAIN, "--name", "mine", "--resume"],
        ["{tmp}/runs/mine already holds files", "notes.txt"], setup=lambda c: c.file("runs/mine/notes.txt", "mine")),
    row("finetune-overwrite-a-users-checkpoints", "paths", ["finetune", *TRAIN, "--name", "mine", "--overwrite"],
        ["pacekit did not write it", "notes.txt"],
        setup=lambda c: (c.file("runs/mine/last.pt", b"my own model"), c.file("runs/mine/notes.txt", "mine"))),
    row("linear-probe-run-folder-is-a-users-folder", "paths", ["linear-probe", *TRAIN, "--name", "mine"],
        ["{tmp}/runs/mine already holds files", "holiday.avi"],
        setup=lambda c: c.file("runs/mine/holiday.avi", b"RIFF")),
    row("pretrain-run-folder-is-a-quickstart", "paths", ["pretrain", *TRAIN, "--name", "q"],
        ["{tmp}/runs/q is pacekit's folder of a quickstart's runs and report, not of a training run", "--name"],
        setup=lambda c: c.file("runs/q/pacekit.json", json.dumps({"format": "pacekit-quickstart",
                                                                  "what": "a quickstart's runs and report"}))),
    row("prepare-out-is-a-users-ucf101", "paths",
        ["prepare", "--root", "{ucf}", "--out", "{tmp}/ucf101", "--workers", "1"],
        ["{tmp}/ucf101 already holds files", "a prepared copy of a dataset", "Choose another --out"],
        setup=lambda c: make_users_ucf101(c.tmp / "ucf101")),
    row("prepare-out-holds-other-files", "paths", ["prepare", "--root", "{ucf}", "--out", "{tmp}/p", "--workers", "1"],
        ["pacekit did not write it", "notes.txt"], setup=lambda c: c.file("p/notes.txt", "mine")),
    row("claims-out-is-a-users-ucf101", "paths", [*CLAIMS, *SMALL_PLAN, "--out", "{tmp}/ucf101"],
        ["{tmp}/ucf101 already holds files and no seeds.json", "a claims ledger", "Choose another --out"],
        setup=lambda c: make_users_ucf101(c.tmp / "ucf101")),
    row("claims-companion-is-a-users-folder", "paths", [*CLAIMS, *SMALL_PLAN, "--claims", "C9"],
        ["{tmp}/data_spread1 already holds files", "notes.txt", "is written beside it"],
        setup=lambda c: c.file("data_spread1/notes.txt", "mine")),
    row("quickstart-out-is-a-users-ucf101", "paths", ["quickstart", "--out", "{tmp}/ucf101", "--data", "{tmp}/data",
                                                      *SMALL_PLAN],
        ["{tmp}/ucf101 already holds files", "a quickstart's runs and report", "Choose another --out"],
        setup=lambda c: make_users_ucf101(c.tmp / "ucf101")),
    row("quickstart-companion-is-a-users-folder", "paths",
        ["quickstart", "--out", "{tmp}/q", "--data", "{tmp}/data", "--pretrain-speed-spread", "1", *SMALL_PLAN],
        ["{tmp}/data_spread1 already holds files", "ApplyEyeMakeup/", "is written beside it"],
        setup=lambda c: make_users_ucf101(c.tmp / "data_spread1")),
]

SPLIT_ROWS = [
    row("classind-missing", "splits", ["pretrain", *TRAIN_UCF], ["split files not found", "classInd.txt"],
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "classInd.txt").unlink())),
    row("classind-is-a-folder", "splits", ["info", "--dataset", "ucf101", "--root", "{root}"], "classInd.txt",
        setup=lambda c: c.ucf_copy(lambda r: ((_splits(r) / "classInd.txt").unlink(),
                                              (_splits(r) / "classInd.txt").mkdir()))),
    row("classind-empty", "splits", ["pretrain", *TRAIN_UCF], "lists no classes",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "classInd.txt").write_text(""))),
    row("classind-bad-line", "splits", ["info", "--dataset", "ucf101", "--root", "{root}", "--no-decode"],
        ["classInd.txt line 1", "'<number> <ClassName>'"],
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "classInd.txt").write_text("x ApplyEyeMakeup\n"))),
    row("classind-binary", "splits", ["pretrain", *TRAIN_UCF], "classInd.txt line 1",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "classInd.txt").write_bytes(b"\xff\xfe\x00garbage"))),
    row("classind-class-twice", "splits", ["pretrain", *TRAIN_UCF], "is already listed on line 1",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "classInd.txt").write_text(
            "1 ApplyEyeMakeup\n2 ApplyEyeMakeup\n3 Basketball\n"))),
    row("trainlist-missing", "splits", ["pretrain", *TRAIN_UCF], "split file not found",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").unlink())),
    row("trainlist-empty", "splits", ["pretrain", *TRAIN_UCF], "the dataset has no videos",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text(""))),
    row("trainlist-blank-lines", "splits", ["finetune", *TRAIN_UCF], "no videos",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text("\r\n  \r\n"))),
    row("trainlist-label-out-of-range", "splits", ["pretrain", *TRAIN_UCF], ["label 9 is out of range", "1-3"],
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text(
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 9\n"))),
    row("trainlist-label-a-word", "splits", ["pretrain", *TRAIN_UCF], "trainlist01.txt line 1: expected",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text(
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi one\n"))),
    row("trainlist-label-disagrees", "splits", ["finetune", *TRAIN_UCF], "disagrees with the class folder",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text(
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 3\n"))),
    row("trainlist-unknown-class", "splits", ["pretrain", *TRAIN_UCF], "class folder 'Dancing'",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text("Dancing/v_Dancing_g01_c01.avi\n"))),
    row("trainlist-climbs-out", "splits", ["pretrain", *TRAIN_UCF], "climbs out with '..'",
        setup=lambda c: c.ucf_copy(lambda r: (_splits(r) / "trainlist01.txt").write_text("../../../etc/passwd 1\n"))),
    row("split-line-names-a-missing-video", "splits", ["pretrain", *TRAIN_UCF],
        ["trainlist01.txt line 5 not found", "v_Basketball_g01_c01.avi"],
        setup=lambda c: c.ucf_copy(lambda r: (r / "UCF-101/Basketball/v_Basketball_g01_c01.avi").unlink())),
    row("videos-folder-missing", "splits", ["info", "--dataset", "ucf101", "--root", "{root}", "--no-decode"], "not found",
        setup=lambda c: c.ucf_copy(lambda r: shutil.rmtree(r / "UCF-101"))),
    row("testlist-missing", "splits", ["evaluate", "--checkpoint", "{ft}", "--dataset", "synthetic", "--root", "{root}",
                                       "--device", "cpu"], ["split file not found", "testlist01.txt"],
        setup=lambda c: c.syn_copy(lambda r: (_splits(r) / "testlist01.txt").unlink())),
    row("split-2-missing", "splits", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--split", "2"],
        ["split file not found", "testlist02.txt"]),
    row("hmdb51-split-nine", "splits", ["info", "--dataset", "hmdb51", "--root", "{tmp}", "--split", "9"],
        "HMDB51 split must be 1, 2 or 3, got 9"),
    row("kinetics-csv-missing", "splits", ["info", "--dataset", "kinetics400", "--root", "{tmp}"],
        "Kinetics-400 annotation file not found"),
    row("kinetics-csv-wrong-columns", "splits", ["info", "--dataset", "kinetics400", "--root", "{tmp}"],
        ["train.csv line 1", "expected the columns"],
        setup=lambda c: c.file("annotations/train.csv", "name,url\nx,y\n")),
    row("kinetics-csv-bad-times", "splits", ["info", "--dataset", "kinetics400", "--root", "{tmp}"],
        "expected whole seconds",
        setup=lambda c: c.file("annotations/train.csv", "label,youtube_id,time_start,time_end,split\n"
                                                         "abseiling,abc,soon,later,train\n")),
    row("folder-dataset-without-classes", "splits", ["info", "--dataset", "folder", "--root", "{tmp}/empty"],
        "no class folders", setup=lambda c: (c.tmp / "empty").mkdir()),
    row("synthetic-root-without-splits", "splits", ["info", "--dataset", "synthetic", "--root", "{tmp}"],
        ["split files not found", "classInd.txt"]),
]

VIDEO_ROWS = [
    row("video-garbage", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out", "{tmp}/a.png"],
        ["cannot decode video", "v.avi", "give another --video"],
        setup=lambda c: setattr(c, "video", c.file("v.avi", b"junk" * 100))),
    row("video-empty-file", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out", "{tmp}/a.png"],
        "cannot decode video", setup=lambda c: setattr(c, "video", c.file("v.mp4", b""))),
    row("video-cut-short", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out", "{tmp}/a.png"],
        "cannot decode video", setup=lambda c: setattr(c, "video", c.file("v.avi", c.avi.read_bytes()[:300]))),
    row("frame-folder-without-frames", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{tmp}/frames",
                                                  "--out", "{tmp}/a.png"], "folder holds no frame*.jpg files",
        setup=lambda c: (c.tmp / "frames").mkdir()),
    row("pack-bad-magic", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out", "{tmp}/a.png"],
        ["not a pacekit frame pack", "re-run `pacekit prepare`"],
        setup=lambda c: setattr(c, "video", c.file("v.jpack", b"RIFF" * 10))),
    row("pack-header-cut-short", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out",
                                            "{tmp}/a.png"], "truncated frame pack (header length)",
        setup=lambda c: setattr(c, "video", c.file("v.jpack", FRAME_PACK_MAGIC + b"\x01"))),
    row("pack-header-not-json", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out",
                                           "{tmp}/a.png"], "unreadable frame pack header",
        setup=lambda c: setattr(c, "video", c.file("v.jpack", _pack(b"{not json}")))),
    row("pack-header-not-utf8", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out",
                                           "{tmp}/a.png"], "unreadable frame pack header",
        setup=lambda c: setattr(c, "video", c.file("v.jpack", _pack(b"\xff\xfe\xfd\xfc")))),
    row("pack-header-an-array", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out",
                                           "{tmp}/a.png"], "frame pack header is not a JSON object",
        setup=lambda c: setattr(c, "video", c.file("v.jpack", _pack(b"[1, 2]")))),
    row("pack-header-huge-length", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out",
                                              "{tmp}/a.png"], "cannot be right",
        setup=lambda c: setattr(c, "video", c.file("v.jpack", _pack(b"{}", length=2**31)))),
    row("pack-claims-too-many-frames", "videos", ["attention", "--checkpoint", "{pre}", "--video", "{video}", "--out",
                                                  "{tmp}/a.png"], "more than its",
        setup=lambda c: setattr(c, "video", c.file("v.jpack", _pack(
            b'{"num_frames": 100000, "fps": 25, "height": 8, "width": 8}')))),
    row("attention-start-beyond-video", "videos", [*ATTENTION, "--start", "5000"], ["--start 5000", "frames"]),
    row("evaluate-every-test-video-undecodable", "videos",
        ["evaluate", "--checkpoint", "{ft}", "--dataset", "synthetic", "--root", "{root}", "--device", "cpu",
         "--num-workers", "0", "--out", "{tmp}/eval"], ["none of the 12 videos", "could be read", "pacekit info"],
        setup=lambda c: c.syn_copy(lambda r: [p.write_bytes(b"junk" * 50) for p in (r / "UCF-101").rglob("*.avi")]),
        lets=("evaluate_videos",)),
]

DAMAGED_ROWS = [
    row("checkpoint-truncated", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN],
        "is not a readable torch checkpoint", setup=lambda c: setattr(c, "ckpt", c.file("t.pt", c.ft.read_bytes()[:999]))),
    row("checkpoint-empty", "damaged", ["finetune", *TRAIN, "--pretrained", "{ckpt}"], "is not a readable torch checkpoint",
        setup=lambda c: setattr(c, "ckpt", c.file("e.pt", b""))),
    row("checkpoint-a-tensor", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN], "holds a Tensor, not a checkpoint",
        setup=lambda c: (torch.save(torch.zeros(3), c.tmp / "t.pt"), setattr(c, "ckpt", c.tmp / "t.pt"))),
    row("checkpoint-of-pretraining-to-evaluate", "damaged", ["evaluate", "--checkpoint", "{pre}", *ON_SYN],
        ["is a pretraining checkpoint", "Fine-tune it first"]),
    row("checkpoint-config-a-string", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN],
        ["edited.pt does not rebuild into the model it describes", "train it again"],
        setup=lambda c: c.checkpoint(lambda s: s.update(config="garbage"))),
    row("checkpoint-config-bad-value", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN],
        ["does not rebuild", "epochs='x'"], setup=lambda c: c.checkpoint(lambda s: s["config"].update(epochs="x"))),
    row("checkpoint-config-other-backbone", "damaged", ["retrieve", "--checkpoint", "{ckpt}", *ON_SYN],
        ["does not rebuild", "size mismatch"], setup=lambda c: c.checkpoint(lambda s: s["config"].update(backbone="r3d"))),
    row("checkpoint-classes-a-number", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN],
        ["does not rebuild", "has no len()"], setup=lambda c: c.checkpoint(lambda s: s.update(classes=3))),
    row("checkpoint-stage-unknown", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN],
        "its stage 'bogus' is neither 'pretrain' nor 'finetune'",
        setup=lambda c: c.checkpoint(lambda s: s.update(stage="bogus"))),
    row("checkpoint-weights-a-list", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN], "does not rebuild",
        setup=lambda c: c.checkpoint(lambda s: s.update(model=[1, 2]))),
    row("checkpoint-paces-damaged", "damaged", ["attention", "--checkpoint", "{ckpt}", "--video", "{avi}", "--out",
                                                "{tmp}/a.png"], ["does not rebuild", "pace 'x' is not a number"],
        setup=lambda c: c.checkpoint(lambda s: s.update(paces=["x"]), source="pre")),
    row("checkpoint-weights-nan", "damaged", ["evaluate", "--checkpoint", "{ckpt}", *ON_SYN], "NaN or infinity",
        setup=lambda c: c.checkpoint(lambda s: s["model"].update({k: v * float("nan") for k, v in s["model"].items()
                                                                   if v.is_floating_point()}))),
    row("authors-checkpoint-truncated", "damaged", ["retrieve", "--authors-checkpoint", "{ckpt}", *ON_SYN],
        "could not read", setup=lambda c: setattr(c, "ckpt", c.file("r3d.pth", c.pre.read_bytes()[:999]))),
    row("authors-checkpoint-is-pacekits", "damaged", ["retrieve", "--authors-checkpoint", "{ft}", *ON_SYN],
        "expected a state dict"),
    row("resume-every-checkpoint-damaged", "damaged", ["pretrain", *TRAIN, "--name", "r", "--resume"],
        ["no checkpoint in", "can be read", "--overwrite"],
        setup=lambda c: (_run_folder(c, "r"), c.file("runs/r/last.pt", b"garbage"))),
    row("resume-checkpoint-config-damaged", "damaged", ["pretrain", *TRAIN, "--name", "r", "--resume"],
        ["--resume: {tmp}/runs/r/last.pt does not resume this run", "--overwrite"],
        setup=lambda c: (_run_folder(c, "r"),
                         c.checkpoint(lambda s: s.update(config="garbage"), source="pre", name="runs/r/last.pt"))),
    row("resume-checkpoint-epoch-damaged", "damaged", ["pretrain", *TRAIN, "--name", "r", "--resume"],
        "does not resume this run",
        setup=lambda c: (_run_folder(c, "r"),
                         c.checkpoint(lambda s: s.update(epoch="x"), source="pre", name="runs/r/last.pt"))),
    row("synthetic-json-cut-short", "damaged", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        ["synthetic.json is damaged", "not valid JSON", SYNTHETIC_FIX],
        setup=lambda c: _synthetic_json(c, "set", b'{"format": "pacekit-synthetic", "vers')),
    row("synthetic-json-not-utf8", "damaged", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        ["synthetic.json is damaged", "not UTF-8"], setup=lambda c: _synthetic_json(c, "set", b"\xff\xfe\x00garbage")),
    row("synthetic-json-empty", "damaged", ["quickstart", "--out", "{tmp}/q", "--data", "{tmp}/set", *SMALL_PLAN],
        ["synthetic.json is damaged (empty)", SYNTHETIC_FIX], setup=lambda c: _synthetic_json(c, "set", b"")),
    row("synthetic-json-videos-wrong-shape", "damaged", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        ["synthetic.json is damaged", "videos[0] holds a number, not an object"],
        setup=lambda c: _synthetic_json(c, "set", {"format": FORMAT_NAME, "version": 4, "params": {}, "videos": [1]})),
    row("synthetic-json-lacks-params", "damaged", ["claims", "--out", "{tmp}/ledger", "--data", "{tmp}/set", *SMALL_PLAN],
        ["synthetic.json is damaged", "lacks 'params'"],
        setup=lambda c: _synthetic_json(c, "set", {"format": FORMAT_NAME, "version": 4, "videos": []})),
    row("synthetic-json-of-another-program", "damaged", ["game", "--no-browser", "--data", "{tmp}/set"],
        "is not a pacekit synthetic set description", setup=lambda c: _synthetic_json(c, "set", [1, 2])),
    row("seeds-json-cut-short", "damaged", [*CLAIMS], ["seeds.json is damaged", "not valid JSON", "--seeds"],
        setup=lambda c: c.file("ledger/seeds.json", '{"seeds": [0, 1')),
    row("seeds-json-wrong-shape", "damaged", [*CLAIMS], ["seeds.json is damaged", "its 'seeds' is a string"],
        setup=lambda c: c.file("ledger/seeds.json", '{"seeds": "0,1,2"}')),
    row("run-folder-mark-cut-short", "damaged", ["pretrain", *TRAIN, "--name", "r", "--resume"],
        ["{tmp}/runs/r/pacekit.json is damaged", "not valid JSON", "--name"],
        setup=lambda c: c.file("runs/r/pacekit.json", '{"format": "pacekit-r')),
    row("seeds-json-other-seeds", "damaged", ["claims", "--out", "{tmp}/ledger", "--data", "{tmp}/data", "--seeds", "2"],
        ["records seeds [5]", "Use the same --seeds"], setup=lambda c: c.file("ledger/seeds.json", '{"seeds": [5]}')),
]

OS_ROWS = [
    row("synthetic-write-read-only", "os", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        ["the file system is read-only", "synthetic.json"], setup=lambda c: _refuse_write_atomic(c, errno.EROFS)),
    row("synthetic-write-disk-full", "os", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        ["the disk is full", "synthetic.json", "free some space"], setup=lambda c: _refuse_write_atomic(c, errno.ENOSPC)),
    row("synthetic-write-permission-denied", "os", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        ["permission denied", "synthetic.json"], setup=lambda c: _refuse_write_atomic(c, errno.EACCES)),
    row("synthetic-write-quota", "os", ["make-synthetic", "--out", "{tmp}/set", *SMALL_SET],
        "the disk quota is exceeded", setup=lambda c: _refuse_write_atomic(c, errno.EDQUOT)),
    row("evaluate-out-read-only", "os", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--out", "{tmp}/ro/eval"],
        ["{tmp}/ro/eval", "read-only"], setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("evaluate-out-disk-full", "os", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--out", "{tmp}/full/eval"],
        ["{tmp}/full/eval", "the disk is full"],
        setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "full", errno.ENOSPC)),
    row("evaluate-out-permission-denied", "os", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--out", "{tmp}/no/eval"],
        ["{tmp}/no/eval", "permission denied", "--out"],
        setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "no", errno.EACCES)),
    row("retrieve-out-read-only", "os", ["retrieve", "--checkpoint", "{ft}", *ON_SYN, "--out", "{tmp}/ro/r"],
        "read-only", setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("attention-out-permission-denied", "os", [*ATTENTION[:-4], "--out", "{tmp}/no/a.png", "--device", "cpu"],
        "permission denied", setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "no", errno.EACCES)),
    row("pretrain-out-dir-read-only", "os", ["pretrain", *TRAIN, "--out-dir", "{tmp}/ro"],
        ["read-only", "--out-dir"], setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("finetune-out-dir-permission-denied", "os", ["finetune", *TRAIN, "--out-dir", "{tmp}/no"],
        "permission denied", setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "no", errno.EACCES)),
    row("claims-out-read-only", "os", ["claims", "--out", "{tmp}/ro/ledger", "--data", "{tmp}/data"], "read-only",
        setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("quickstart-out-disk-full", "os", ["quickstart", "--out", "{tmp}/full/q", "--data", "{tmp}/data"],
        "the disk is full", setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "full", errno.ENOSPC)),
    row("ship-weights-out-read-only", "os", ["ship-weights", "--out", "{tmp}/ro/w", "--data", "{tmp}/data"],
        "read-only", setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("prepare-out-read-only", "os", ["prepare", "--root", "{ucf}", "--out", "{tmp}/ro/p", "--workers", "1"],
        ["cannot create --out", "read-only"], setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("colab-bundle-out-read-only", "os", ["colab-bundle", "--out", "{tmp}/ro/wheel"], "read-only",
        setup=lambda c: _refuse_writes(c.monkeypatch, c.tmp / "ro", errno.EROFS)),
    row("pretrain-out-dir-below-a-file", "os", ["pretrain", *TRAIN, "--out-dir", "{FILE}/runs"],
        ["a part of the path is a file", "check the path"]),
    row("evaluate-out-is-a-file", "os", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--out", "{FILE}"],
        "{FILE} is a file; give a folder for an evaluation's results"),
    row("retrieve-out-below-a-file", "os", ["retrieve", "--checkpoint", "{ft}", *ON_SYN, "--out", "{FILE}/r"],
        "a part of the path is a file"),
    row("attention-out-below-a-file", "os", [*ATTENTION[:-4], "--out", "{FILE}/a.png", "--device", "cpu"],
        "a file is in the way of a folder"),
    row("synthetic-out-below-a-file", "os", ["make-synthetic", "--out", "{FILE}/set", *SMALL_SET],
        "a part of the path is a file"),
    row("claims-out-is-a-file", "os", ["claims", "--out", "{FILE}", "--data", "{tmp}/data"], "a file is in the way"),
    row("quickstart-out-below-a-file", "os", ["quickstart", "--out", "{FILE}/q", "--data", "{tmp}/data"],
        "a part of the path is a file"),
    row("ship-weights-out-is-a-file", "os", ["ship-weights", "--out", "{FILE}", "--data", "{tmp}/data"],
        "a file is in the way"),
    row("colab-bundle-out-below-a-file", "os", ["colab-bundle", "--out", "{FILE}/wheel"], "a part of the path is a file"),
    row("split-file-permission-denied", "os", ["info", "--dataset", "ucf101", "--root", "{root}"],
        ["classInd.txt", "permission denied", "fix its permissions"], setup=lambda c: _refuse_reading(c, "classInd.txt")),
]

DEVICE_ROWS = [
    row("device-tpu", "devices", ["pretrain", *TRAIN, "--device", "tpu"], "--device 'tpu' is not a device name"),
    row("device-xla", "devices", ["pretrain", *TRAIN, "--device", "xla"], "--device 'xla'"),
    row("device-cuda-x", "devices", ["pretrain", *TRAIN, "--device", "cuda:x"], "--device 'cuda:x' is not a device name"),
    row("device-meta", "devices", ["pretrain", *TRAIN, "--device", "meta"], "pacekit runs on cpu, cuda or mps"),
    row("device-empty", "devices", ["finetune", *TRAIN, "--device", ""], "--device '' is not a device name"),
    row("device-cuda-negative", "devices", ["pretrain", *TRAIN, "--device", "cuda:-1"], "is not a device name"),
    row("device-cuda-without-gpu", "devices", ["pretrain", *TRAIN, "--device", "cuda"],
        ["CUDA is not available", "--device cpu"], skip=_needs_no_cuda),
    row("device-cuda-9-without-gpu", "devices", ["finetune", *TRAIN, "--device", "cuda:9"], "CUDA is not available",
        skip=_needs_no_cuda),
    row("device-mps-off-mac", "devices", ["pretrain", *TRAIN, "--device", "mps"], "MPS is not available", skip=_needs_no_mps),
    row("evaluate-device-unknown", "devices", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--device", "gpu"],
        "--device 'gpu' is not a device name"),
    row("retrieve-device-unknown", "devices", ["retrieve", "--checkpoint", "{ft}", *ON_SYN, "--device", "cuda:x"],
        "--device 'cuda:x'"),
    row("attention-device-unknown", "devices", [*ATTENTION[:-2], "--device", "npu"], "--device 'npu'"),
    row("evaluate-cuda-without-gpu", "devices", ["evaluate", "--checkpoint", "{ft}", *ON_SYN, "--device", "cuda"],
        "CUDA is not available", skip=_needs_no_cuda),
    row("claims-cuda-without-gpu", "devices", ["claims", "--out", "{tmp}/ledger", "--data", "{tmp}/data", "--device", "cuda"],
        "CUDA is not available", skip=_needs_no_cuda),
]


def _refuse_write_atomic(ctx: Ctx, err: int) -> None:
    """The synthetic set's first file (its synthetic.json) meets ``err`` deep in the command."""
    def refuse(path, data):
        raise OSError(err, os.strerror(err), str(path))

    ctx.monkeypatch.setattr("pacekit.data.synthetic.writer.write_bytes_atomic", refuse)


def _refuse_reading(ctx: Ctx, name: str) -> None:
    """A copy of ``ucf`` whose ``name`` may not be read (as for another user's file)."""
    root = ctx.ucf_copy(lambda r: None)
    target = (_splits(root) / name).absolute()
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).absolute() == target:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, *args, **kwargs)

    ctx.monkeypatch.setattr("builtins.open", guarded_open)
    ctx.monkeypatch.setattr("io.open", guarded_open)


ROWS = FLAG_ROWS + PATH_ROWS + SPLIT_ROWS + VIDEO_ROWS + DAMAGED_ROWS + OS_ROWS + DEVICE_ROWS


# ---------------------------------------------------------------------------------------------- the tests


@functools.lru_cache(maxsize=None)
def _parser(build=cli.build_parser):
    """The command line's parser, built once (about 30 ms each time ``main`` builds it; it keeps no state between
    parses)."""
    return build()


def _no_work(monkeypatch, lets: tuple = ()) -> None:
    """Every command's long work but ``lets`` raises :class:`ReachedWork` (set after a row's fixtures are built)."""
    for module, name in WORK:
        if name not in lets:
            monkeypatch.setattr(f"{module}.{name}", _reached)
    monkeypatch.delenv("PACEKIT_DEBUG", raising=False)


def _words(template: str, ctx: Ctx) -> str:
    return string.Formatter().vformat(template, (), ctx)


@pytest.mark.parametrize("case", ROWS, ids=[r.id for r in ROWS])
def test_a_user_fault_is_one_line(case: Row, request, tmp_path, monkeypatch, capsys):
    if case.skip is not None and (reason := case.skip()):
        pytest.skip(reason)
    ctx = Ctx(request, tmp_path, monkeypatch)
    if case.setup is not None:
        case.setup(ctx)
    argv = [_words(str(word), ctx) for word in case.argv]  # builds the shared fixtures the row names
    before = tree_bytes(tmp_path)
    _no_work(monkeypatch, case.lets)
    monkeypatch.setattr(cli, "build_parser", _parser)
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own refusal: its usage, then one error line
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and cli.BUG_HINT not in err, err
    assert code == case.code, err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1 and lines[-1] == errors[0], f"not one error line:\n{err}"
    if not err.startswith("usage:"):  # besides argparse's usage, nothing but the error line
        assert lines == errors, f"more than the error line:\n{err}"
    for words in case.says:
        assert _words(words, ctx) in errors[0], errors[0]
    after = tree_bytes(tmp_path)
    changed = sorted(rel for rel, data in before.items() if after.get(rel) != data)
    assert not changed, f"the refused command changed or removed files it found: {changed}"


# ------------------------------------------------------------------ files pacekit reads back, read directly
# Every JSON file pacekit writes and reads back goes through pacekit.atomic.read_json: a damaged one is a
# DamagedFileError naming the file and the fix, or, for a cache, a logged warning and a recomputation.


def _experiment_json(**changes) -> str:
    values = {"schema_version": 1, "out": "x", "config": {}, "inits": ["pretrained"], "protocols": [], "seeds": [0],
              "outcomes": [], "pretext_accuracy": 0.5, "pretext_train_accuracy": 0.6, "pretrained": None,
              "pretext_by_class": None, "labelled_pretext_accuracy": None, "labelled_pretext_by_class": None,
              "retrieval": {}, "seconds": {"total": 1.0}, "attention": {}, "attention_scores": {},
              "attention_stage": None, "retrieval_skipped": {}}
    return json.dumps({**values, **changes})


def _outcome(**changes) -> dict:
    return {"init": "random", "protocol": "fine-tuned", "seed": 0, "top1": 0.5, "top5": 1.0, "train_accuracy": 0.9,
            "predicted_counts": [1, 1], "label_counts": [1, 1], "num_evaluated": 2, "num_listed": 2, "run_dir": "r",
            **changes}


def _read_experiment(path):
    from pacekit.study.experiment import ExperimentResult

    return ExperimentResult.from_json(path)


def _read_metrics(path):
    from pacekit.training.logging import read_metrics

    return read_metrics(path)


def _read_record(path):
    from pacekit.teaching.shipped import shipped_record

    return shipped_record(path.parent)


def _read_masks(path):
    from pacekit.data.synthetic import load_mover_masks

    return load_mover_masks(path.with_name("v.avi"))


def _read_seeds(path):
    from pacekit.study.claims import check_seeds

    return check_seeds(path.parent, [0])


def _read_synthetic(path):
    from pacekit.data.synthetic import read_synthetic_metadata

    return read_synthetic_metadata(path.parent)


#: (id, file name, its damaged contents, reader, words of the DamagedFileError).
READ_BACK = [
    ("experiment-cut-short", "experiment.json", _experiment_json()[:40], _read_experiment,
     ["experiment.json is damaged", "not valid JSON", "run the experiment again"]),
    ("experiment-an-array", "experiment.json", "[]", _read_experiment, "it holds an array, not an object"),
    ("experiment-lacks-config", "experiment.json", json.dumps({"out": "x"}), _read_experiment, "it lacks 'config'"),
    ("experiment-accuracy-a-string", "experiment.json", _experiment_json(pretext_accuracy="0.9"), _read_experiment,
     "its 'pretext_accuracy' is a string, not a number or null"),
    ("experiment-outcome-top1-a-string", "experiment.json", _experiment_json(outcomes=[_outcome(top1="high")]),
     _read_experiment, "outcomes[0]'s 'top1' is a string"),
    ("experiment-outcome-lacks-fields", "experiment.json", _experiment_json(outcomes=[{"init": "random"}]),
     _read_experiment, "not an experiment's results: TypeError"),
    ("experiment-lacks-a-field", "experiment.json",
     json.dumps({k: v for k, v in json.loads(_experiment_json()).items() if k != "retrieval_skipped"}),
     _read_experiment, "it lacks 'retrieval_skipped'"),
    ("experiment-newer-layout", "experiment.json", _experiment_json(schema_version=2), _read_experiment,
     ["holds results of layout version 2", "reads version 1", "a newer pacekit", "run the experiment again"]),
    ("experiment-layout-a-string", "experiment.json", _experiment_json(schema_version="1"), _read_experiment,
     "its 'schema_version' is a string, not a number"),
    ("seeds-newer-layout", "ledger/seeds.json", json.dumps({"schema_version": 7, "seeds": [0]}), _read_seeds,
     ["layout version 7", "--seeds"]),
    ("metrics-line-cut-short", "run/metrics.jsonl", '{"epoch": 1, "loss": 1.0}\n{"epoch": 2, "lo', _read_metrics,
     ["metrics.jsonl is damaged (line 2: not valid JSON", "load_checkpoint"]),
    ("metrics-line-an-array", "run/metrics.jsonl", '{"epoch": 1}\n[1, 2]\n', _read_metrics,
     "line 2 holds an array, not an object"),
    ("shipped-record-cut-short", "w/cpu_tiny_pace.json", '{"sha256": "ab', _read_record,
     ["cpu_tiny_pace.json is damaged", "pacekit ship-weights --overwrite"]),
    ("shipped-record-lacks-sha256", "w/cpu_tiny_pace.json", json.dumps({"config": {}}), _read_record, "lacks 'sha256'"),
    ("shipped-record-accuracy-true", "w/cpu_tiny_pace.json",
     json.dumps({"sha256": "ab", "config": {}, "synthetic": {}, "pretext_accuracy": True, "preset": "cpu-tiny",
                 "seed": 0}), _read_record, "its 'pretext_accuracy' is true or false, not a number"),
    ("mover-masks-damaged", "set/v.masks.npz", b"PK\x03\x04 not a zip at all", _read_masks,
     ["v.masks.npz is damaged", "make-synthetic"]),
    ("seeds-not-utf8", "ledger/seeds.json", b'{"seeds": [\xff]}', _read_seeds, "not UTF-8 text"),
    ("synthetic-class-lacks-name", "set/synthetic.json",
     json.dumps({"format": FORMAT_NAME, "version": 4, "params": {}, "videos": [], "classes": [{"speed_range": [1]}]}),
     _read_synthetic, ["lacks 'name'", SYNTHETIC_FIX]),
]


@pytest.mark.parametrize("name,contents,reader,says", [r[1:] for r in READ_BACK], ids=[r[0] for r in READ_BACK])
def test_a_damaged_file_read_back_is_named_with_its_fix(tmp_path, name, contents, reader, says):
    from pacekit.errors import DamagedFileError, PacekitError

    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    if name.startswith("w/"):  # the record is read only beside its checkpoint
        (path.parent / "cpu_tiny_pace.pt").write_bytes(b"weights")
    with pytest.raises(DamagedFileError) as caught:
        reader(path)
    message = str(caught.value)
    assert isinstance(caught.value, PacekitError) and isinstance(caught.value, ValueError)
    assert str(path) in message and "\n" not in message
    for words in [says] if isinstance(says, str) else says:
        assert words in message, message


CELL = {"identity": {"init": "random"}, "metrics": {"fine-tuned": {"value": 0.5, "chance": 0.25}}, "seconds": 3.0}

#: (id, damaged cell.json contents): each is read as no cell, with a warning, and the cell is computed again.
DAMAGED_CELLS = [
    ("cut-short", json.dumps(CELL)[:30]),
    ("empty", ""),
    ("an-array", "[]"),
    ("metrics-a-list", json.dumps({**CELL, "metrics": [0.5]})),
    ("value-a-string", json.dumps({**CELL, "metrics": {"fine-tuned": {"value": "0.5"}}})),
    ("metric-a-number", json.dumps({**CELL, "metrics": {"fine-tuned": 0.5}})),
    ("lacks-its-seconds", json.dumps({k: v for k, v in CELL.items() if k != "seconds"})),
    ("newer-layout", json.dumps({"schema_version": 2, **CELL})),
]


@pytest.mark.parametrize("contents", [c for _, c in DAMAGED_CELLS], ids=[i for i, _ in DAMAGED_CELLS])
def test_a_damaged_cell_is_computed_again_with_a_warning(tmp_path, caplog, contents):
    from pacekit.study.claims.cells import saved_cell

    cell = tmp_path / "cell.json"
    cell.write_text(json.dumps(CELL))
    assert saved_cell(cell, CELL["identity"]) == CELL["metrics"]  # an intact cell is read back as before
    cell.write_text(contents)
    with caplog.at_level("WARNING", logger="pacekit.study.claims"):
        assert saved_cell(cell, CELL["identity"]) is None
    assert f"{cell} is damaged" in caplog.text or f"{cell} holds results of layout version 2" in caplog.text
    assert "computing the cell again" in caplog.text


def test_a_damaged_pretraining_result_is_computed_again_with_a_warning(tmp_path, caplog):
    from pacekit.config import get_config
    from pacekit.study.claims.cells import saved_pretraining

    (tmp_path / "experiment.json").write_text(_experiment_json(outcomes={"not": "a list"}))
    with caplog.at_level("WARNING", logger="pacekit.study.claims"):
        assert saved_pretraining(tmp_path, get_config("claims")) is None
    assert "computing the pretraining's results again" in caplog.text and "experiment.json is damaged" in caplog.text


# ------------------------------------------------------------------------------------------- the count


def test_the_corpus_counts_at_least_100_faults_in_every_category():
    """The rows per category (flags, paths, splits, videos, damaged, os, devices): at least 100 in all."""
    counts = Counter(r.category for r in ROWS)
    assert set(counts) == set(CATEGORIES), counts
    assert all(counts[c] >= 5 for c in CATEGORIES), counts
    assert len({r.id for r in ROWS}) == len(ROWS), "row ids must be unique"
    assert sum(counts.values()) >= 100, counts

"""One configuration for pretraining, fine-tuning and the quickstart: a dataclass with the paper's defaults.

Every field declares its facts once, in ``field(metadata=...)`` (see :func:`option`): its help text, its
group (data, model, pretraining, fine-tuning, system), the paper's value where the paper states one, and
whether the notebooks' run-reuse check compares it. Everything else is derived from them: the CLI flags
and their ``--help`` (:mod:`pacekit.commands.config_flags`), the reuse check's field lists
(:func:`field_names`, used by :mod:`pacekit.teaching.notebook`) and the paper's values (:func:`paper_values`).
The losses and heads own their defaults (:mod:`pacekit.losses`, :mod:`pacekit.models.heads`); the fields
read them. Notebooks build a :class:`Config` with :func:`get_config`; the CLI builds the same object from
its flags, so both run exactly the same training.

    >>> cfg = get_config("cpu-tiny", epochs=2)
    >>> cfg.backbone, cfg.epochs
    ('tiny-fine', 2)
    >>> config_default("batch_size"), paper_values()["batch_size"]
    (30, 30)

Presets:

- ``paper``: the fields' defaults -- the paper's R(2+1)D, 16x112x112 clips and schedule (Sec. 4.1), with
  pace prediction alone (no contrastive branch, the setting of the paper's Table 1 and Fig. 4).
  :func:`paper_values` lists every value the paper states; where it is silent, a field's help says what
  pacekit chose and why.
- ``cpu-tiny``: the quickstart on a laptop CPU -- the ``tiny-fine`` backbone (``tiny`` with conv5 at 7x7),
  the paper's 16-frame clips at 56x56, the built-in synthetic dataset, standardised RGB frames with the paper's
  per-frame colour jitter, AdamW, channels_last_3d; minutes on 2 cores.
- ``claims``: the cpu-tiny recipe on 8-frame clips with 15 pretraining epochs (cpu-tiny's: 36), for ``pacekit claims``'
  many runs.
- ``gpu-demo``: the cpu-tiny data recipe with the paper's SGD, network (R(2+1)D), clip size and batch on a
  larger synthetic set, for one GPU (bf16, channels_last_3d). It has not been run on a GPU yet.

Fine-tuning: the paper says only that the "training strategy [is] the same as the self-supervised
pre-training stage" except the learning rate, so pacekit fine-tunes with the pretraining schedule at the
paper's fine-tuning lr (the ``ft_*`` fields).
"""

from __future__ import annotations

import dataclasses
import filecmp
import os
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .data.readers import BACKENDS
from .data.splits import DATASETS
from .data.transforms import INPUT_MODES
from .errors import PacekitError
from .losses import DEFAULT_NORMALIZE, DEFAULT_TEMPERATURE, LAMBDA_CLS, LAMBDA_CTR
from .models.heads import DEFAULT_PROJ_DIM, PROJECTIONS
from .pace import START_POLICIES, WRAP_MODES


class ConfigError(PacekitError, ValueError):
    """A config value, field, group or preset that is not one pacekit knows; says which are.

    ``field`` names the offending Config field where there is one (None otherwise), so the command line
    can name its ``--flag`` (:func:`pacekit.commands.config_flags.config_from_args`); ``expected`` says what the field accepts.
    """

    def __init__(self, message: str, field: Optional[str] = None, expected: Optional[str] = None):
        super().__init__(message)
        self.field, self.expected = field, expected


#: Datasets whose pretraining epoch passes the train list ``epoch_repeat`` times by default: the paper sets
#: "epoch size to be around 90k" for UCF101 only (Sec. 4.1: ~9k train videos x 10); on K-400 it samples
#: one clip per video per epoch. Any other dataset defaults to 1 (see :func:`default_epoch_repeat`).
EPOCH_REPEAT_DEFAULTS = {"ucf101": 10}


CONTRASTIVE = ("none", "context", "pace")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
JITTERS = ("frame", "clip", None)
OPTIMIZERS = ("sgd", "adamw")

#: The paper's initial fine-tuning lr (Sec. 4.1): 0.01 for S3D-G, 3e-3 for the other networks.
PAPER_FT_LR, PAPER_FT_LR_S3D_G = 3e-3, 1e-2

#: The groups of the fields. ``system``: where and how a run executes, under which name and seed; of those,
#: only the seed changes what a run learns (see ``compared`` in :func:`option`).
GROUPS = ("data", "model", "pretraining", "fine-tuning", "system")

_SILENT = object()  # the paper states no value


def option(default: Any, group: str, help: str, paper: Any = _SILENT, compared: Optional[bool] = None,
           path: bool = False):
    """A :class:`Config` field with its facts in ``metadata``: ``help``, ``group``, ``paper``, ``compared``, ``path``.

    Args:
        default: the field's default (the ``paper`` preset's value).
        group: one of :data:`GROUPS`.
        help: what the field does, for ``--help`` and readers of this file.
        paper: the value the paper states (Sec. 4.1 unless the help says otherwise), or a short text where
            the paper gives a rule rather than one value; leave it out where the paper is silent.
        compared: whether the notebooks' run-reuse check compares the field (a finished run is reused only
            when every compared field matches). Default: every field outside the ``system`` group.
        path: the field names a file or folder, compared by what it resolves to, not how it was typed
            (:func:`comparable`).
    """
    if group not in GROUPS:
        raise ConfigError(f"config group {group!r} is not one of {GROUPS}")
    metadata = {"help": help, "group": group, "compared": group != "system" if compared is None else compared,
                "path": path}
    if paper is not _SILENT:
        metadata["paper"] = paper
    return dataclasses.field(default=default, metadata=metadata)


@dataclass
class Config:
    """Every knob of a pacekit training run; each field's metadata holds its help and the paper's value."""

    # --- run ------------------------------------------------------------------------------------
    name: str = option("pace", "system", "run folder <out_dir>/<name>: checkpoints, metrics.jsonl, figures")
    out_dir: str = option("runs", "system", "folder that holds the run folders")
    seed: int = option(0, "system", "model init, sampler order, clip draws and augmentation all derive from it",
                       compared=True)  # it changes what a run learns

    # --- data -----------------------------------------------------------------------------------
    dataset: str = option("ucf101", "data", f"{', '.join(DATASETS)}; the paper pretrains on UCF101 train split 1 "
                          "(or on K-400)", paper="ucf101")
    root: str = option("data/ucf101", "data", "dataset folder (original or `pacekit prepare`d)", path=True)
    split: int = option(1, "data", "train/test split of UCF101 or HMDB51", paper=1)
    max_videos: Optional[int] = option(None, "data", "keep this many videos of each list, evenly spread "
                                       "(quick runs); none = all")
    frame_size: tuple = option((128, 171), "data", "height,width that frames are resized to before the crop; "
                               "the paper is silent, 128,171 is C3D's size for 112x112 crops")
    clip_len: int = option(16, "data", "frames per clip", paper=16)
    crop: int = option(112, "data", "random crop size for training, centre crop at test time", paper=112)
    epoch_repeat: Optional[int] = option(None, "data", "a pretraining epoch passes each train video this many "
                                         "times; none = the paper's choice for the dataset: 10 for UCF101 (its "
                                         "epoch is ~90k clips from ~9k videos, for temporal jittering), 1 for "
                                         "K-400 (one clip per video) and every other dataset",
                                         paper="10 on UCF101, 1 on K-400")
    pace_set: str = option("relative", "data", 'pace candidates: "relative" = {1, 2, 3, 4} (the paper\'s best, '
                           'Table 1), "absolute" = {1/3, 1/2, 1, 2, 3}, or a list like 1,2,3', paper="relative")
    start_policy: str = option("fit", "data", '"fit": a random start where the whole clip fits, so a clip loops '
                               'only when it is longer than the video (as Sec. 3.1 words it); "any": any '
                               "start, looping past the end (the authors' code)")
    wrap: str = option("modulo", "data", 'a clip past the video\'s end: "modulo" loops over the video as if it '
                       'repeated (the paper); "restart": jumps back to frame 0 (the authors\' code)',
                       paper="modulo")
    slow_fill: str = option("repeat", "data", 'blank frames of slow paces (p < 1): "repeat" the preceding frame '
                            '(the paper) or "interpolate" its neighbours', paper="repeat")
    jitter: Optional[str] = option("frame", "data", 'colour jitter "frame" (per frame, found better than per '
                                   'clip in Sec. 3.1), "clip" or none', paper="frame")
    input_mode: str = option("rgb", "data", '"rgb" clips (the paper), "residual" (each clip minus its mean '
                             'frame) or "standardized" (each frame scaled to mean 0, std 1 per channel); see '
                             "pacekit.data.transforms", paper="rgb")
    backend: str = option("auto", "data", 'video reader: "auto"/"pyav" (exact on every container), "decord", or '
                          '"memory" (PyAV, each video decoded once and kept in memory per process: for small sets '
                          "such as the synthetic one)")
    synthetic_classes: int = option(10, "data", "synthetic dataset only: action classes it is generated with")
    synthetic_videos: int = option(40, "data", "synthetic dataset only: videos per class (half train, half test)")

    # --- model, and the pretraining objective (Eq. 2-4) -----------------------------------------
    backbone: str = option("r21d", "model", "network, one of pacekit.models.list_backbones(): r21d is the paper's "
                           "main network, R(2+1)D with 14.4M parameters; tiny is for CPU runs", paper="r21d")
    width: float = option(1.0, "model", "channel multiplier (1.0 = the paper's networks)", paper=1.0)
    contrastive: str = option("none", "pretraining", 'contrastive term of Eq. 4: "none" (pace prediction alone), '
                              '"context" (same context, Eq. 2: the paper\'s best, Table 2) or "pace" (same pace, '
                              "Eq. 3)", paper="context")
    projection: Optional[str] = option(None, "model", 'the contrastive space: none = the embedding, "linear", or '
                                       '"mlp" (an fc + ReLU first: the paper\'s "+ fc", Table 2\'s best)',
                                       paper="mlp")
    proj_dim: int = option(DEFAULT_PROJ_DIM, "model", "size of the projection's output; the paper does not give it")
    temperature: float = option(DEFAULT_TEMPERATURE, "pretraining", "sim(z_i, z_j) = u_i.u_j / temperature in Eq. 2/3; the "
                                "paper's plain dot product is temperature 1 with --no-normalize", paper=1.0)
    normalize: bool = option(DEFAULT_NORMALIZE, "pretraining", "L2-normalise z before the similarity (cosine); the paper "
                             "uses the raw dot product", paper=False)
    lambda_cls: float = option(LAMBDA_CLS, "pretraining", "weight of the pace loss in Eq. 4", paper=1.0)
    lambda_ctr: float = option(LAMBDA_CTR, "pretraining", "weight of the contrastive loss in Eq. 4", paper=0.1)

    # --- pretraining ----------------------------------------------------------------------------
    epochs: int = option(18, "pretraining", "pretraining epochs", paper=18)
    batch_size: int = option(30, "pretraining", 'videos per step (two clips each with contrastive="context"; '
                             "the paper's \"batch size is 30\" does not say whether it counts the N videos or the "
                             "n x N clips of Sec. 3.2, pacekit reads it as videos). Under torchrun it is per process: N GPUs train with a global batch of N x "
                             "batch_size at the same lr, and the negatives of Eq. 2/3 come from each "
                             "process's own batch", paper=30)
    lr: float = option(1e-3, "pretraining", "initial pretraining learning rate", paper=1e-3)
    optimizer: str = option("sgd", "pretraining", '"sgd" or "adamw" (which ignores momentum), for both stages',
                            paper="sgd")
    momentum: float = option(0.9, "pretraining", "SGD momentum, both stages; the paper is silent, the authors' "
                             "code uses 0.9")
    weight_decay: float = option(5e-3, "pretraining", "weight decay, both stages; the paper is silent, the "
                                 "authors' code uses 5e-3")
    lr_step: int = option(6, "pretraining", "multiply the lr by lr_gamma every lr_step epochs", paper=6)
    lr_gamma: float = option(0.1, "pretraining", "lr factor of each step, both stages (the paper divides by 10)",
                             paper=0.1)

    # --- fine-tuning (paper: "the same as pretraining" except the lr) -------------------------------
    pretrained: Optional[str] = option(None, "fine-tuning", "checkpoint whose backbone.* is fine-tuned; none = "
                                       "random init", path=True)
    ft_epochs: int = option(18, "fine-tuning", "fine-tuning epochs (as pretraining in the paper)", paper=18)
    ft_batch_size: int = option(30, "fine-tuning", "fine-tuning videos per step (as pretraining in the paper)",
                                paper=30)
    ft_lr: Optional[float] = option(None, "fine-tuning", "initial fine-tuning lr; none = the paper's value for "
                                    "the backbone", paper=f"{PAPER_FT_LR:g}, {PAPER_FT_LR_S3D_G:g} for S3D-G")
    probe_lr: float = option(0.01, "fine-tuning", "lr of the linear probe (frozen backbone, only the fc "
                             "learns); the paper has no linear probe")
    probe_steps: int = option(1000, "fine-tuning", "full-batch steps of the linear probe's classifier on its "
                              "cached clip features")
    ft_lr_step: int = option(6, "fine-tuning", "multiply the fine-tuning lr by lr_gamma every ft_lr_step epochs "
                             "(as pretraining in the paper)", paper=6)
    ft_epoch_repeat: int = option(10, "fine-tuning", "a fine-tuning epoch passes each labelled train video this "
                                  "many times (as pretraining in the paper)", paper=10)
    labels_per_class: Optional[int] = option(None, "fine-tuning", "fine-tune on this many labelled videos per "
                                             "class; none = all", paper=None)
    freeze_backbone: bool = option(False, "fine-tuning", "linear probe: frozen backbone in eval mode, only the "
                                   "new fc trains (the paper fine-tunes the whole network)", paper=False)
    num_clips: int = option(10, "fine-tuning", "clips per test video, softmax averaged", paper=10)
    eval_batch_size: int = option(8, "fine-tuning", "test videos per evaluation batch (each holds num_clips "
                                  "clips)", compared=False)  # memory only: the scores do not depend on it

    # --- system ---------------------------------------------------------------------------------
    device: str = option("auto", "system", '"auto" = CUDA when present, else CPU; or "cpu", "cuda", "cuda:1"')
    num_workers: int = option(8, "system", "loader processes per GPU/process; they only decode (none "
                                   "with the memory backend: pacekit.training.data.train_workers)")
    threads: Optional[int] = option(None, "system", "CPU training: torch threads per process; none = free cores "
                                    "(cores - workers)")
    precision: str = option("auto", "system", '"auto" = bf16 autocast on a CUDA GPU that supports it, else '
                            'fp16 autocast with a gradient scaler (e.g. a T4), fp32 on the CPU; or "bf16", '
                            '"fp16", "fp32"')
    channels_last: Optional[bool] = option(None, "system", "channels_last_3d memory format; none = on for CUDA")
    compile: bool = option(False, "system", "torch.compile the model (CUDA; minutes of warm-up)")
    log_every: int = option(20, "system", "steps between metric reads (the only host syncs of a step loop)")
    progress: bool = option(True, "system", "tqdm progress bar (notebook-aware)")
    resume: bool = option(False, "system", "continue from the run folder's latest checkpoint")

    def __post_init__(self) -> None:
        if self.epoch_repeat is None:
            self.epoch_repeat = default_epoch_repeat(self.dataset)
        validate(self)

    @property
    def run_dir(self) -> str:
        return f"{self.out_dir}/{self.name}"

    @property
    def finetune_lr(self) -> float:
        """``ft_lr``, or the paper's fine-tuning lr for the backbone: 0.01 for S3D-G, 3e-3 otherwise."""
        if self.ft_lr is not None:
            return self.ft_lr
        return PAPER_FT_LR_S3D_G if self.backbone == "s3d_g" else PAPER_FT_LR

    @property
    def clips_per_video(self) -> int:
        """Two clips per video at different paces for the same-context loss (Eq. 2), else one."""
        return 2 if self.contrastive == "context" else 1

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed (validated).

        A new ``dataset`` without an ``epoch_repeat`` takes the new dataset's default repeat when this config's
        repeat was its own dataset's default (UCF101's x10 does not follow a switch to Kinetics-400)."""
        if ("dataset" in changes and "epoch_repeat" not in changes
                and self.epoch_repeat == default_epoch_repeat(self.dataset)):
            changes["epoch_repeat"] = None
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the fields (stored in checkpoints; loads with ``weights_only=True``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Config":
        """Inverse of :meth:`to_dict`. Keys this version does not know are dropped with a warning."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            warnings.warn(f"ignoring config keys this pacekit version does not know: {unknown}", stacklevel=2)
        kept = {k: v for k, v in values.items() if k in known}
        if "frame_size" in kept and kept["frame_size"] is not None:
            kept["frame_size"] = tuple(int(v) for v in kept["frame_size"])
        return cls(**kept)


def default_epoch_repeat(dataset: str) -> int:
    """The pretraining ``epoch_repeat`` a dataset gets when none is set: 10 for UCF101, else 1."""
    return EPOCH_REPEAT_DEFAULTS.get(dataset, 1)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def validate(cfg: Config) -> None:
    """Raise ValueError naming the field, its value and the allowed values when a field is invalid."""

    def check(name: str, ok: bool, expected: str) -> None:
        if not ok:
            raise ConfigError(f"config field {name}={getattr(cfg, name)!r} is invalid: expected {expected}",
                              field=name, expected=expected)

    def number(name: str) -> bool:
        value = getattr(cfg, name)
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    check("contrastive", cfg.contrastive in CONTRASTIVE, f"one of {CONTRASTIVE}")
    check("projection", cfg.projection in PROJECTIONS, "none, 'linear' or 'mlp'")
    check("precision", cfg.precision in PRECISIONS, f"one of {PRECISIONS}")
    check("jitter", cfg.jitter in JITTERS, "'frame', 'clip' or none")
    check("input_mode", cfg.input_mode in INPUT_MODES, f"one of {INPUT_MODES}")
    check("backend", cfg.backend in BACKENDS, f"one of {BACKENDS}")
    check("start_policy", cfg.start_policy in START_POLICIES, f"one of {START_POLICIES}")
    check("wrap", cfg.wrap in WRAP_MODES, f"one of {WRAP_MODES}")
    check("optimizer", cfg.optimizer in OPTIMIZERS, f"one of {OPTIMIZERS}")
    for name in ("epochs", "batch_size", "clip_len", "crop", "epoch_repeat", "lr_step", "ft_epochs",
                 "ft_batch_size", "ft_lr_step", "ft_epoch_repeat", "probe_steps", "num_clips", "eval_batch_size",
                 "log_every", "proj_dim", "synthetic_classes", "synthetic_videos"):
        check(name, isinstance(getattr(cfg, name), int) and getattr(cfg, name) >= 1, "an integer >= 1")
    for name in ("max_videos", "labels_per_class"):
        value = getattr(cfg, name)
        check(name, value is None or (isinstance(value, int) and value >= 1), "none or an integer >= 1")
    for name in ("lr", "temperature", "width", "probe_lr"):
        check(name, number(name) and getattr(cfg, name) > 0, "a positive number")
    check("ft_lr", cfg.ft_lr is None or cfg.ft_lr > 0, "none or a positive number")
    for name in ("weight_decay", "lambda_cls", "lambda_ctr"):
        check(name, number(name) and getattr(cfg, name) >= 0, "a number >= 0")
    check("momentum", number("momentum") and 0 <= cfg.momentum < 1, "a number in [0, 1), e.g. 0.9")
    check("lr_gamma", number("lr_gamma") and 0 < cfg.lr_gamma <= 1, "a number in (0, 1], e.g. 0.1")
    check("seed", isinstance(cfg.seed, int) and cfg.seed >= 0, "an integer >= 0")
    check("split", isinstance(cfg.split, int) and cfg.split >= 1, "an integer >= 1 (UCF101, HMDB51: 1-3)")
    check("num_workers", isinstance(cfg.num_workers, int) and cfg.num_workers >= 0, "an integer >= 0")
    check("threads", cfg.threads is None or cfg.threads >= 1, "none or an integer >= 1")
    check("frame_size", cfg.frame_size is None or (len(cfg.frame_size) == 2 and min(cfg.frame_size) >= 1),
          "(height, width), e.g. 128,171")
    if cfg.frame_size is not None and min(cfg.frame_size) < cfg.crop:
        raise ConfigError(
            f"config frame_size={tuple(cfg.frame_size)} is smaller than crop={cfg.crop}; frames are resized "
            "to frame_size and then cropped, so make frame_size at least the crop (defaults: 128,171 and 112)"
        )


# -------------------------------------------------------------------------------------- field facts

_FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def config_field(name: str) -> dataclasses.Field:
    if name not in _FIELDS:
        raise KeyError(f"{name!r} is not a pacekit.config.Config field")
    return _FIELDS[name]


def config_default(name: str) -> Any:
    """The default of Config field ``name`` (the ``paper`` preset's value), e.g. ``config_default("lr")``."""
    return config_field(name).default


def paper_values() -> dict[str, Any]:
    """``{field: the paper's value}`` for the fields whose value the paper states; the others are absent."""
    return {name: f.metadata["paper"] for name, f in _FIELDS.items() if "paper" in f.metadata}


def field_names(group: Optional[str] = None, compared: Optional[bool] = None) -> tuple[str, ...]:
    """The Config fields of ``group`` (any group when None) whose ``compared`` flag is ``compared`` (either
    when None), in declaration order. ``field_names(compared=False)`` are the fields the run-reuse check
    ignores."""
    if group is not None and group not in GROUPS:
        raise ConfigError(f"unknown config group {group!r}; choose one of {GROUPS}")
    return tuple(name for name, f in _FIELDS.items()
                 if (group is None or f.metadata["group"] == group)
                 and (compared is None or f.metadata["compared"] == compared))


#: The fields a stage does not read: a pretraining run ignores the fine-tuning group, and the reverse.
_OTHER_STAGE_GROUP = {"pretrain": "fine-tuning", "finetune": "pretraining"}


def comparable(name: str, value: Any) -> Any:
    """Field ``name``'s ``value`` as the same-run rule compares it: a path field (``root``, ``pretrained``) as the
    absolute path it resolves to now, symbolic links followed (``data/synthetic``, ``./data/synthetic/``, its
    absolute path and a link to it are one folder); any other field as a plain value (a tuple as a list)."""
    field = _FIELDS.get(name)
    if field is not None and field.metadata["path"] and isinstance(value, (str, os.PathLike)) and str(value):
        return os.path.realpath(os.path.expanduser(os.fspath(value)))
    return _plain(value)


def comparable_config(values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a recorded config (:meth:`Config.to_dict`) that change what a run learns
    (``field_names(compared=True)``), each as the same-run rule compares it (:func:`comparable`): two configs of
    the same run give equal dicts, for a cache keyed by a whole config (a claims cell)."""
    ignored = set(field_names(compared=False))
    return {k: comparable(k, v) for k, v in values.items() if k not in ignored}


def run_differences(stored: Mapping[str, Any], cfg: "Config", stage: Optional[str] = None) -> list[str]:
    """pacekit's one rule for "the same run", used to reuse a finished run, to resume one and to read back a
    cached result: the fields whose value recorded in ``stored`` (a run's config as :meth:`Config.to_dict`
    wrote it) differs from ``cfg``'s, among those that change what a run learns (``field_names(compared=True)``:
    never workers, device, logging or the run's name). A path field compares the file or folder it resolves to,
    not how it was typed (:func:`comparable`), and the checkpoint a run starts from (``pretrained``) counts as the
    same when the two paths hold the same bytes (a copied ledger or run folder). A ``"pretrain"`` run leaves out the
    fine-tuning group and a ``"finetune"`` run the pretraining group, which that stage does not read. A field
    ``stored`` lacks (a run recorded before the field existed) counts as equal. Sorted by name."""
    if stage is not None and stage not in _OTHER_STAGE_GROUP:
        raise ValueError(f"stage must be 'pretrain', 'finetune' or None, got {stage!r}")
    if not isinstance(stored, Mapping):  # a damaged record: the caller names the file
        raise TypeError(f"a run's recorded config must be a mapping of fields, got {type(stored).__name__}")
    ignored = set(field_names(compared=False))
    if stage is not None:
        ignored |= set(field_names(_OTHER_STAGE_GROUP[stage]))
    wanted = cfg.to_dict()
    return sorted(k for k, v in wanted.items() if k not in ignored and k in stored and not _same(k, stored[k], v))


#: Fields naming a file whose content, not its place, is what a run reads: the same bytes elsewhere are the same.
_CONTENT_FIELDS = ("pretrained",)


def _same(name: str, stored: Any, value: Any) -> bool:
    """Whether field ``name`` recorded as ``stored`` equals ``value`` under the same-run rule."""
    a, b = comparable(name, stored), comparable(name, value)
    if a == b:
        return True
    return (name in _CONTENT_FIELDS and isinstance(a, str) and isinstance(b, str) and os.path.isfile(a)
            and os.path.isfile(b) and filecmp.cmp(a, b, shallow=False))


# ------------------------------------------------------------------------------------------ presets

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # `pacekit quickstart` (pretraining, 5 seeds x 4 transfer runs, two all-label probes, their evaluations) in
    # under 10 minutes on a 2-core CPU. The paper's per-frame colour jitter on RGB clips, each frame standardised
    # (input_mode="standardized", a stated departure: plain RGB sat at pace chance for hundreds of steps on 2
    # cores). AdamW (lr 6e-3, weight decay 0.05, batch 32) instead of the paper's SGD at 1e-3, a second stated
    # departure: in the same minutes SGD left the tiny network near 50% pace accuracy (docs/lab-notebook.md).
    # The tiny-fine backbone keeps conv5 at Fig. 5's 7x7 on the 56-pixel crops, so the attention is read where the
    # paper reads it (docs/paper-vs-code.md). 16 frames per clip (the paper's) and 36 epochs: the pace of unseen videos
    # is read right on 89.5% of clips over ten seeds (docs/quickstart_seeds_v6_probe.md; what was tried before, in
    # docs/results.md and docs/lab-notebook.md).
    # channels_last_3d: 1.24x the CPU step with its data (docs/performance.md).
    "cpu-tiny": dict(
        name="quickstart", dataset="synthetic", root="data/synthetic", synthetic_classes=10,
        synthetic_videos=40, frame_size=(64, 85), clip_len=16, crop=56, jitter="frame", input_mode="standardized",
        backend="memory", epoch_repeat=8, backbone="tiny-fine", epochs=36, batch_size=32, optimizer="adamw", lr=6e-3,
        weight_decay=0.05, lr_step=30,
        ft_epochs=10, ft_batch_size=10, ft_lr=3e-3, ft_lr_step=7, ft_epoch_repeat=5, labels_per_class=4,
        # num_workers: no effect with the memory backend (training and evaluation load in-process)
        eval_batch_size=8, num_workers=1, log_every=10, device="cpu", channels_last=True,
    ),
    # The cpu-tiny data recipe (standardised RGB with per-frame jitter) with the paper's SGD, network, clip size and
    # batch, on the default synthetic set. Not yet run on a GPU (no device in its session).
    "gpu-demo": dict(
        name="gpu-demo", dataset="synthetic", root="data/synthetic", synthetic_classes=10,
        synthetic_videos=40, jitter="frame", input_mode="standardized", epoch_repeat=10,
        epochs=12, lr_step=8, ft_epochs=10, ft_lr=3e-3, ft_lr_step=7, ft_epoch_repeat=5, labels_per_class=4,
        num_workers=8,
    ),
    # ucf101-mini (pacekit.data.subsets: ten classes of UCF101 split 1, prepared) on a Colab T4: fp16 (a T4 has
    # no bf16), the paper's network, clip, batch and SGD, with a shorter schedule sized by pacekit.study.estimate
    # so that one pretraining and the fine-tunings from pretrained and random init fit in about an hour.
    "colab-t4": dict(
        name="colab-t4", dataset="ucf101", root="data/ucf101_mini_prepared",
        epoch_repeat=5, epochs=12, lr_step=8, ft_epochs=12, ft_lr_step=8, ft_epoch_repeat=2,
        precision="fp16", num_workers=2, device="cuda", resume=True,
    ),
}
# `pacekit claims`: the cpu-tiny recipe with 15 pretraining epochs (the lr divided by 10 for the last 3; cpu-tiny: 36):
# the ledger pretrains many configs x seeds. It keeps the 8-frame clips and the default memory format its committed
# ledger (docs/claims_v6.md) and the shipped R(2+1)D were computed with, so a rerun gives their numbers.
# The ledger runs its cells side by side, one torch thread each (pacekit.study.claims.default_jobs; the measured
# gain is in docs/performance.md).
PRESETS["claims"] = {**PRESETS["cpu-tiny"], "name": "claims", "epochs": 15, "lr_step": 12, "threads": 1, "clip_len": 8,
                     "channels_last": None}


def get_config(preset: str = "paper", **overrides: Any) -> Config:
    """The preset's config with ``overrides`` applied, e.g. ``get_config("cpu-tiny", epochs=2)``."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown config field(s) {unknown}; the fields are listed in pacekit.config.Config")
    values = {**PRESETS[preset], **overrides}
    if values.get("frame_size") is not None:
        values["frame_size"] = tuple(int(v) for v in values["frame_size"])
    return Config(**values)


__all__ = ["CONTRASTIVE", "GROUPS", "Config", "ConfigError", "PRESETS", "comparable", "comparable_config",
           "config_default", "config_field", "default_epoch_repeat", "field_names", "get_config", "option", "paper_values",
           "run_differences", "validate"]

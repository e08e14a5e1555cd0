"""One configuration for pretraining, fine-tuning and the quickstart: a dataclass with the paper's defaults.

Each field's comment gives the paper's value (Sec. 4.1) or says the paper is silent and what was chosen.
Notebooks build a :class:`Config` with :func:`get_config`; the CLI builds the same object from its flags
(:func:`add_config_arguments`, :func:`config_from_args`), so both run exactly the same training.

    >>> cfg = get_config("cpu-tiny", epochs=2)
    >>> cfg.backbone, cfg.epochs
    ('tiny', 2)

Presets:

- ``paper``: the paper's setting -- R(2+1)D, 16x112x112 clips, batch 30, SGD lr 1e-3 /10 every 6 epochs,
  18 epochs, UCF101 split 1 with an epoch of the list x10.
- ``cpu-tiny``: the quickstart on a laptop CPU -- the ``tiny`` backbone, 8x56x56 clips, the built-in
  synthetic dataset, residual input, AdamW; a few minutes on 2 cores.
- ``gpu-demo``: the cpu-tiny recipe at the paper's network (R(2+1)D), clip size and batch on a larger
  synthetic set, for one GPU (bf16, channels_last_3d). It has not been run on a GPU yet.

Choices the paper leaves open (each also noted at its field):

- Weight decay: the paper is silent; the authors' code uses 5e-3, and so does pacekit.
- Fine-tuning schedule: the paper says only that the "training strategy [is] the same as the
  self-supervised pre-training stage" except the learning rate. pacekit therefore fine-tunes for the
  same 18 epochs, dividing the lr by 10 every 6, with the same epoch size (list x10), batch 30 and
  momentum, at lr 3e-3 (0.01 for S3D-G).
- Contrastive similarity: cosine / temperature 0.5 by default; ``normalize=False, temperature=1`` is the
  paper's literal dot product (see :mod:`pacekit.losses`).
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
import warnings
from dataclasses import dataclass
from typing import Any, Optional

from .data.transforms import INPUT_MODES
from .pace import START_POLICIES, WRAP_MODES

CONTRASTIVE = ("none", "context", "pace")
PROJECTIONS = (None, "linear", "mlp")
PRECISIONS = ("auto", "bf16", "fp32")
JITTERS = ("frame", "clip", None)
OPTIMIZERS = ("sgd", "adamw")


@dataclass
class Config:
    """Every knob of a pacekit training run. Field comments give the paper's value (Sec. 4.1)."""

    # --- run ------------------------------------------------------------------------------------
    name: str = "pace"  # run folder <out_dir>/<name>: checkpoints, metrics.jsonl, figures
    out_dir: str = "runs"
    seed: int = 0  # model init, sampler order, clip draws and augmentation all derive from it

    # --- data -----------------------------------------------------------------------------------
    dataset: str = "ucf101"  # paper: UCF101 train split 1 (or K-400) for pretraining
    root: str = "data/ucf101"  # dataset folder (original or `pacekit prepare`d)
    split: int = 1  # paper: split 1
    max_videos: Optional[int] = None  # keep this many videos of each list, evenly spread (quick runs)
    frame_size: tuple = (128, 171)  # paper: frames resized to 128x171 before cropping
    clip_len: int = 16  # paper: 16 frames
    crop: int = 112  # paper: 112x112 random crop (centre crop at test time)
    epoch_repeat: int = 10  # paper: an UCF101 epoch is the list x10 (~90k clips, "temporal jittering")
    pace_set: str = "relative"  # paper's best: p in {1, 2, 3, 4} (Table 1); "absolute" = {1/3 .. 3}
    start_policy: str = "fit"  # "fit": clips never loop; "any": the authors' loop-around starts
    wrap: str = "modulo"  # paper: loop over the video; "restart": the authors' code jumps back to frame 0
    slow_fill: str = "repeat"  # paper: slow paces repeat the preceding frame
    jitter: Optional[str] = "frame"  # paper: colour jitter per frame beats per clip (Table 1)
    input_mode: str = "rgb"  # paper: RGB clips; "residual": each clip minus its mean frame (see train.py)
    synthetic_classes: int = 10  # synthetic dataset only: action classes it is generated with
    synthetic_videos: int = 40  # synthetic dataset only: videos per class (half train, half test)

    # --- model ----------------------------------------------------------------------------------
    backbone: str = "r21d"  # paper's main network: R(2+1)D, 14.4M parameters
    width: float = 1.0  # channel multiplier (1.0 = the paper's network)
    contrastive: str = "none"  # "context" (Eq. 2, paper's best with pace), "pace" (Eq. 3) or "none"
    projection: Optional[str] = None  # contrastive space: None = the embedding, "linear", "mlp" (paper "+ fc")
    proj_dim: int = 128  # size of the projection head's output
    temperature: float = 0.5  # paper: plain dot product, i.e. normalize=False, temperature=1
    normalize: bool = True  # L2-normalise embeddings before the similarity
    lambda_cls: float = 1.0  # paper: 1 (Eq. 4)
    lambda_ctr: float = 0.1  # paper: 0.1 (Eq. 4)

    # --- pretraining ----------------------------------------------------------------------------
    epochs: int = 18  # paper: 18
    # Under torchrun the batch is per process: N GPUs train with a global batch of 30N at the same lr, and
    # the contrastive negatives of Eq. 2/3 come from each process's own batch.
    batch_size: int = 30  # paper: 30 (videos per step; two clips each with contrastive="context")
    lr: float = 1e-3  # paper: 1e-3
    optimizer: str = "sgd"  # paper: SGD; "adamw" (AdamW, no momentum field) for short CPU runs
    momentum: float = 0.9  # paper: SGD with momentum 0.9
    weight_decay: float = 5e-3  # paper silent; the authors' code uses 5e-3
    lr_step: int = 6  # paper: lr divided by 10 every 6 epochs
    lr_gamma: float = 0.1

    # --- fine-tuning (paper: "the same as pretraining" except the lr) -------------------------------
    pretrained: Optional[str] = None  # checkpoint whose backbone.* is fine-tuned; None = random init
    ft_epochs: int = 18  # paper silent beyond "same as pretraining": 18
    ft_batch_size: int = 30  # as pretraining
    ft_lr: Optional[float] = None  # paper: 3e-3, 0.01 for S3D-G (None picks by backbone)
    probe_lr: float = 0.01  # linear probe (frozen backbone, only the fc learns): the paper has none
    ft_lr_step: int = 6  # as pretraining: /10 every 6 epochs
    ft_epoch_repeat: int = 10  # as pretraining: the train list x10
    labels_per_class: Optional[int] = None  # fine-tune on this many labelled videos per class
    freeze_backbone: bool = False  # linear probe: frozen backbone in eval mode, only the new fc trains
    num_clips: int = 10  # paper: 10 clips per test video, softmax averaged
    eval_batch_size: int = 8  # test videos per evaluation batch (each holds num_clips clips)

    # --- system ---------------------------------------------------------------------------------
    device: str = "auto"  # "auto" = CUDA when present, else CPU; or "cpu", "cuda", "cuda:1"
    num_workers: int = 8  # loader processes per GPU/process; they only decode
    threads: Optional[int] = None  # CPU training: torch threads per process; None = free cores (cores - workers)
    precision: str = "auto"  # "auto" = bf16 autocast on CUDA, fp32 on the CPU
    channels_last: Optional[bool] = None  # channels_last_3d memory format; None = on for CUDA
    compile: bool = False  # torch.compile the model (CUDA; minutes of warm-up)
    log_every: int = 20  # steps between metric reads (the only host syncs of a step loop)
    progress: bool = True  # tqdm progress bar (notebook-aware)
    resume: bool = False  # continue from the run folder's latest checkpoint

    def __post_init__(self) -> None:
        validate(self)

    @property
    def run_dir(self) -> str:
        return f"{self.out_dir}/{self.name}"

    @property
    def finetune_lr(self) -> float:
        """``ft_lr``, or the paper's fine-tuning lr for the backbone: 0.01 for S3D-G, 3e-3 otherwise."""
        if self.ft_lr is not None:
            return self.ft_lr
        return 1e-2 if self.backbone == "s3d_g" else 3e-3

    @property
    def clips_per_video(self) -> int:
        """Two clips per video at different paces for the same-context loss (Eq. 2), else one."""
        return 2 if self.contrastive == "context" else 1

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed (validated)."""
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


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def validate(cfg: Config) -> None:
    """Raise ValueError naming the field, its value and the allowed values when a field is invalid."""

    def check(name: str, ok: bool, expected: str) -> None:
        if not ok:
            raise ValueError(f"config field {name}={getattr(cfg, name)!r} is invalid: expected {expected}")

    check("contrastive", cfg.contrastive in CONTRASTIVE, f"one of {CONTRASTIVE}")
    check("projection", cfg.projection in PROJECTIONS, "none, 'linear' or 'mlp'")
    check("precision", cfg.precision in PRECISIONS, f"one of {PRECISIONS}")
    check("jitter", cfg.jitter in JITTERS, "'frame', 'clip' or none")
    check("input_mode", cfg.input_mode in INPUT_MODES, f"one of {INPUT_MODES}")
    check("start_policy", cfg.start_policy in START_POLICIES, f"one of {START_POLICIES}")
    check("wrap", cfg.wrap in WRAP_MODES, f"one of {WRAP_MODES}")
    check("optimizer", cfg.optimizer in OPTIMIZERS, f"one of {OPTIMIZERS}")
    for name in ("epochs", "batch_size", "clip_len", "crop", "epoch_repeat", "lr_step", "ft_epochs",
                 "ft_batch_size", "ft_lr_step", "ft_epoch_repeat", "num_clips", "eval_batch_size",
                 "log_every", "proj_dim", "synthetic_classes", "synthetic_videos"):
        check(name, isinstance(getattr(cfg, name), int) and getattr(cfg, name) >= 1, "an integer >= 1")
    for name in ("max_videos", "labels_per_class"):
        value = getattr(cfg, name)
        check(name, value is None or (isinstance(value, int) and value >= 1), "none or an integer >= 1")
    for name in ("lr", "temperature", "width"):
        check(name, getattr(cfg, name) > 0, "a positive number")
    check("ft_lr", cfg.ft_lr is None or cfg.ft_lr > 0, "none or a positive number")
    check("num_workers", cfg.num_workers >= 0, "an integer >= 0")
    check("threads", cfg.threads is None or cfg.threads >= 1, "none or an integer >= 1")
    check("frame_size", cfg.frame_size is None or len(cfg.frame_size) == 2, "(height, width), e.g. 128,171")
    if cfg.frame_size is not None and min(cfg.frame_size) < cfg.crop:
        raise ValueError(
            f"config frame_size={tuple(cfg.frame_size)} is smaller than crop={cfg.crop}; frames are resized "
            "to frame_size and then cropped, so make frame_size at least the crop (paper: 128,171 and 112)"
        )


# ------------------------------------------------------------------------------------------ presets

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Tuned so that `pacekit quickstart` (pretraining, 12 labelled runs, 12 evaluations) fits 10 minutes on a
    # 2-core CPU. Three departures from the paper, for a tiny network and minutes of CPU (quickstart report):
    # residual input and no colour jitter (a small RGB network stays at chance on pace prediction on the
    # synthetic set for thousands of steps), and AdamW (SGD at lr 0.05 learned pace far more slowly).
    "cpu-tiny": dict(
        name="quickstart", dataset="synthetic", root="data/synthetic", synthetic_classes=10,
        synthetic_videos=24, frame_size=(64, 85), clip_len=8, crop=56, jitter=None, input_mode="residual",
        epoch_repeat=8, backbone="tiny", epochs=15, batch_size=16, optimizer="adamw", lr=3e-3, lr_step=10,
        ft_epochs=10, ft_batch_size=10, ft_lr=3e-3, ft_lr_step=7, ft_epoch_repeat=5, labels_per_class=4,
        eval_batch_size=8, num_workers=1, log_every=10, device="cpu",
    ),
    # The cpu-tiny recipe (residual input, AdamW, no jitter: what learns on the synthetic set) at the paper's
    # network, clip size and batch, on a larger synthetic set. Not yet run on a GPU (no device in its session).
    "gpu-demo": dict(
        name="gpu-demo", dataset="synthetic", root="data/synthetic", synthetic_classes=10,
        synthetic_videos=40, jitter=None, input_mode="residual", optimizer="adamw", lr=3e-3, epoch_repeat=10,
        epochs=12, lr_step=8, ft_epochs=10, ft_lr=3e-3, ft_lr_step=7, ft_epoch_repeat=5, labels_per_class=4,
        num_workers=8,
    ),
}


def get_config(preset: str = "paper", **overrides: Any) -> Config:
    """The preset's config with ``overrides`` applied, e.g. ``get_config("cpu-tiny", epochs=2)``."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown config field(s) {unknown}; the fields are listed in pacekit.config.Config")
    values = {**PRESETS[preset], **overrides}
    if values.get("frame_size") is not None:
        values["frame_size"] = tuple(int(v) for v in values["frame_size"])
    return Config(**values)


# ---------------------------------------------------------------------------------------------- CLI

def _field_comments() -> dict[str, str]:
    """Each field's trailing ``# comment`` from this file's source, used as its --help text."""
    import inspect

    comments = {}
    for line in inspect.getsource(Config).splitlines():
        code, _, comment = line.partition("#")
        if ":" in code and "=" in code and comment and not code.strip().startswith(("def", "@")):
            comments[code.split(":")[0].strip()] = comment.strip()
    return comments


def _parser_for(hint: Any, name: str):
    """A string -> value function for one field's type (Optional, bool, int, float, str, tuple)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union and type(None) in args:
        inner = _parser_for(next(a for a in args if a is not type(None)), name)

        def optional(text: str):
            return None if text.strip().lower() in ("none", "null", "") else inner(text)

        optional.__name__ = getattr(inner, "__name__", "value") + " or none"
        return optional
    if hint is bool:
        return _parse_bool
    if hint in (int, float, str):
        return hint
    if hint is tuple or origin is tuple:
        return _parse_int_tuple
    raise TypeError(f"config field {name} has a type the CLI cannot parse: {hint}")


def _parse_int_tuple(text: str) -> tuple:
    try:
        return tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 128,171 (or 128x171), got {text!r}") from None


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_config_arguments(parser: argparse.ArgumentParser, exclude: tuple[str, ...] = (),
                         default_preset: str = "paper") -> None:
    """Add ``--preset`` and one ``--field-name`` flag per :class:`Config` field to ``parser``.

    Flags left out keep the preset's value. Booleans are ``--flag`` / ``--no-flag``; optional fields take
    ``none``; ``--frame-size`` takes ``128,171``. ``exclude`` leaves fields out (a command that fixes them).
    """
    parser.add_argument("--preset", default=default_preset, choices=list(PRESETS),
                        help=f"starting configuration; flags override its fields (default: {default_preset})")
    hints = typing.get_type_hints(Config)
    comments = _field_comments()
    defaults = Config()
    group = parser.add_argument_group("configuration (pacekit.config.Config fields)")
    for f in dataclasses.fields(Config):
        if f.name in exclude:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{comments.get(f.name, '')} [paper: {getattr(defaults, f.name)!r}]"
        if hints[f.name] is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=_parser_for(hints[f.name], f.name),
                               default=argparse.SUPPRESS, metavar=f.name.upper(), help=help_text)


def config_from_args(args: argparse.Namespace, **forced: Any) -> Config:
    """The :class:`Config` of parsed CLI flags: the ``--preset``, then the flags given, then ``forced``."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if hasattr(args, f.name)}
    return get_config(getattr(args, "preset", "paper"), **{**given, **forced})


__all__ = ["CONTRASTIVE", "Config", "PRESETS", "add_config_arguments", "config_from_args", "get_config",
           "validate"]

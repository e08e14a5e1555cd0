"""``pacekit attention``: Fig. 5's attention maps over paces (:mod:`pacekit.evaluation.attention`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Union

import numpy as np

from ..atomic import ensure_writable
from ..data import VideoDecodeError, read_split
from ..data.synthetic import mask_path
from ..evaluation.attention import (
    FIG5_PACES,
    StartBeyondVideoError,
    attention_grid,
    check_start,
    fig5_stage,
    grad_cam_grid,
    last_frame_masks,
    plot_attention_grid,
)
from ..pace import as_pace
from ..training.loading import load_model, resolve_device
from .flags import add_model_arguments, non_negative_int, positive_int


def _pick_videos(args) -> list:
    """``--video`` paths, or ``--num-videos`` test videos spread over ``--dataset``'s list."""
    if args.video:
        missing = [v for v in args.video if not Path(v).exists()]
        if missing:
            raise FileNotFoundError(f"video not found: {missing[0]} (give video files, frame folders or .jpack files)")
        return list(args.video)
    if not (args.dataset and args.root):
        raise ValueError("give the videos with --video V1 V2 ..., or --dataset NAME --root DIR to pick test videos")
    records = read_split(args.dataset, args.root, "test", args.split).records
    keep = np.unique(np.round(np.linspace(0, len(records) - 1, min(args.num_videos, len(records)))).astype(int))
    return [records[i].path for i in keep]


def _check_target(target: str, loaded) -> Union[str, int]:
    """``--target``: ``predicted``, ``pace`` (pretraining checkpoints) or a logit index of the head."""
    if target == "pace" and loaded.stage != "pretrain":
        raise ValueError("--target pace needs a pretraining checkpoint (its head predicts paces); "
                         "use --target predicted or a class index")
    if target in ("predicted", "pace"):
        return target
    num_logits = loaded.model.num_classes
    if not target.isdigit() or int(target) >= num_logits:
        raise ValueError(f"--target must be 'predicted', 'pace' or a logit index 0..{num_logits - 1}, got {target!r}")
    return int(target)


def _mover_outlines(videos: list, paces: list, args, loaded):
    """The mover's pixels in each drawn frame when every video is a synthetic one with its masks beside it, else
    None (:func:`pacekit.evaluation.attention.last_frame_masks`)."""
    if not all(mask_path(v).is_file() for v in videos):
        return None
    return np.stack([last_frame_masks(v, paces, args.clip_len, args.start, loaded.frame_size, loaded.crop)
                     for v in videos])


def cmd_attention(args) -> int:
    import matplotlib.pyplot as plt

    videos = _pick_videos(args)
    paces = [as_pace(p) for p in args.paces]
    for video in videos:  # before any model work: a start past a video's end only loops over its beginning
        try:
            check_start(video, args.start)
        except StartBeyondVideoError as exc:
            raise StartBeyondVideoError(f"--start {args.start}: {exc}") from None
        except VideoDecodeError as exc:
            exc.args = (f"{exc}; give another --video (`pacekit info` lists a dataset's videos that do not decode)",)
            raise
    device = resolve_device(args.device)
    loaded = load_model(args.checkpoint, args.authors_checkpoint, args.arch, device)
    target = _check_target(args.target, loaded) if args.gradcam else None
    stage = args.stage
    if stage == "auto":
        stage = fig5_stage(loaded.model, (3, args.clip_len, loaded.crop, loaded.crop))
    common = dict(clip_len=args.clip_len, stage=stage, transform=loaded.transform(), device=device,
                  start=args.start, frame_size=loaded.frame_size)
    out = Path(args.out)
    ensure_writable(out.parent)
    outlines = _mover_outlines(videos, paces, args, loaded)
    grid = dataclasses.replace(attention_grid(loaded.model, videos, paces, **common), outlines=outlines)
    fig = plot_attention_grid(grid)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}: {stage} activation attention, {len(videos)} videos x paces "
          f"{', '.join(str(p) for p in paces)} ({args.clip_len}-frame clips from frame {args.start})"
          + ("; the mover outlined in white" if outlines is not None else ""))
    if args.gradcam:
        cam = dataclasses.replace(grad_cam_grid(loaded.model, videos, paces, target, model_paces=loaded.paces,
                                                **common), outlines=outlines)
        cam_out = out.with_name(out.stem + "_gradcam" + out.suffix)
        fig = plot_attention_grid(cam)
        fig.savefig(cam_out, dpi=120)
        plt.close(fig)
        print(f"wrote {cam_out}: Grad-CAM at {stage} for the {target} logit")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "attention", help="Fig. 5: activation attention on each clip's last frame, paces 1-4 (+ Grad-CAM)",
        description="Activation-based attention (Zagoruyko & Komodakis: sum over channels of |A|^2, mean over the "
                    "stage's time, upsampled) over the last frame of 16-frame clips at paces 1, 2, 3, 4; one row per "
                    "video. --gradcam adds a Grad-CAM figure (captum LayerGradCam) beside it. On the synthetic set the "
                    "mover is outlined in white.")
    add_model_arguments(p)
    p.add_argument("--video", nargs="+", default=None, help="videos, one row each")
    p.add_argument("--dataset", default=None, help="instead of --video: pick test videos of this dataset")
    p.add_argument("--root", default=None, help="the dataset folder, with --dataset")
    p.add_argument("--split", type=positive_int, default=1, help="with --dataset: the split (default 1)")
    p.add_argument("--num-videos", type=positive_int, default=4, help="with --dataset: how many test videos (default 4)")
    p.add_argument("--paces", nargs="+", default=[str(p) for p in FIG5_PACES], help="one column each (default 1 2 3 4)")
    p.add_argument("--clip-len", type=positive_int, default=16,
                   help="frames per clip (Fig. 5: 16, whatever the model was trained with)")
    p.add_argument("--start", type=non_negative_int, default=0, help="first frame of every clip (default 0)")
    p.add_argument("--stage", default="auto", choices=("auto", "conv1", "conv2", "conv3", "conv4", "conv5"),
                   help="the stage whose maps are shown; auto (default): the deepest whose map is at least as fine "
                        "as the paper's conv5 (7x7 for R(2+1)D on 112-pixel crops): conv5 at the paper's sizes and "
                        "for tiny-fine, conv3 for tiny on 56-pixel crops, whose conv5 is 2x2")
    p.add_argument("--gradcam", action="store_true", help="also write <out>_gradcam.png")
    p.add_argument("--target", default="predicted",
                   help="Grad-CAM logit: predicted (default), pace (each clip's own pace), or a class index")
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")
    p.set_defaults(func=cmd_attention)

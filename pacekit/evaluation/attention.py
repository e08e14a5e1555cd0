"""Where the network looks: activation attention (Fig. 5, Zagoruyko & Komodakis) and Grad-CAM via captum.

**Activation-based spatial attention** (the paper's Fig. 5, its ref. [59]). For a stage map ``A`` of
shape ``(C, T', H', W')`` the attention is the sum over channels of the squared activations,

    F(A)[t, h, w] = sum_c |A[c, t, h, w]|^2          (Zagoruyko & Komodakis' F_sum^p with p = 2).

Video maps keep a time axis, which a 2D map to lay over one frame does not have: pacekit takes the mean
over the stage's time axis ``T'`` (conv5 has only ``T/8`` = 2 steps for a 16-frame clip, so each step
already sees about half the clip), upsamples the ``(H', W')`` map bilinearly to the frame size and
rescales it to [0, 1] (min-max per map; a constant map becomes all zeros). Fig. 5 lays the map over the
clip's last frame; one column per pace p = 1..4 (16-frame clips), one row per video.

**Grad-CAM** (Selvaraju et al.), through captum's ``LayerGradCam``: the stage's channels are weighted by
the mean gradient of one logit -- a pace logit of a pretraining checkpoint, or an action logit of a
fine-tuned one -- summed, passed through ReLU, and brought to the clip's ``T x H x W`` with
``LayerAttribution.interpolate`` (trilinear). Two pitfalls on video networks:

- in-place ReLUs after the hooked stage overwrite the activations captum stored; pacekit's backbones use
  ``inplace=False``, and :func:`grad_cam` switches any in-place ReLU off for the call;
- conv5 is coarse in time (2 steps for 16 frames): the interpolated map changes smoothly over the
  clip and cannot localise a moment. Use conv3 or conv4 for a finer time axis.

**Which stage is scored.** Fig. 5 draws conv5 of R(2+1)D on 112-pixel crops: a 7x7 map. On pacekit's CPU
sizes conv5 is far coarser (2x2 for the ``tiny`` network on 56-pixel crops: it can only say which quarter
of the frame holds the mover; :func:`coverage_map_share` measures how little such a grid can show), so the
mover-mask scores and the quickstart's Fig. 5 use :func:`fig5_stage`: the deepest stage whose map is at
least Fig. 5's 7x7 -- conv5 at the paper's sizes and for ``tiny-fine`` (``tiny`` whose conv4 and conv5 keep
conv3's grid) on 56-pixel crops, conv3 for ``tiny``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..data import ClipEval, open_video
from ..data.strips import read_pace_strips
from ..data.synthetic import load_mover_masks
from ..data.transforms import unnormalize_clips
from ..errors import PacekitError
from ..models import backbone_of, stage_shapes
from ..models.modes import evaluating
from ..pace import as_pace, sample_indices
from ..training.data import eval_dataset
from ..training.loading import eval_transform

#: The paces of Fig. 5's columns.
FIG5_PACES = (1, 2, 3, 4)
#: Fig. 5's map: conv5 of R(2+1)D on 112-pixel crops is 7x7 in space.
FIG5_GRID = 7


# --------------------------------------------------------------------------------------------
# Activation-based attention (Fig. 5)
# --------------------------------------------------------------------------------------------


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Min-max rescale each map of ``(B, ...)`` to [0, 1]; a constant map becomes zeros."""
    flat = maps.flatten(1).float()
    lo = flat.min(1, keepdim=True).values
    span = flat.max(1, keepdim=True).values - lo
    out = torch.where(span > 0, (flat - lo) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(flat))
    return out.view_as(maps)


def activation_attention(feature_map: torch.Tensor, size: Optional[Sequence[int]] = None, p: int = 2) -> torch.Tensor:
    """Spatial attention of a video stage map: ``(B, C, T', H', W')`` -> ``(B, H, W)`` in [0, 1].

    ``sum_c |A|^p`` (Zagoruyko & Komodakis, p = 2 as in Fig. 5), the mean over the time axis ``T'``,
    bilinear upsampling to ``size = (H, W)`` (default: keep ``(H', W')``), min-max normalisation per map.
    """
    if feature_map.dim() != 5:
        raise ValueError(f"expected a stage map (B, C, T', H', W'), got {tuple(feature_map.shape)}")
    energy = feature_map.float().abs().pow(p).sum(1).mean(1)  # (B, H', W')
    if size is not None and tuple(energy.shape[-2:]) != tuple(size):
        energy = F.interpolate(energy[:, None], size=tuple(size), mode="bilinear", align_corners=False)[:, 0]
    return normalize_maps(energy)


@torch.inference_mode()
def clip_attention(model: nn.Module, clips: torch.Tensor, stage: str = "conv5") -> torch.Tensor:
    """Activation attention of float clips ``(B, C, T, H, W)`` at ``stage``: ``(B, H, W)`` in [0, 1].

    ``model`` is a backbone or a ClipModel (its backbone is used), in eval mode.
    """
    backbone = backbone_of(model)
    stages = backbone.forward_stages(clips)
    if stage not in stages or stages[stage].dim() != 5:
        raise KeyError(f"stage {stage!r} is not a map of forward_stages; use conv1 ... conv5")
    return activation_attention(stages[stage], size=clips.shape[-2:])


def fig5_stage(model: nn.Module, clip_shape: Sequence[int], grid: int = FIG5_GRID) -> str:
    """The deepest of conv5 ... conv1 whose map is at least ``grid`` x ``grid`` in space for clips of
    ``clip_shape`` ``(C, T, H, W)``: ``"conv5"`` at the paper's sizes (16x112x112 for R(2+1)D) and for
    ``tiny-fine`` on 56-pixel crops, ``"conv3"`` for ``tiny`` there (its conv5 is 2x2). ``"conv1"`` when none
    is that fine."""
    shapes = stage_shapes(model, clip_shape)
    for stage in ("conv5", "conv4", "conv3", "conv2"):
        if len(shapes.get(stage, ())) == 5 and min(shapes[stage][-2:]) >= grid:
            return stage
    return "conv1"


def attention_mass_in_masks(attention_maps, masks) -> float:
    """Share of attention mass that falls inside ground-truth masks, averaged over maps.

    ``attention_maps``: float ``(N, h, w)`` (or one ``(h, w)``) of non-negative values, e.g. from
    :func:`clip_attention`; ``masks``: bool ``(N, h, w)`` of the same shape (the mover's pixels, e.g.
    :func:`pacekit.data.synthetic.load_mover_masks` brought to the map's frame). For each map the share
    is ``sum(map * mask) / sum(map)``; the result is the mean share over the maps with positive mass
    (NaN when none has any). A map that spreads its mass uniformly scores the mask's area fraction,
    the chance level (:func:`mask_area_fraction`).
    """
    maps = np.asarray(attention_maps.detach().cpu() if isinstance(attention_maps, torch.Tensor) else attention_maps,
                      dtype=np.float64)
    masks = np.asarray(masks.detach().cpu() if isinstance(masks, torch.Tensor) else masks).astype(bool)
    if maps.shape != masks.shape:
        raise ValueError(f"attention maps {maps.shape} and masks {masks.shape} must have one shape")
    if maps.ndim == 2:
        maps, masks = maps[None], masks[None]
    if (maps < 0).any():
        raise ValueError("attention maps must be non-negative")
    total = maps.reshape(len(maps), -1).sum(1)
    inside = (maps * masks).reshape(len(maps), -1).sum(1)
    keep = total > 0
    return float(np.mean(inside[keep] / total[keep])) if keep.any() else float("nan")


def mask_area_fraction(masks) -> float:
    """Mean fraction of each mask's pixels that are set: the in-mask share of a uniform attention map."""
    masks = np.asarray(masks).astype(bool)
    if masks.ndim == 2:
        masks = masks[None]
    return float(masks.reshape(len(masks), -1).mean(1).mean())


def coverage_map_share(masks, grid: Sequence[int]) -> float:
    """In-mask share scored by the masks' own coverage map at a stage's spatial ``grid`` ``(h', w')``.

    A stage map of ``grid`` cells, upsampled and normalised as :func:`activation_attention` does, cannot
    follow the masks more finely than its cells: this builds, for each mask, the map whose every cell holds
    the fraction of the cell the mask covers, brings it to the mask's size the same way and scores it with
    :func:`attention_mass_in_masks`. Between :func:`mask_area_fraction` (chance) and 1, it says what a map of
    that resolution scores when it follows the mover exactly (the tiny network's conv5 is 2x2 on a 56-pixel
    crop). Not an upper bound: a map sharper than the coverage (the best cell alone) can score more.
    """
    masks = np.asarray(masks).astype(bool)
    if masks.ndim == 2:
        masks = masks[None]
    pixels = torch.from_numpy(masks).float()[:, None]
    coverage = F.adaptive_avg_pool2d(pixels, tuple(int(g) for g in grid))
    maps = F.interpolate(coverage, size=masks.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    return attention_mass_in_masks(normalize_maps(maps).numpy(), masks)


def load_pace_clips(
    path, paces: Sequence = FIG5_PACES, clip_len: int = 16, start: int = 0, frame_size=(128, 171)
) -> torch.Tensor:
    """One clip per pace from a video: uint8 ``(len(paces), clip_len, H, W, C)``.

    Every clip starts at frame ``start`` and takes frame ``start + floor(i * p)``
    (:func:`pacekit.pace.sample_indices`, looping past the end), so the columns of Fig. 5 begin at the
    same moment and their last frames lie ``15 * p`` frames later (:func:`pacekit.data.strips.read_pace_strips`).
    """
    return read_pace_strips(path, paces, clip_len, start, size=frame_size)


class StartBeyondVideoError(PacekitError, ValueError):
    """A clip start at or past a video's last frame: the clips would only loop over the video's start."""


def check_start(path, start: int) -> int:
    """Open ``path`` and return its frame count; raise :class:`StartBeyondVideoError`, with that count, when
    ``start`` is not one of its frames (``0 <= start < num_frames``). Cheap: no frame is decoded."""
    with open_video(path) as reader:
        num_frames = int(reader.num_frames)
    if not 0 <= start < num_frames:
        raise StartBeyondVideoError(f"start frame {start} is beyond {path}: it has {num_frames} frames "
                                    f"(0..{num_frames - 1})")
    return num_frames


@dataclass
class AttentionGrid:
    """Fig. 5's grid: ``frames`` uint8 ``(R, P, h, w, 3)`` (each clip's last frame, as the network saw
    it after the centre crop) and ``maps`` float ``(R, P, h, w)`` in [0, 1]; R videos, P paces."""

    frames: np.ndarray
    maps: np.ndarray
    paces: list
    names: list[str]
    stage: str = "conv5"
    #: bool ``(R, P, h, w)``: the mover's pixels in each drawn frame (synthetic videos), outlined on the plot
    outlines: Optional[np.ndarray] = None


def _pace_grid(
    videos: Sequence,
    paces: Sequence,
    clip_len: int,
    transform: Optional[nn.Module],
    device,
    start: int,
    frame_size,
    map_fn,
    stage: str,
) -> AttentionGrid:
    """Decode each video's pace clips, run ``map_fn(x (P, C, T, h, w), paces) -> (P, h, w)``, keep last frames."""
    transform = transform if transform is not None else ClipEval()
    # What a person sees: the same crop in RGB (the network's input may be a residual clip).
    view = ClipEval(size=getattr(transform, "size", None), crop=getattr(transform, "crop", 112))
    frames, maps = [], []
    for path in videos:
        clips = load_pace_clips(path, paces, clip_len, start, frame_size).to(device)  # (P, T, H, W, C)
        x = transform(clips)  # (P, C, T, h, w)
        maps.append(map_fn(x).detach().cpu().numpy())
        last = unnormalize_clips(view(clips[:, -1:]), view.mean, view.std)[:, :, 0]  # (P, C, h, w)
        frames.append((last.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).cpu().numpy())
    return AttentionGrid(np.stack(frames), np.stack(maps), list(paces), [Path(v).name for v in videos], stage)


def attention_grid(
    model: nn.Module,
    videos: Sequence,
    paces: Sequence = FIG5_PACES,
    clip_len: int = 16,
    stage: str = "conv5",
    transform: Optional[nn.Module] = None,
    device="cpu",
    start: int = 0,
    frame_size=(128, 171),
) -> AttentionGrid:
    """Activation attention for each video (rows) at each pace (columns), as in Fig. 5.

    Args:
        model: a backbone or a ClipModel, put in eval mode here.
        videos: paths of videos (any form :func:`pacekit.data.open_video` reads).
        paces: one column per pace (Fig. 5: 1, 2, 3, 4); each clip starts at frame ``start``.
        transform: uint8 ``(B, T, H, W, C)`` -> float ``(B, C, T, h, w)``; default ``ClipEval()``
            (resize to 128x171, centre crop 112, normalise).
        frame_size: ``(H, W)`` frames are decoded at.
    """
    model.eval()
    return _pace_grid(videos, paces, clip_len, transform, device, start, frame_size,
                      lambda x: clip_attention(model, x, stage), stage)


def grad_cam_grid(
    model: nn.Module,
    videos: Sequence,
    paces: Sequence = FIG5_PACES,
    target="predicted",
    clip_len: int = 16,
    stage: str = "conv5",
    transform: Optional[nn.Module] = None,
    device="cpu",
    start: int = 0,
    frame_size=(128, 171),
    model_paces: Optional[Sequence] = None,
) -> AttentionGrid:
    """Grad-CAM on each clip's last frame, laid out like Fig. 5 (rows: videos, columns: paces).

    ``target``: ``"predicted"`` explains each clip's arg-max logit; ``"pace"`` the logit of the clip's own
    pace, for a pretraining model whose logits stand for ``model_paces`` (default: ``paces``, in order);
    an int explains that logit (e.g. an action class of a fine-tuned model).
    """

    pace_labels = None
    if target == "pace":
        logit_paces = [as_pace(p) for p in (model_paces if model_paces is not None else paces)]
        missing = [p for p in paces if as_pace(p) not in logit_paces]
        if missing:
            raise ValueError(f"paces {missing} have no logit in the model's pace set "
                             f"{[str(p) for p in logit_paces]}; pick columns among those paces")
        pace_labels = [logit_paces.index(as_pace(p)) for p in paces]
    elif target != "predicted" and not isinstance(target, (int, np.integer)):
        raise ValueError(f"target must be 'predicted', 'pace' or a logit index, got {target!r}")

    def cams(x):
        if pace_labels is not None:
            labels = torch.tensor(pace_labels, device=x.device)
        elif target == "predicted":
            labels = None
        else:
            labels = int(target)
        return grad_cam(model, x, labels, stage)[:, -1]  # (P, h, w): the last frame's map

    return _pace_grid(videos, paces, clip_len, transform, device, start, frame_size, cams, f"{stage} Grad-CAM")


def overlay(frame: np.ndarray, attention: np.ndarray, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """Blend a [0, 1] map ``(h, w)`` coloured with ``cmap`` over a uint8 frame ``(h, w, 3)``; float RGB in [0, 1]."""
    from matplotlib import colormaps

    heat = colormaps[cmap](np.clip(attention, 0, 1))[..., :3]
    return np.clip((1 - alpha) * frame.astype(np.float64) / 255.0 + alpha * heat, 0, 1)


def plot_attention_grid(grid: AttentionGrid, alpha: float = 0.5, cmap: str = "jet", cell: float = 2.0,
                        beside: Optional[dict[str, AttentionGrid]] = None):
    """Fig. 5: one row per video, one column per pace, attention over each clip's last frame, the mover
    outlined in white where the grid has ``outlines``, and a colour bar. ``beside``: other grids of the same
    videos and paces (e.g. ``{"random init": ...}``) drawn to the right, each under its name. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors

    grids = {"": grid, **(beside or {})}
    rows, cols = grid.maps.shape[:2]
    fig, axes = plt.subplots(rows, cols * len(grids), figsize=(cell * cols * len(grids) + 0.8, cell * rows),
                             squeeze=False)
    for g, (name, each) in enumerate(grids.items()):
        for r in range(rows):
            for c in range(cols):
                ax = axes[r, g * cols + c]
                ax.imshow(overlay(each.frames[r, c], each.maps[r, c], alpha, cmap))
                if each.outlines is not None and each.outlines[r, c].any():
                    ax.contour(each.outlines[r, c].astype(float), levels=[0.5], colors="white", linewidths=1.0)
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(f"{name + ': ' if name else ''}p = {each.paces[c]}", fontsize=9)
                if c == 0 and g == 0:
                    ax.set_ylabel(each.names[r], fontsize=8)
    title = grid.stage if "Grad-CAM" in grid.stage else f"{grid.stage} attention"
    outlined = "; white: the mover" if any(each.outlines is not None for each in grids.values()) else ""
    fig.suptitle(f"{title} on each clip's last frame{outlined}")
    # the colour bar gets its own strip at the right, so that its ticks and label stay inside the figure
    right = 1 - 0.9 / fig.get_figwidth()
    fig.tight_layout(rect=(0, 0, right, 1))
    bar = fig.colorbar(cm.ScalarMappable(norm=colors.Normalize(0, 1), cmap=cmap),
                       cax=fig.add_axes((right + 0.1 / fig.get_figwidth(), 0.15, 0.15 / fig.get_figwidth(), 0.7),
                                        label="<colorbar>"))
    bar.set_label("attention (each map scaled to its maximum)", fontsize=8)
    return fig


def last_frame_masks(path, paces: Sequence, clip_len: int, start: int, frame_size, crop: int) -> np.ndarray:
    """The mover's pixels in the last frame of the clip at each pace from ``start`` of a synthetic video, as
    the network sees that frame (resized to ``frame_size``, centre crop ``crop``): bool ``(P, crop, crop)``."""
    movers = load_mover_masks(path, full_size=True)
    last = [int(sample_indices(len(movers), clip_len, p, start)[-1]) for p in paces]
    return np.stack([_scaled_mask(movers[i], frame_size, crop) for i in last])


# --------------------------------------------------------------------------------------------
# Grad-CAM through captum
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def no_inplace_relu(model: nn.Module) -> Iterator[int]:
    """Switch every in-place ReLU of ``model`` off for the block (yields how many), then restore them.

    An in-place ReLU after the stage captum hooks would overwrite the activations it stored, and
    autograd refuses in-place changes of a tensor a hook returned.
    """
    changed = [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU)) and m.inplace]
    for m in changed:
        m.inplace = False
    try:
        yield len(changed)
    finally:
        for m in changed:
            m.inplace = True


def grad_cam(
    model: nn.Module,
    clips: torch.Tensor,
    target=None,
    stage: str = "conv5",
    layer: Optional[nn.Module] = None,
) -> torch.Tensor:
    """Grad-CAM of float clips ``(B, C, T, H, W)`` for one logit: ``(B, T, H, W)`` in [0, 1].

    Args:
        model: maps clips to logits ``(B, num_classes)``: a pretraining ClipModel (pace logits) or a
            fine-tuned one (action logits).
        target: the logit to explain, an int or one per clip ``(B,)``; None explains each clip's
            predicted class (its arg-max).
        stage: ``conv1`` ... ``conv5``, found with ``model.backbone.stage_module(stage)``.
        layer: the module to hook instead of ``stage``.

    captum's ``LayerGradCam`` averages the gradient over the stage's time, height and width to weight
    its channels, and keeps positive evidence (ReLU); ``LayerAttribution.interpolate`` brings the
    ``(T', H', W')`` map to ``(T, H, W)`` trilinearly. Each clip's map is then min-max normalised; a map
    with no positive evidence is all zeros.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    if clips.dim() != 5:
        raise ValueError(f"expected float clips (B, C, T, H, W), got {tuple(clips.shape)}")
    if layer is None:
        layer = backbone_of(model).stage_module(stage)
    with evaluating(model), no_inplace_relu(model), torch.enable_grad():
        if target is None:
            with torch.no_grad():
                target = model(clips).argmax(1)
        if isinstance(target, torch.Tensor):
            target = target.to(clips.device)
        cam = LayerGradCam(model, layer).attribute(clips.detach(), target=target, relu_attributions=True)
        cam = LayerAttribution.interpolate(cam.detach(), tuple(clips.shape[2:]), interpolate_mode="trilinear")
    return normalize_maps(cam[:, 0])  # (B, T, H, W)


#: Test videos whose attention :func:`attention_scores` scores: None, every video the test split lists.
ATTENTION_VIDEOS: Optional[int] = None


def _scaled_mask(mask: np.ndarray, frame_size, crop: int) -> np.ndarray:
    """A (H0, W0) mask resized (nearest) to the decoded ``frame_size`` and centre-cropped like ClipEval."""
    h, w = int(frame_size[0]), int(frame_size[1])
    rows = np.minimum(((np.arange(h) + 0.5) * mask.shape[0] / h).astype(int), mask.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * mask.shape[1] / w).astype(int), mask.shape[1] - 1)
    resized = mask[rows][:, cols]
    top, left = (h - crop) // 2, (w - crop) // 2
    return resized[top:top + crop, left:left + crop]


def attention_stage(model, cfg: Config) -> str:
    """The stage whose attention the figures and scores read for ``cfg``'s clips: the deepest at least as
    fine as Fig. 5's 7x7 conv5 (:func:`pacekit.attention.fig5_stage`)."""
    return fig5_stage(model, (3, cfg.clip_len, cfg.crop, cfg.crop))


def attention_scores(model, cfg: Config, num_videos: Optional[int] = ATTENTION_VIDEOS, with_grad_cam: bool = False,
                     stage: Optional[str] = None, paces: Sequence = FIG5_PACES) -> dict[str, tuple[float, float]]:
    """``{"attention": (share, chance)}`` (and ``"grad-cam"``) of ``model`` on the test videos, as Fig. 5 draws them.

    Each video gives one clip at each of ``paces`` (Fig. 5's columns, 1 to 4), all from frame 0; each clip's
    activation attention at :func:`attention_stage` (averaged over the clip's time) is scored against the union of
    the mover's masks over the frames that clip samples, brought to the network's view (resized to the frame size,
    centre crop). The share is the mean over every (video, pace) map; chance is the masks' mean area fraction.
    ``num_videos``: the first that many test videos (None: every one the split lists). ``with_grad_cam`` scores the
    Grad-CAM of the predicted pace logit at the same stage (mean over time) the same way. ``stage``: the stage when
    the caller has it already.
    """
    return attention_scores_of([model], cfg, num_videos, with_grad_cam, stage, paces)[0]


def attention_scores_of(models: Sequence, cfg: Config, num_videos: Optional[int] = ATTENTION_VIDEOS,
                        with_grad_cam: bool = False, stage: Optional[str] = None,
                        paces: Sequence = FIG5_PACES) -> list[dict[str, tuple[float, float]]]:
    """:func:`attention_scores` of each of ``models`` (one architecture: the same stage), in order, reading each
    test video and its masks once for all of them."""
    models = list(models)
    if not models:
        return []
    records = eval_dataset(cfg, "test").records
    videos = [r.path for r in (records if num_videos is None else records[:num_videos])]
    transform = eval_transform(cfg)
    device = next(models[0].parameters()).device
    maps = [[] for _ in models]
    cams = [[] for _ in models]
    masks = []
    stage = stage or attention_stage(models[0], cfg)
    for model in models:
        model.eval()
    for path in videos:
        movers = load_mover_masks(path, full_size=True)
        x = transform(read_pace_strips(path, list(paces), cfg.clip_len, 0, size=cfg.frame_size).to(device))
        for k, model in enumerate(models):
            maps[k].append(clip_attention(model, x, stage).float().cpu().numpy())       # (P, h, w)
            if with_grad_cam:
                cams[k].append(grad_cam(model, x, stage=stage).mean(1).float().cpu().numpy())
        for p in paces:
            frames = sample_indices(len(movers), cfg.clip_len, p, 0)
            masks.append(_scaled_mask(movers[frames].any(0), cfg.frame_size, cfg.crop))
    masks = np.stack(masks)
    chance = mask_area_fraction(masks)
    scored = []
    for k in range(len(models)):
        scores = {"attention": (attention_mass_in_masks(np.concatenate(maps[k]), masks), chance)}
        if with_grad_cam:
            scores["grad-cam"] = (attention_mass_in_masks(np.concatenate(cams[k]), masks), chance)
        scored.append(scores)
    return scored

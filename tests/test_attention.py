"""Attention maps (Fig. 5): activation attention and Grad-CAM follow a bright moving square."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

from pacekit.evaluation.attention import (
    AttentionGrid,
    activation_attention,
    attention_grid,
    clip_attention,
    coverage_map_share,
    fig5_stage,
    grad_cam,
    load_pace_clips,
    mask_area_fraction,
    no_inplace_relu,
    normalize_maps,
    plot_attention_grid,
)


def square_clip(top, left, size=16, frames=16, side=4, present=None):
    """Float clips (1, 3, T, H, W): black, with a white square at (top, left) in the frames ``present``."""
    x = torch.zeros(1, 3, frames, size, size)
    present = range(frames) if present is None else present
    for t in present:
        x[0, :, t, top : top + side, left : left + side] = 1.0
    return x


class BrightnessBackbone(nn.Module):
    """conv5 = local brightness in 8x4x4 blocks (one channel); an in-place ReLU follows the stage."""

    embed_dim = 1

    def __init__(self):
        super().__init__()
        self.conv5 = nn.Conv3d(3, 1, kernel_size=(8, 4, 4), stride=(8, 4, 4), bias=False)
        nn.init.constant_(self.conv5.weight, 1.0 / (3 * 8 * 4 * 4))
        self.relu5 = nn.ReLU(inplace=True)  # the captum pitfall, on purpose

    def forward_stages(self, x):
        a = self.conv5(x)  # (B, 1, T/8, H/4, W/4)
        return {"conv5": a, "p5": a.mean(dim=(2, 3, 4))}

    def forward(self, x):
        return self.relu5(self.conv5(x)).mean(dim=(2, 3, 4))  # (B, 1)

    def stage_module(self, name):
        assert name == "conv5"
        return self.conv5


class BrightnessModel(nn.Module):
    """Logit 0 = mean brightness, logit 1 = minus it."""

    def __init__(self):
        super().__init__()
        self.backbone = BrightnessBackbone()

    def forward(self, x):
        p5 = self.backbone(x)
        return torch.cat([p5, -p5], 1)


def peak(map2d):
    return np.unravel_index(int(torch.as_tensor(map2d).argmax()), tuple(map2d.shape))


def test_normalize_maps_to_unit_range_and_constant_to_zero():
    maps = torch.stack([torch.tensor([[1.0, 3.0], [2.0, 5.0]]), torch.full((2, 2), 7.0)])
    out = normalize_maps(maps)
    assert out[0].tolist() == [[0.0, 0.5], [0.25, 1.0]]
    assert out[1].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_activation_attention_is_channel_sum_of_squares_mean_over_time():
    a = torch.zeros(1, 2, 2, 2, 2)  # (B, C, T', H', W')
    a[0, 0, 0, 0, 0] = 2.0  # energy 4 at (0, 0) in step 0 ...
    a[0, 1, 1, 0, 0] = -2.0  # ... and 4 in step 1 (|A|^2 ignores the sign): mean 4
    a[0, 0, 0, 1, 1] = 2.0  # energy 4 in step 0 only: mean 2
    a[0, 1, 0, 0, 1] = 1.0  # energy 1 in step 0: mean 0.5
    att = activation_attention(a)
    assert att.shape == (1, 2, 2)
    assert torch.allclose(att[0], torch.tensor([[1.0, 0.125], [0.0, 0.5]]))
    up = activation_attention(a, size=(8, 8))
    assert up.shape == (1, 8, 8) and up.min() == 0.0 and up.max() == pytest.approx(1.0)


def test_attention_moves_with_the_square():
    model = BrightnessModel().eval()
    top_left = clip_attention(model, square_clip(0, 0))
    bottom_right = clip_attention(model, square_clip(12, 12))
    assert top_left.shape == (1, 16, 16)
    r0, c0 = peak(top_left[0])
    r1, c1 = peak(bottom_right[0])
    assert r0 < 4 and c0 < 4
    assert r1 >= 12 and c1 >= 12


def test_grad_cam_follows_the_square_in_space_and_time():
    model = BrightnessModel()
    # The square appears only in the second half of the clip (conv5's second time step).
    clips = torch.cat([square_clip(0, 12, present=range(8, 16)), square_clip(12, 0, present=range(8, 16))])
    cam = grad_cam(model, clips, target=0)
    assert cam.shape == (2, 16, 16, 16)  # (B, T, H, W)
    assert cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    assert cam[:, :4].mean() < cam[:, 12:].mean()  # more evidence where the square is (late frames)
    r0, c0 = peak(cam[0, -1])
    r1, c1 = peak(cam[1, -1])
    assert r0 < 4 and c0 >= 12 and r1 >= 12 and c1 < 4
    # Logit 1 falls as brightness rises: no positive evidence anywhere.
    assert torch.count_nonzero(grad_cam(model, clips, target=1)) == 0
    # The in-place ReLU is switched back on afterwards.
    assert model.backbone.relu5.inplace


def test_no_inplace_relu_restores_flags():
    net = nn.Sequential(nn.ReLU(inplace=True), nn.ReLU(inplace=False), nn.ReLU(inplace=True))
    with no_inplace_relu(net) as changed:
        assert changed == 2 and not any(m.inplace for m in net)
    assert [m.inplace for m in net] == [True, False, True]


def write_moving_square_frames(folder, num_frames=64, size=32, side=6):
    """A frame folder (the authors' layout) where a white square walks left to right, 0.4 px a frame."""
    from torchvision.io import write_jpeg

    folder.mkdir(parents=True)
    for i in range(num_frames):
        frame = torch.zeros(3, size, size, dtype=torch.uint8)
        left = int(i * (size - side) / (num_frames - 1))
        frame[:, 13 : 13 + side, left : left + side] = 255
        write_jpeg(frame, str(folder / f"frame{i + 1:06d}.jpg"), quality=95)
    return folder


def test_attention_grid_columns_follow_the_pace(tmp_path):
    from pacekit.data import ClipEval

    video = write_moving_square_frames(tmp_path / "v_Walk_g01_c01")
    clips = load_pace_clips(video, paces=(1, 2, 3, 4), clip_len=16, frame_size=(32, 32))
    assert clips.shape == (4, 16, 32, 32, 3) and clips.dtype == torch.uint8
    # No mean/std normalisation: the toy network reads raw brightness (black = 0).
    plain = ClipEval(size=None, crop=32, mean=(0.0,) * 3, std=(1.0,) * 3)
    grid = attention_grid(BrightnessModel(), [video, video], transform=plain, frame_size=(32, 32))
    assert grid.maps.shape == (2, 4, 32, 32) and grid.frames.shape == (2, 4, 32, 32, 3)
    assert grid.maps.min() >= 0 and grid.maps.max() == pytest.approx(1.0)
    # A faster pace covers more of the walk, so the attention's centre of mass lies further right,
    # and the last frame shown is frame 15 * p.
    cols = np.arange(32)
    centre = [(grid.maps[0, p].sum(0) * cols).sum() / grid.maps[0, p].sum() for p in range(4)]
    assert all(a < b for a, b in zip(centre, centre[1:]))
    square_left = [int(np.argmax(grid.frames[0, p, 15, :, 0] > 127)) for p in range(4)]
    assert square_left == [int(15 * p * 26 / 63) for p in (1, 2, 3, 4)]
    fig = plot_attention_grid(grid)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 8 and len(fig.axes) == 9  # and one colour bar
    fig.canvas.draw()  # the colour bar, its ticks and its label lie inside the figure, not cut at its edge
    bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    drawn, page = bar.get_tightbbox(fig.canvas.get_renderer()), fig.bbox
    assert page.x0 <= drawn.x0 and drawn.x1 <= page.x1 and page.y0 <= drawn.y0 and drawn.y1 <= page.y1
    assert [ax.get_title() for ax in panels[:4]] == ["p = 1", "p = 2", "p = 3", "p = 4"]
    # a second grid beside the first doubles the columns, each titled with its name; outlines are drawn
    outlined = AttentionGrid(grid.frames, grid.maps, grid.paces, grid.names, grid.stage,
                             outlines=grid.maps > 0.5)
    fig = plot_attention_grid(outlined, beside={"random init": grid})
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 16 and panels[4].get_title() == "random init: p = 1"
    assert all(ax.collections for ax in panels[:4]) and not any(ax.collections for ax in panels[4:8])


def test_tiny_backbone_maps_have_frame_shape_and_unit_range():
    from pacekit.models import build_model

    torch.manual_seed(0)
    model = build_model("tiny", num_classes=4)
    clips = torch.randn(2, 3, 16, 64, 64)
    att = clip_attention(model, clips, "conv5")
    assert att.shape == (2, 64, 64)
    assert att.amin(dim=(1, 2)).tolist() == [0.0, 0.0] and att.amax(dim=(1, 2)).tolist() == [1.0, 1.0]
    cam = grad_cam(model, clips, target=torch.tensor([0, 3]), stage="conv4")
    assert cam.shape == (2, 16, 64, 64)
    assert cam.min() >= 0 and cam.max() <= 1


# ---------------------------------------------------------------------------------------------
# The command, and the authors' checkpoint layout
# ---------------------------------------------------------------------------------------------


def test_attention_command_writes_fig5_and_gradcam(flow, tmp_path, capsys):
    import matplotlib.image

    from pacekit.cli import main

    out = tmp_path / "fig5.png"
    rc = main(["attention", "--checkpoint", str(flow["pre"]), "--dataset", "synthetic", "--root", str(flow["root"]),
               "--num-videos", "2", "--gradcam", "--target", "pace", "--out", str(out), "--device", "cpu"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "2 videos x paces 1, 2, 3, 4" in printed
    assert "wrote " + str(out) + ": conv5 activation attention" in printed  # tiny-fine's conv5 is 8x8 on a 64 crop
    image = matplotlib.image.imread(out)
    assert image.shape[1] > image.shape[0]  # 4 columns, 2 rows
    cam = matplotlib.image.imread(tmp_path / "fig5_gradcam.png")
    assert cam.shape == image.shape and cam.std() > 0  # the same grid layout, and not a blank image
    # the synthetic set's videos carry their mover masks: each drawn frame's mover is outlined
    assert printed.count("the mover outlined in white") == 1
    # a video without its masks beside it (a copy of one) is drawn without outlines
    import shutil

    from pacekit.data import read_split

    video = read_split("synthetic", str(flow["root"]), "test", 1).records[0].path
    bare = tmp_path / "bare" / Path(video).name
    bare.parent.mkdir()
    shutil.copy(video, bare)
    assert main(["attention", "--checkpoint", str(flow["pre"]), "--video", str(bare), "--out",
                 str(tmp_path / "bare.png"), "--device", "cpu"]) == 0
    assert "outlined" not in capsys.readouterr().out


@pytest.mark.parametrize("target", ["7", "seven"])
def test_attention_command_refuses_a_bad_target_before_any_work(flow, tmp_path, capsys, target):
    from pacekit.cli import main

    out = tmp_path / "fig5.png"
    rc = main(["attention", "--checkpoint", str(flow["pre"]), "--dataset", "synthetic", "--root", str(flow["root"]),
               "--num-videos", "1", "--gradcam", "--target", target, "--out", str(out), "--device", "cpu"])
    assert rc == 2 and "logit index 0..3" in capsys.readouterr().err
    assert not out.exists()


def test_attention_command_needs_videos(flow, capsys):
    from pacekit.cli import main

    rc = main(["attention", "--checkpoint", str(flow["pre"]), "--out", "x.png", "--device", "cpu"])
    assert rc == 2 and "--video" in capsys.readouterr().err


def test_grad_cam_grid_pace_target_uses_each_columns_pace_logit(tmp_path, monkeypatch):
    import pacekit.evaluation.attention as attention
    from pacekit.data import ClipEval

    asked = []

    def fake_grad_cam(model, clips, target=None, stage="conv5", layer=None):
        asked.append(target)
        b, _, t, h, w = clips.shape
        return torch.zeros(b, t, h, w)

    monkeypatch.setattr(attention, "grad_cam", fake_grad_cam)
    video = write_moving_square_frames(tmp_path / "v")
    plain = dict(transform=ClipEval(size=None, crop=32), frame_size=(32, 32))
    grid = attention.grad_cam_grid(BrightnessModel(), [video], paces=(2, 4), target="pace",
                                   model_paces=("1/2", 1, 2, 4), **plain)
    assert grid.maps.shape == (1, 2, 32, 32)
    assert asked[0].tolist() == [2, 3]  # pace 2 is logit 2, pace 4 is logit 3
    attention.grad_cam_grid(BrightnessModel(), [video], paces=(2, 4), target=1, **plain)
    attention.grad_cam_grid(BrightnessModel(), [video], paces=(2, 4), target="predicted", **plain)
    assert asked[1:] == [1, None]
    with pytest.raises(ValueError, match="no logit"):
        attention.grad_cam_grid(BrightnessModel(), [video], paces=(3,), target="pace", model_paces=(1, 2), **plain)


def test_authors_layout_checkpoint_gives_the_same_attention(tmp_path):
    """A state dict in the authors' key layout (module.conv1.*, ..., module.linear.*) loads into pacekit's
    r21d and yields exactly the maps of the model it was written from (narrow width keeps it fast)."""
    from pacekit.models import build_model
    from pacekit.models.authors import to_authors_state_dict
    from pacekit.training.loading import load_model

    torch.manual_seed(0)
    original = build_model("r21d", num_classes=4, width=0.125).eval()
    state = {f"module.{k}": v for k, v in to_authors_state_dict(original, "r21d").items()}
    assert "module.conv1.spatial_conv.weight" in state and "module.linear.weight" in state
    path = tmp_path / "authors_r21d.pth"
    torch.save({"epoch": 18, "state_dict": state}, path)
    loaded = load_model(authors_checkpoint=path, arch="r21d", width=0.125)
    assert loaded.stage == "pretrain" and [int(p) for p in loaded.paces] == [1, 2, 3, 4]
    assert (loaded.frame_size, loaded.crop, loaded.clip_len) == ((128, 171), 112, 16)
    clips = torch.randn(2, 3, 16, 112, 112)
    assert torch.equal(clip_attention(loaded.model, clips), clip_attention(original, clips))


@pytest.mark.slow
def test_attention_command_with_a_full_size_authors_checkpoint(tmp_path, capsys):
    """`pacekit attention --authors-checkpoint PATH --arch r21d`: the paper's 14.4M R(2+1)D, 16x112x112 clips."""
    from pacekit.cli import main
    from pacekit.models import build_model
    from pacekit.models.authors import to_authors_state_dict

    torch.manual_seed(0)
    state = to_authors_state_dict(build_model("r21d", num_classes=4), "r21d")
    path = tmp_path / "r21d_pace.pth"
    torch.save({"epoch": 18, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    video = write_moving_square_frames(tmp_path / "v_Walk_g01_c01")
    out = tmp_path / "fig5.png"
    rc = main(["attention", "--authors-checkpoint", str(path), "--arch", "r21d", "--video", str(video),
               "--out", str(out), "--device", "cpu", "--gradcam", "--target", "pace"])
    assert rc == 0 and out.stat().st_size > 0 and (tmp_path / "fig5_gradcam.png").stat().st_size > 0


def test_coverage_map_share_on_hand_made_cases():
    left_half = np.zeros((4, 4), bool)
    left_half[:, :2] = True
    # 2x2 coverage [[1, 0], [1, 0]] upsampled bilinearly (align_corners=False) to 4 columns samples the
    # source at x = -0.25, 0.25, 0.75, 1.25 (clamped to 0..1): columns 1, 0.75, 0.25, 0; the left half holds
    # 1.75 of the 2 units in each row.
    assert coverage_map_share(left_half, (2, 2)) == pytest.approx(0.875)
    # At the mask's own resolution the coverage map is the mask: all its mass inside.
    assert coverage_map_share(left_half, (4, 4)) == pytest.approx(1.0)
    # One cell: a constant map, normalised to zeros, has no mass to share.
    assert math.isnan(coverage_map_share(left_half, (1, 1)))
    # A small mover: a coarse grid lands between chance and 1, a finer one closer to 1.
    blob = np.zeros((2, 56, 56), bool)
    blob[0, 10:22, 30:44] = True
    blob[1, 30:50, 5:20] = True
    coarse, fine = coverage_map_share(blob, (2, 2)), coverage_map_share(blob, (7, 7))
    assert mask_area_fraction(blob) < coarse < fine < 1.0


def test_fig5_stage_is_the_deepest_map_as_fine_as_the_papers_7x7():
    from pacekit.models.heads import build_model

    paper = build_model("r21d", 4, width=0.25)  # the width changes channels, not the map's size
    assert fig5_stage(paper, (3, 16, 112, 112)) == "conv5"  # 7x7: Fig. 5 itself
    assert fig5_stage(paper, (3, 8, 56, 56)) == "conv4"  # conv5 would be 4x4
    tiny = build_model("tiny", 4).train()
    assert fig5_stage(tiny, (3, 8, 56, 56)) == "conv3"  # its conv5 is 2x2
    assert tiny.training  # the probe's eval mode is undone
    assert fig5_stage(tiny, (3, 8, 16, 16)) == "conv1"  # nothing is 7x7 on so small a crop


def test_attention_scores_cover_every_test_video_at_fig5_paces(tmp_path):
    """The mover-mask score is the share equation written out over every video the test split lists, one clip per
    Fig. 5 pace from frame 0 (frames 0, p, 2p, ...), each against the union of the mover's masks in its frames."""
    from pacekit.config import get_config
    from pacekit.data.synthetic import build_synthetic, load_mover_masks
    from pacekit.evaluation.attention import (
        FIG5_PACES,
        _scaled_mask,
        attention_scores,
        attention_scores_of,
        attention_stage,
    )
    from pacekit.models import build_model
    from pacekit.training.loading import eval_transform

    root = tmp_path / "synthetic"
    build_synthetic(root, workers=1, progress=False, num_classes=2, videos_per_class=4, width=80, height=60,
                    duration=2.0, version=6)
    cfg = get_config("cpu-tiny").replace(dataset="synthetic", root=str(root), backbone="tiny-fine")
    assert (cfg.clip_len, cfg.crop) == (16, 56) and attention_stage(build_model("tiny-fine", 4), cfg) == "conv5"
    listed = (root / "ucfTrainTestlist" / "testlist01.txt").read_text().split()
    videos = [root / "UCF-101" / name for name in listed]  # in the split file's order
    assert len(videos) >= 2
    torch.manual_seed(0)
    model = build_model("tiny-fine", num_classes=4).eval()
    got = attention_scores(model, cfg, num_videos=None, with_grad_cam=True)

    def written_out(net) -> tuple[list, list]:
        shares, areas = [], []
        for path in videos:
            grid = attention_grid(net, [path], paces=FIG5_PACES, clip_len=cfg.clip_len, stage="conv5",
                                  transform=eval_transform(cfg), frame_size=cfg.frame_size)
            movers = load_mover_masks(path, full_size=True)
            for column, p in enumerate(FIG5_PACES):
                frames = [i * p % len(movers) for i in range(cfg.clip_len)]  # 50-frame videos: pace 4 wraps
                mask = _scaled_mask(np.any(movers[frames], axis=0), cfg.frame_size, cfg.crop)
                attention = grid.maps[0, column]
                shares.append((attention * mask).sum() / attention.sum())
                areas.append(mask.mean())
        return shares, areas

    shares, areas = written_out(model)
    assert got["attention"][0] == pytest.approx(float(np.mean(shares)), abs=1e-6)
    assert got["attention"][1] == pytest.approx(float(np.mean(areas)), abs=1e-9)
    assert got["grad-cam"][1] == got["attention"][1] and 0 <= got["grad-cam"][0] <= 1
    first = attention_scores(model, cfg, num_videos=1)["attention"]
    assert first[1] == pytest.approx(float(np.mean(areas[:len(FIG5_PACES)])), abs=1e-9)
    # Several networks scored in one pass over the videos get each its own score, as scored alone.
    torch.manual_seed(1)
    other = build_model("tiny-fine", num_classes=4).eval()
    together = attention_scores_of([model, other], cfg, num_videos=None, with_grad_cam=True)
    assert together[0] == got
    assert together[1]["attention"][0] == pytest.approx(float(np.mean(written_out(other)[0])), abs=1e-6)
    assert together[1]["attention"][1] == got["attention"][1] and 0 <= together[1]["grad-cam"][0] <= 1
    assert abs(together[0]["attention"][0] - together[1]["attention"][0]) > 1e-3  # two networks, two scores

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pacekit.data import transforms as T


def ramp_clips(b=2, t=4, h=20, w=30):
    """uint8 (B, T, H, W, C) whose pixel value encodes its column, so crops and flips are visible."""
    cols = torch.arange(w).view(1, 1, 1, w, 1).expand(b, t, h, w, 3)
    return (cols * 8).to(torch.uint8).contiguous()


def test_to_float_layout_and_range():
    x = T.to_float_clips(ramp_clips())
    assert x.shape == (2, 3, 4, 20, 30) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1


def test_crop_is_shared_by_all_frames_of_a_clip_and_differs_between_clips():
    g = torch.Generator().manual_seed(0)
    x = T.to_float_clips(ramp_clips(b=16, w=60))
    out = T.random_crop_clips(x, 10, g)
    assert out.shape == (16, 3, 4, 10, 10)
    assert (out == out[:, :, :1]).all()  # same crop in every frame
    lefts = (out[:, 0, 0, 0, 0] * 255 / 8).round()
    assert len(set(lefts.tolist())) > 1


def test_crop_matches_slicing():
    x = torch.rand(3, 3, 2, 12, 14)
    tops, lefts = torch.tensor([0, 2, 4]), torch.tensor([1, 0, 3])
    out = T.crop_clips(x, tops, lefts, 8)
    for i in range(3):
        assert torch.equal(out[i], x[i, :, :, tops[i]:tops[i] + 8, lefts[i]:lefts[i] + 8])


def test_flip_whole_clips():
    g = torch.Generator().manual_seed(1)
    x = T.to_float_clips(ramp_clips(b=32))
    out = T.random_flip_clips(x, 0.5, g)
    flipped = out[:, 0, 0, 0, 0] > out[:, 0, 0, 0, -1]
    assert 0 < flipped.sum() < 32
    assert torch.equal(out[flipped], x[flipped].flip(-1))


def test_center_crop_and_short_side_resize():
    x = torch.rand(1, 3, 2, 128, 171)
    assert T.center_crop_clips(x, 112).shape[-2:] == (112, 112)
    assert T.resize_clips(torch.rand(1, 3, 2, 240, 320), 128).shape[-2:] == (128, 171)
    with pytest.raises(ValueError, match="cannot crop"):
        T.center_crop_clips(x, 200)


def test_jitter_per_frame_differs_between_frames_per_clip_does_not():
    g = torch.Generator().manual_seed(0)
    x = torch.full((4, 3, 8, 6, 6), 0.5)
    x[:, 0] = 0.7  # some colour, so saturation/hue act
    strength = T.JitterStrength(p=1.0)
    per_frame = T.color_jitter_clips(x, strength, per_frame=True, generator=g)
    per_clip = T.color_jitter_clips(x, strength, per_frame=False, generator=g)
    frame_means = per_frame.mean(dim=(1, 3, 4))  # (B, T)
    assert (frame_means.std(dim=1) > 1e-3).all()
    clip_means = per_clip.mean(dim=(1, 3, 4))
    assert torch.allclose(clip_means, clip_means[:, :1].expand_as(clip_means), atol=1e-6)
    assert per_frame.min() >= 0 and per_frame.max() <= 1


def test_jitter_probability_zero_is_identity():
    x = torch.rand(2, 3, 4, 5, 5)
    assert torch.equal(T.color_jitter_clips(x, T.JitterStrength(p=0.0)), x)


def test_hue_rotation_keeps_luma_and_inverts():
    x = torch.rand(2, 3, 3, 4, 4)
    turns = torch.rand(2, 3) - 0.5
    rotated = T.rotate_hue(x, turns)
    assert torch.allclose(T._grayscale(rotated), T._grayscale(x), atol=1e-5)
    assert torch.allclose(T.rotate_hue(rotated, -turns), x, atol=1e-5)
    assert torch.allclose(T.rotate_hue(x, torch.zeros(2, 3)), x, atol=1e-6)
    assert not torch.allclose(rotated, x, atol=1e-2)


def test_hue_rotation_turns_the_way_hsv_hue_grows():
    red = torch.tensor([0.8, 0.2, 0.2]).view(1, 3, 1, 1, 1)
    towards_yellow = T.rotate_hue(red, torch.full((1, 1), 1 / 12))[0, :, 0, 0, 0]
    assert towards_yellow[1] > 0.2 + 0.05 and towards_yellow[1] > towards_yellow[2]


def test_augment_pipeline_shapes_two_clip_axis_and_determinism():
    clips = torch.randint(0, 256, (3, 2, 4, 128, 171, 3), dtype=torch.uint8)
    aug = T.ClipAugment(size=(128, 171), crop=112)
    a = aug(clips, torch.Generator().manual_seed(5))
    b = aug(clips, torch.Generator().manual_seed(5))
    assert a.shape == (3, 2, 3, 4, 112, 112) and torch.equal(a, b)
    ev = T.ClipEval(size=(128, 171), crop=112)(clips)
    assert ev.shape == (3, 2, 3, 4, 112, 112)
    back = T.unnormalize_clips(T.normalize_clips(torch.rand(1, 3, 1, 2, 2).clamp(0.1, 0.9)))
    assert back.min() >= 0.1 - 1e-6


def test_augment_resizes_frames_of_another_size():
    clips = torch.randint(0, 256, (2, 4, 120, 160, 3), dtype=torch.uint8)
    assert T.ClipAugment(size=(128, 171), crop=112)(clips).shape == (2, 3, 4, 112, 112)


@pytest.mark.gpu
def test_augment_runs_on_cuda_without_host_generator():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    clips = torch.randint(0, 256, (2, 4, 128, 171, 3), dtype=torch.uint8, device="cuda")
    T.ClipAugment(channels_last=True)(clips)  # warm the per-device constants
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any host sync inside the transform now raises
    try:
        out = T.ClipAugment(channels_last=True, input_mode="residual")(clips)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.is_cuda and out.shape == (2, 3, 4, 112, 112)


def test_standardized_input_is_zero_mean_unit_std_per_frame_and_channel_and_undoes_a_per_frame_gain():
    from pacekit.data.transforms import standardize_frames

    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 5, 16, 16, generator=g)
    out = standardize_frames(x)
    assert torch.allclose(out.mean(dim=(-2, -1)), torch.zeros(2, 3, 5), atol=1e-5)
    assert torch.allclose(out.std(dim=(-2, -1)), torch.ones(2, 3, 5), atol=1e-2)
    # A brightness/contrast change of one frame (a gain and an offset per channel) leaves it unchanged.
    changed = x.clone()
    changed[:, :, 2] = 0.4 * changed[:, :, 2] + 0.3
    assert torch.allclose(standardize_frames(changed), out, atol=3e-2)  # eps in the std: ~1e-3 / 0.1
    # ...while a moving pattern still changes it: the mover survives the standardisation.
    moved = x.clone()
    moved[:, :, 2] = torch.roll(x[:, :, 2], 3, dims=-1)
    assert not torch.allclose(standardize_frames(moved)[:, :, 2], out[:, :, 2], atol=0.1)
    assert T.ClipEval(size=None, crop=16, input_mode="standardized")(
        (x * 255).to(torch.uint8).permute(0, 2, 3, 4, 1)).shape == (2, 3, 5, 16, 16)


def _written_out_augment(v, crop, jitter, strength, input_mode, generator):
    """The training transform written out step by step in the order pacekit.data.transforms documents:
    float [0, 1], crop, flip, then torchvision's jitter definitions with a clamp after each, normalise,
    input mode. Random numbers are drawn in the same order (tops, lefts, flips, then the jitter's)."""
    x = v.permute(0, 4, 1, 2, 3).float() / 255.0
    b, c, t, h, w = x.shape
    tops = torch.randint(0, h - crop + 1, (b,), generator=generator)
    lefts = torch.randint(0, w - crop + 1, (b,), generator=generator)
    x = torch.stack([x[i, :, :, tops[i]:tops[i] + crop, lefts[i]:lefts[i] + crop] for i in range(b)])
    flips = torch.rand(b, generator=generator) < 0.5
    x = torch.stack([clip.flip(-1) if f else clip for clip, f in zip(x, flips)])
    if jitter is not None:
        n = t if jitter == "frame" else 1
        apply = torch.rand(b, 1, n, 1, 1, generator=generator) < strength.p
        spread = lambda s: 1 + (torch.rand(b, 1, n, 1, 1, generator=generator) * 2 - 1) * s  # noqa: E731
        luma = lambda y: (y * torch.tensor(T._GRAY).view(1, 3, 1, 1, 1)).sum(1, keepdim=True)  # noqa: E731
        out = (x * spread(strength.brightness)).clamp(0, 1)
        mean = luma(out).mean(dim=(3, 4), keepdim=True)
        out = ((out - mean) * spread(strength.contrast) + mean).clamp(0, 1)
        gray = luma(out)
        out = ((out - gray) * spread(strength.saturation) + gray).clamp(0, 1)
        turns = ((torch.rand(b, 1, n, 1, 1, generator=generator) * 2 - 1) * strength.hue).view(b, n)
        out = T.rotate_hue(out, turns).clamp(0, 1)
        x = torch.where(apply, out, x)
    x = (x - torch.tensor(T.KINETICS_MEAN).view(1, 3, 1, 1, 1)) / torch.tensor(T.KINETICS_STD).view(1, 3, 1, 1, 1)
    if input_mode == "standardized":
        x = (x - x.mean(dim=(-2, -1), keepdim=True)) / (x.std(dim=(-2, -1), keepdim=True) + 1e-3)
    return x


@pytest.mark.parametrize("jitter,input_mode", [("frame", "standardized"), ("clip", "rgb"), (None, "rgb")])
def test_augment_equals_the_transform_written_out(jitter, input_mode):
    # The CPU path crops and flips the uint8 frames before converting them and jitters in place; the values
    # must be those of the float-first, out-of-place definition, bit for bit.
    v = torch.randint(0, 256, (12, 8, 40, 54, 3), dtype=torch.uint8)
    strength = T.JitterStrength()
    aug = T.ClipAugment(size=None, crop=32, jitter=jitter, strength=strength, input_mode=input_mode)
    got = aug(v, generator=torch.Generator().manual_seed(5))
    want = _written_out_augment(v, 32, jitter, strength, input_mode, torch.Generator().manual_seed(5))
    assert torch.equal(got, want)


def test_cpu_crop_and_flip_equal_the_gather_used_on_other_devices():
    x = torch.randint(0, 256, (6, 8, 20, 26, 3), dtype=torch.uint8).permute(0, 4, 1, 2, 3)  # channels-last view
    tops, lefts = torch.tensor([0, 3, 1, 4, 2, 0]), torch.tensor([5, 0, 2, 1, 6, 3])
    got = T.crop_clips(x, tops, lefts, 16)
    b = torch.arange(6)[:, None, None]
    rows, cols = (tops[:, None] + torch.arange(16))[:, :, None], (lefts[:, None] + torch.arange(16))[:, None, :]
    assert torch.equal(got, x.permute(0, 3, 4, 1, 2)[b, rows, cols].permute(0, 3, 4, 1, 2))
    assert got.stride(1) == 1  # the crop of a channels-last view stays channels-last
    flipped = T.random_flip_clips(got, 0.5, torch.Generator().manual_seed(2))
    coins = torch.rand(6, generator=torch.Generator().manual_seed(2)) < 0.5
    assert 0 < coins.sum() < 6
    assert torch.equal(flipped, torch.where(coins[:, None, None, None, None], got.flip(-1), got))


@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 90), side=st.sampled_from([1, 3, 16, 56, 112]),
       offset=st.sampled_from([0.0, 0.45, -3.0, 1000.0]), spread=st.sampled_from([0.0, 1e-3, 0.2, 5.0]))
@example(seed=5085, rows=54, side=3, offset=1000.0, spread=1e-3)  # one frame one float32 step off (found 2026-12-03)
@settings(max_examples=60, deadline=None)
@pytest.mark.filterwarnings(r"ignore:std\(\)")  # torch's own std warns on one-pixel frames (no degrees of freedom)
def test_frame_std_equals_torch_std_but_at_a_rounding_boundary(seed, rows, side, offset, spread):
    # The blocked two-pass float64 variance gives torch's float32 std on frames of any size (one element:
    # nan, like torch), constant frames, and frames far from zero with a small spread -- exactly, except
    # where the exact value lies within ~1e-16 of a float32 rounding boundary: there one float32 step off,
    # in at most one frame of a batch (frame_std's documented contract).
    g = torch.Generator().manual_seed(seed)
    x = offset + spread * torch.randn(rows, 3, side, side, generator=g)
    want = x.std(dim=(-2, -1), keepdim=True).nan_to_num(-1.0)
    got = T.frame_std(x).nan_to_num(-1.0)
    assert got.shape == want.shape and got.dtype == want.dtype
    differ = got != want
    assert int(differ.sum()) <= 1
    if differ.any():
        step = torch.nextafter(want[differ], torch.tensor(float("inf"))) - want[differ]
        assert torch.all((got[differ] - want[differ]).abs() <= step)


def test_frame_std_on_real_pipeline_frames_blocks_and_non_contiguous_input(monkeypatch):
    # Frames after the jitter are laid out (B, T, C) by the hue rotation; blocks of one row and of a few rows.
    v = torch.randint(0, 256, (6, 8, 40, 54, 3), dtype=torch.uint8)
    x = T.color_jitter_clips(T.to_float_clips(v), generator=torch.Generator().manual_seed(3))
    assert not x.is_contiguous()
    want = x.std(dim=(-2, -1), keepdim=True)
    for block_bytes in (1, 3 * 8 * 40 * 54 * 8, 1 << 30):
        monkeypatch.setattr(T, "_STD_CHUNK_BYTES", block_bytes)
        assert torch.equal(T.frame_std(x), want)
    x.requires_grad_(True)  # autograd: torch's own std
    assert T.frame_std(x).requires_grad


def test_standardize_frames_leaves_its_input_alone():
    x = torch.rand(2, 3, 4, 8, 8)
    before = x.clone()
    T.standardize_frames(x), T.normalize_clips(x), T.temporal_residual(x)
    assert torch.equal(x, before)


def test_jitter_under_cpu_autocast_returns_the_promoted_dtype_and_leaves_uncoined_frames_exact():
    # Under autocast the hue rotation's matmul runs in bfloat16 while the input stays float32: the result is
    # float32 (as torch.where promotes), and a frame the coin skipped is the input's, bit for bit.
    x = torch.rand(3, 3, 6, 10, 12)
    skipped = T.JitterStrength(p=0.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        none = T.color_jitter_clips(x, skipped, generator=torch.Generator().manual_seed(0))
        some = T.color_jitter_clips(x, generator=torch.Generator().manual_seed(0))
    assert none.dtype == some.dtype == torch.float32 and torch.equal(none, x)
    changed = (some != x).flatten(3).any(-1).any(1)  # (B, T): frames the coin jittered
    assert changed.any() and not changed.all()

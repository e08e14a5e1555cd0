"""The teaching figures of pacekit.study.plots: x-t slices (kymographs) whose slope is the pace, and clip
animations that play at a true frame rate."""

import io

import numpy as np
import pytest
from PIL import Image

from pacekit.pace import sample_indices
from pacekit.study.plots import clips_gif, clips_html, kymograph, kymograph_speed, plot_kymographs, track_columns


def moving_bar(num_frames=60, width=200, height=20, speed=1.5, x0=10.0, bar=3):
    """A bright vertical bar moving right at ``speed`` px per frame over a dark background, and its masks."""
    x = np.arange(width)
    left = x0 + speed * np.arange(num_frames)[:, None]  # (T, 1)
    on = (x[None] >= np.floor(left)) & (x[None] < np.floor(left) + bar)  # (T, W)
    masks = np.repeat(on[:, None, :], height, axis=1)  # (T, H, W)
    frames = np.where(masks[..., None], 230, 20).astype(np.uint8).repeat(3, axis=-1)  # (T, H, W, 3)
    return frames, masks


def test_a_kymograph_is_one_row_of_every_frame_stacked_in_time():
    frames, _ = moving_bar(num_frames=5)
    kymo = kymograph(frames, row=7)
    assert kymo.shape == (5, 200, 3) and kymo.dtype == np.uint8
    for t in range(5):
        assert np.array_equal(kymo[t], frames[t, 7])
    band = kymograph(frames.astype(np.float32) * np.arange(20)[None, :, None, None], row=10, band=3)
    assert np.allclose(band[0], frames[0, 10].astype(np.float32) * 10)  # mean of rows 9, 10, 11
    with pytest.raises(ValueError, match="outside"):
        kymograph(frames, row=20)


def test_the_slope_of_a_constant_velocity_bar_is_its_speed_and_pace_2_doubles_it():
    frames, masks = moving_bar(num_frames=80, speed=1.5)
    natural = kymograph_speed(kymograph(masks, row=5))
    assert natural == pytest.approx(1.5, abs=0.05)
    for pace in (2, 3):
        clip = masks[sample_indices(len(masks), 16, pace, start=0)]
        assert kymograph_speed(kymograph(clip, row=5)) == pytest.approx(1.5 * pace, abs=0.1)
    slow = masks[sample_indices(len(masks), 17, "1/2", start=0)]  # 16 steps: 8 moves, 8 repeats
    assert kymograph_speed(kymograph(slow, row=5)) == pytest.approx(0.75, abs=0.01)  # repeats halve it


def test_track_columns_follows_the_bar_and_is_nan_where_it_is_gone():
    _, masks = moving_bar(num_frames=4, speed=2.0, x0=10, bar=3)
    kymo = kymograph(masks, row=0).astype(float)
    kymo[2] = 0  # the bar left the slice in frame 2
    cols = track_columns(kymo)
    assert cols[[0, 1, 3]].tolist() == [11.0, 13.0, 17.0] and np.isnan(cols[2])
    assert kymograph_speed(kymo) == pytest.approx(2.0)  # only the pair (0, 1) is left
    with pytest.raises(ValueError, match="non-negative"):
        track_columns(-kymo)


def test_plot_kymographs_draws_one_panel_per_pace():
    frames, _ = moving_bar(num_frames=40)
    clips = {p: frames[sample_indices(40, 12, p)] for p in (1, 2, 3)}
    fig = plot_kymographs(clips, row=10, speeds={1: 1.5, 2: 3.0, 3: 4.5})
    assert len(fig.axes) == 3
    assert fig.axes[1].get_title() == "fast (p = 2)\n3.0 px / frame"


def _decode(gif: bytes):
    image = Image.open(io.BytesIO(gif))
    frames, durations = [], []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(np.asarray(image.convert("RGB")))
        durations.append(image.info["duration"])
    return frames, durations


def test_the_gif_plays_the_clips_side_by_side_at_the_true_frame_rate():
    frames, _ = moving_bar(num_frames=30, width=40, height=10)
    clips = [frames[sample_indices(30, 8, p)] for p in (1, 2)]
    gif = clips_gif(clips, fps=25, scale=2, gap=4)
    decoded, durations = _decode(gif)
    assert sum(durations) == 8 * 40  # 8 clip frames of 40 ms each: 25 fps
    assert decoded[0].shape == (20, 2 * 80 + 4, 3)  # two clips, 2x each, a 4-pixel gap
    assert np.abs(decoded[0][::2, :80:2].astype(int) - clips[0][0]).max() <= 8  # palette rounding only
    assert np.abs(decoded[-1][::2, 84::2].astype(int) - clips[1][-1]).max() <= 8
    # 10 fps: every frame lasts 100 ms; repeated frames (a slow clip) may merge but the time is the same
    slow = frames[sample_indices(30, 8, "1/2")]
    assert sum(_decode(clips_gif([slow], fps=10))[1]) == 8 * 100


def test_clips_html_labels_each_clip_and_embeds_the_gif():
    frames, _ = moving_bar(num_frames=30, width=40, height=10)
    page = clips_html({"1/2": frames[:8], 2: frames[:8]}, caption="a <b> caption")
    assert "slow (p = 1/2)" in page and "fast (p = 2)" in page
    assert page.count("data:image/gif;base64,") == 1 and "a &lt;b&gt; caption" in page
    with pytest.raises(ValueError, match="share one shape"):
        clips_gif([frames[:8], frames[:7]])


# ------------------------------------------------------------------ the pace confusion matrix (notebook 03)


def test_the_pace_confusion_counts_the_clips_pace_accuracy_scores(ucf_root, tmp_path):
    import torch
    from helpers import tiny_config

    from pacekit.evaluation.recognition import pace_accuracy, pace_confusion, pace_predictions
    from pacekit.recipes.train import build_pace_model

    cfg = tiny_config(ucf_root, tmp_path)
    torch.manual_seed(0)
    model = build_pace_model(cfg, 4)
    confusion = pace_confusion(model, cfg, "test", batch_size=2)
    labels, predictions = pace_predictions(model, cfg, "test", batch_size=2)
    assert confusion.shape == (4, 4) and confusion.sum() == len(labels) > 0
    assert np.trace(confusion) / confusion.sum() == pytest.approx(pace_accuracy(model, cfg, "test", batch_size=2))
    assert confusion.sum(1).tolist() == np.bincount(labels, minlength=4).tolist()  # rows: the true paces
    # more clips per video: the first round is the same clips, the rest new draws
    labels3, _ = pace_predictions(model, cfg, "test", batch_size=2, clips_per_video=3)
    assert len(labels3) == 3 * len(labels) and labels3[:len(labels)].tolist() == labels.tolist()


def test_a_model_that_always_answers_one_pace_fills_one_column(ucf_root, tmp_path):
    import torch
    from helpers import tiny_config

    from pacekit.evaluation.recognition import pace_confusion
    from pacekit.study.plots import plot_pace_confusion

    class AlwaysFast(torch.nn.Module):
        def forward(self, x):  # (B, C, T, H, W) -> logits favouring pace label 2
            return torch.tensor([0.0, 0.0, 5.0, 0.0]).expand(x.shape[0], 4)

    cfg = tiny_config(ucf_root, tmp_path)
    confusion = pace_confusion(AlwaysFast(), cfg, "test", batch_size=2, clips_per_video=4)
    assert confusion[:, [0, 1, 3]].sum() == 0 and confusion[:, 2].sum() == confusion.sum()
    fig = plot_pace_confusion(confusion, [1, 2, 3, 4])
    assert f"of {confusion.sum()} clips right (chance 25%)" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="one row per pace"):
        plot_pace_confusion(confusion, [1, 2, 3])


def test_the_pace_confusion_by_class_splits_the_same_clips_by_their_videos_action(ucf_root, tmp_path):
    import torch
    from helpers import tiny_config

    from pacekit.data import build_dataset
    from pacekit.evaluation.recognition import pace_confusion, pace_confusion_by_class, pace_predictions
    from pacekit.recipes.train import build_pace_model

    cfg = tiny_config(ucf_root, tmp_path)
    torch.manual_seed(0)
    model = build_pace_model(cfg, 4)
    by_class = pace_confusion_by_class(model, cfg, "test", batch_size=2, clips_per_video=2)
    whole = pace_confusion(model, cfg, "test", batch_size=2, clips_per_video=2)
    records = build_dataset(cfg.dataset, cfg.root, "test", mode="eval").records
    assert by_class.counts.shape == (len(by_class.classes), 4, 4)
    assert by_class.counts.sum(0).tolist() == whole.tolist()
    # each class holds the clips of its own test videos: clips_per_video per video
    per_class = np.bincount([r.label for r in records], minlength=len(by_class.classes)) * 2
    assert by_class.counts.sum(axis=(1, 2)).tolist() == per_class.tolist()
    # the accuracy and the signed error, written out from the answers
    labels, predictions = pace_predictions(model, cfg, "test", batch_size=2, clips_per_video=2)
    actions = np.tile([r.label for r in records], 2)
    for c in range(len(by_class.classes)):
        mine = actions == c
        if mine.any():
            assert by_class.accuracy()[c] == pytest.approx(np.mean(labels[mine] == predictions[mine]))
            assert by_class.mean_error()[c] == pytest.approx(np.mean(predictions[mine] - labels[mine]))
        else:
            assert np.isnan(by_class.accuracy()[c]) and np.isnan(by_class.mean_error()[c])


def test_a_model_that_reads_every_clip_as_pace_4_errs_by_the_distance_to_4():
    from pacekit.evaluation.recognition import PaceConfusionByClass
    from pacekit.study.plots import plot_pace_error_by_class

    counts = np.zeros((2, 4, 4), dtype=np.int64)
    counts[0, :, 3] = [3, 1, 0, 0]  # class 0: three clips at pace 1, one at pace 2, all answered pace 4
    counts[1, 3, 3] = 2              # class 1: two clips at pace 4, answered right
    by_class = PaceConfusionByClass(counts, ["Slow", "Fast"])
    assert by_class.mean_error().tolist() == [(3 * 3 + 1 * 2) / 4, 0.0]
    assert by_class.accuracy().tolist() == [0.0, 1.0]
    assert by_class.overall_accuracy() == 2 / 6  # the two Fast clips of the six
    fig = plot_pace_error_by_class(by_class, natural_speeds=[2.0, 1.0])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["Fast (1.00)", "Slow (2.00)"]  # slowest first
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0% right", "100% right"]
    with pytest.raises(ValueError, match="one per class"):
        plot_pace_error_by_class(by_class, natural_speeds=[1.0])
    # a class without test clips says so, rather than "nan% right"
    empty = PaceConfusionByClass(np.concatenate([counts, np.zeros((1, 4, 4), np.int64)]), ["Slow", "Fast", "None"])
    assert "no clips" in [t.get_text() for t in plot_pace_error_by_class(empty).axes[0].texts]


def test_the_error_correlation_is_exact_on_lines_and_absent_when_it_cannot_be_told():
    from pacekit.evaluation.recognition import PaceConfusionByClass

    def one_clip_per_class(errors):  # class c: one clip at pace 1 answered `errors[c]` steps faster
        counts = np.zeros((len(errors) + 1, 4, 4), dtype=np.int64)
        for c, e in enumerate(errors):
            counts[c, 0, e] = 1
        return PaceConfusionByClass(counts, [f"c{c}" for c in range(len(errors) + 1)])  # last class: no clips

    rising = one_clip_per_class([0, 1, 2, 3])
    assert rising.error_correlation([1.0, 2.0, 3.0, 4.0, 99.0]) == pytest.approx(1.0)  # the empty class is left out
    assert rising.error_correlation([4.0, 3.0, 2.0, 1.0, 0.0]) == pytest.approx(-1.0)
    assert one_clip_per_class([1, 1, 1]).error_correlation([1.0, 2.0, 3.0, 4.0]) is None  # equal errors
    assert one_clip_per_class([0, 1]).error_correlation([1.0, 2.0, 3.0]) is None  # two classes with clips
    with pytest.raises(ValueError, match="one per class"):
        rising.error_correlation([1.0, 2.0])


def test_clips_html_enlarges_on_screen_without_growing_the_file():
    frames, _ = moving_bar(num_frames=30, width=40, height=10)
    small, big = clips_html({1: frames[:8]}, zoom=1), clips_html({1: frames[:8]}, zoom=3)
    assert 'width="40" height="10"' in small and 'width="120" height="30"' in big
    assert len(small) == pytest.approx(len(big), abs=40)  # the same GIF, only the attributes differ

"""The pace-guessing game (pacekit.widgets), played headless: set .value, call Button.click()."""

import io
from fractions import Fraction

import numpy as np
import pytest
import torch
from PIL import Image as PILImage
from torch import nn

from pacekit.data import ClipEval
from pacekit.pace import PaceSet, sample_indices
from pacekit.widgets import PaceGame, frame_png, make_game_clips, model_player, plot_rounds, read_videos


def numbered_video(num_frames: int, height: int = 8, width: int = 10) -> np.ndarray:
    """Frame k is filled with the value k, so a clip's frames tell which source frames it used."""
    return np.broadcast_to(np.arange(num_frames, dtype=np.uint8)[:, None, None, None],
                           (num_frames, height, width, 3)).copy()


def videos(n: int = 3, num_frames: int = 60):
    return [(f"video{i}", numbered_video(num_frames + 5 * i)) for i in range(n)]


def text_of(output) -> str:
    return "".join(o.get("text", "") for o in output.outputs)


class FixedAnswer(nn.Module):
    """A pace model that always answers ``label`` and records the input shapes it was given."""

    def __init__(self, label: int, num_paces: int = 5):
        super().__init__()
        self.label, self.num_paces, self.shapes = label, num_paces, []

    def forward(self, x):
        self.shapes.append(tuple(x.shape))
        logits = torch.zeros(x.shape[0], self.num_paces)
        logits[:, self.label] = 1.0
        return logits


@pytest.fixture
def game():
    return PaceGame(make_game_clips(videos(), "absolute", num_rounds=5, clip_len=12, seed=3), "absolute", zoom=1)


# ------------------------------------------------------------------------------------ the clips


def test_game_clips_deal_every_pace_equally_often_and_sample_exact_frames():
    vids = videos()
    clips = make_game_clips(vids, "absolute", num_rounds=10, clip_len=12, seed=0)
    assert sorted(c.label for c in clips) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    paces = PaceSet.from_spec("absolute")
    by_name = dict(vids)
    for clip in clips:
        assert clip.pace == paces.pace_of(clip.label)
        source = by_name[clip.video]
        expected = sample_indices(len(source), 12, clip.pace, clip.start)
        assert clip.frames.shape == (12, 8, 10, 3)
        assert clip.frames[:, 0, 0, 0].tolist() == expected.tolist()  # the numbered frames it shows
        # "fit" start policy: the whole span fits into the video, so no clip loops
        assert clip.start + (11 * clip.pace.numerator) // clip.pace.denominator < len(source)


def test_game_clips_are_a_pure_function_of_the_seed():
    a = make_game_clips(videos(), "absolute", num_rounds=6, clip_len=12, seed=7)
    b = make_game_clips(videos(), "absolute", num_rounds=6, clip_len=12, seed=7)
    c = make_game_clips(videos(), "absolute", num_rounds=6, clip_len=12, seed=8)
    assert [(x.label, x.video, x.start) for x in a] == [(x.label, x.video, x.start) for x in b]
    assert [(x.label, x.video, x.start) for x in a] != [(x.label, x.video, x.start) for x in c]


def test_game_clips_reject_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        make_game_clips([], "absolute")
    with pytest.raises(ValueError, match="uint8 frames"):
        make_game_clips([("gray", np.zeros((20, 8, 10), np.uint8))], "absolute")
    with pytest.raises(ValueError, match="num_rounds"):
        make_game_clips(videos(), "absolute", num_rounds=0)


# ------------------------------------------------------------------------------------ playing


def test_a_right_guess_scores_reveals_and_locks_the_round(game):
    clip = game.current
    assert game.guess_button.disabled  # nothing picked yet
    assert "score 0/0" in text_of(game.status)
    game.choice.value = clip.label
    assert not game.guess_button.disabled
    game.guess_button.click()
    assert (game.score, game.played, game.streak, game.best_streak) == (1, 1, 1, 1)
    assert "score 1/1" in text_of(game.status)
    assert text_of(game.reveal) == f"Right! The pace was {game.name(clip.label)}.\n"
    assert game.guess_button.disabled and game.choice.disabled
    game.guess_button.click()  # a second click on an answered round changes nothing
    assert (game.score, game.played) == (1, 1)


def test_a_wrong_guess_breaks_the_streak_but_keeps_the_best(game):
    game.choice.value = game.current.label
    game.guess_button.click()
    game.next_button.click()
    wrong = (game.current.label + 1) % len(game.pace_set)
    game.choice.value = wrong
    game.guess_button.click()
    assert (game.score, game.played, game.streak, game.best_streak) == (1, 2, 0, 1)
    truth = game.name(game.current.label)
    assert text_of(game.reveal) == f"Not quite: the pace was {truth}; you said {game.name(wrong)}.\n"
    assert "Round 2 of 5 | score 1/2 | streak 0 (best 1)" in text_of(game.status)


def test_next_clip_resets_the_choice_and_shows_the_new_clip(game):
    game.choice.value = 0
    game.guess_button.click()
    game.next_button.click()
    assert game.round == 1
    assert game.choice.value is None and not game.choice.disabled
    assert game.reveal.outputs == ()
    assert game.image.value == frame_png(game.clips[1].frames[0])
    assert game.play.value == 0 and game.play.max == len(game.clips[1].frames) - 1


def test_the_play_counter_animates_the_image(game):
    for k in (3, 7, 11):
        game.play.value = k
        assert game.image.value == frame_png(game.current.frames[k])


def test_the_game_ends_after_every_round(game):
    for _ in range(len(game.clips)):
        game.choice.value = game.current.label
        game.guess_button.click()
        game.next_button.click()
    assert game.finished and game.next_button.disabled
    assert (game.score, game.streak) == (5, 5)
    assert "game over" in text_of(game.status)


def test_guess_rejects_unknown_labels_and_repeated_answers(game):
    with pytest.raises(ValueError, match="not a pace label"):
        game.guess(5)
    game.guess(0)
    with pytest.raises(ValueError, match="already answered"):
        game.guess(1)


# ------------------------------------------------------------------------------------ the model plays


def test_the_model_plays_the_same_clips_and_is_compared(game):
    assert game.model_button.disabled
    with pytest.raises(ValueError, match="no model to play"):
        game.let_model_play()
    model = FixedAnswer(label=2)
    game.set_player(model_player(model, clip_len=8, transform=ClipEval(size=None, crop=6), device="cpu", batch_size=4))
    assert not game.model_button.disabled
    # you: round 1 right, round 2 wrong
    game.choice.value = game.current.label
    game.guess_button.click()
    game.next_button.click()
    game.choice.value = (game.current.label + 1) % 5
    game.guess_button.click()
    game.model_button.click()
    assert game.model_answers == [2] * 5
    # only the first clip_len frames, centre-cropped, reach the model: (B, C, T, crop, crop)
    assert model.shapes == [(4, 3, 8, 6, 6), (1, 3, 8, 6, 6)]
    labels = [c.label for c in game.clips]
    result = game.comparison()
    assert result["played"] == 2 and result["you"] == 0.5
    assert result["model"] == labels.count(2) / 5
    assert result["model_on_yours"] == labels[:2].count(2) / 2
    assert [r["you"] for r in result["rows"]][2:] == ["-"] * 3
    assert [r["model"] for r in result["rows"]] == [game.name(2)] * 2 + ["?"] * 3  # unplayed rounds stay hidden
    assert [r["truth"] for r in result["rows"]][2:] == ["?"] * 3
    table = text_of(game.compare_out)
    assert f"model: {100 * labels.count(2) / 5:.0f}% right over all 5 rounds (chance 20%)" in table
    assert "you: 50% right over the 2 round(s) you played" in table
    assert text_of(game.reveal).endswith(f"The model said {game.name(2)}.\n")


def test_model_player_resizes_to_the_training_size_then_transforms():
    model = FixedAnswer(label=0)
    seen = []

    def transform(clips):  # records what the run's test-time transform would get
        seen.append((tuple(clips.shape), clips.dtype))
        return ClipEval(size=None, crop=5)(clips)

    play = model_player(model, clip_len=4, transform=transform, frame_size=(6, 7))
    clips = torch.full((3, 10, 8, 10, 3), 200, dtype=torch.uint8)
    assert play(clips) == [0, 0, 0]
    assert seen == [((3, 4, 6, 7, 3), torch.uint8)]  # first clip_len frames, decoded size of the run
    assert model.shapes == [(3, 3, 4, 5, 5)]
    with pytest.raises(ValueError, match="needs 4"):
        play(torch.zeros(1, 3, 8, 10, 3, dtype=torch.uint8))
    assert play(torch.zeros(1, 4, 6, 7, 3, dtype=torch.uint8)) == [0]  # already at frame_size: not resized
    assert seen[-1] == ((1, 4, 6, 7, 3), torch.uint8)


def test_a_real_pace_model_plays():
    from pacekit.models import build_model

    model = build_model("tiny", 5)
    clips = make_game_clips(videos(), "absolute", num_rounds=5, clip_len=8, seed=0)
    game = PaceGame(clips, "absolute", player=model_player(model, 8, ClipEval(size=None, crop=8)), zoom=1)
    answers = game.let_model_play()
    assert len(answers) == 5 and all(0 <= a < 5 for a in answers)
    assert model.training  # the player restores the model's mode


def test_a_bad_player_is_refused(game):
    game.set_player(lambda clips: [7] * len(clips))
    with pytest.raises(ValueError, match="expected 5 labels"):
        game.let_model_play()


# ------------------------------------------------------------------------------------ display


def test_frame_png_round_trips_and_zooms():
    frame = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    same = np.asarray(PILImage.open(io.BytesIO(frame_png(frame))))
    assert np.array_equal(same, frame)
    assert PILImage.open(io.BytesIO(frame_png(frame, zoom=3))).size == (27, 18)


def test_the_game_shows_a_short_text_without_a_kernel(game):
    bundle = game._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Guess the pace: 5 rounds, paces super slow (p = 1/3), slow")


def test_pace_names_and_labels_outside_the_set():
    clips = make_game_clips(videos(), "1,2,3,4", num_rounds=4, clip_len=8)
    game = PaceGame(clips, "1,2,3,4", zoom=1)
    assert [game.name(i) for i in range(4)] == ["normal (p = 1)", "fast (p = 2)", "super fast (p = 3)", "p = 4"]
    with pytest.raises(ValueError, match="outside the pace set"):
        PaceGame(clips, [Fraction(1), Fraction(2)])


def test_plot_rounds_labels_truth_and_model():
    import matplotlib.pyplot as plt

    clips = make_game_clips(videos(), "absolute", num_rounds=3, clip_len=12, seed=1)
    game = PaceGame(clips, "absolute", player=lambda c: [1] * len(c), zoom=1)
    game.let_model_play()
    fig = plot_rounds(game, max_frames=4, step=3, show_all=True)
    labels = [ax.get_ylabel() for ax in fig.axes[::4]]
    assert labels[0] == f"round 1\ntruth: {game.name(clips[0].label)}\nmodel: slow (p = 1/2)"
    plt.close(fig)
    # by default only the rounds the player answered are labelled
    game.guess(clips[0].label)
    fig = plot_rounds(game, max_frames=4, step=3)
    labels = [ax.get_ylabel() for ax in fig.axes[::4]]
    assert labels[0] == f"round 1\ntruth: {game.name(clips[0].label)}\nmodel: slow (p = 1/2)"
    assert labels[1:] == [f"round {i}\ntruth: ?\nmodel: ?" for i in (2, 3)]
    plt.close(fig)


# ------------------------------------------------------------------------------------ no spoilers


def widget_strings(widget, seen=None) -> list[str]:
    """Every string a widget tree holds where a player could read it: string traits (value, description,
    tooltip, placeholder, HTML/Label values, alt text, ...) and the text of Output widgets, recursively
    through ``.children``. Options of a selection (every pace name, answer or not) are not state."""
    seen = set() if seen is None else seen
    if id(widget) in seen:
        return []
    seen.add(id(widget))
    found = []
    for name in widget.trait_names():
        if name in ("options", "_options_labels", "children", "outputs") or name.startswith("_model") \
                or name.startswith("_view"):
            continue
        value = getattr(widget, name, None)
        if isinstance(value, str):
            found.append(value)
    for output in getattr(widget, "outputs", ()) or ():
        found.append(str(output.get("text", "")))
        found.extend(str(v) for v in (output.get("data") or {}).values())
    for child in getattr(widget, "children", ()) or ():
        found.extend(widget_strings(child, seen))
    return found


def test_letting_the_model_play_gives_no_answer_away_until_the_round_is_played():
    import ipywidgets

    clips = make_game_clips(videos(), "absolute", num_rounds=5, clip_len=12, seed=3)
    game = PaceGame(clips, "absolute", player=lambda c: [c_.label for c_ in clips], zoom=1)  # an oracle
    game.let_model_play()
    assert game.model_answers == [c.label for c in clips]
    assert isinstance(game.widget(), ipywidgets.VBox)
    text = "\n".join(widget_strings(game.widget()))
    for clip in clips:  # no round is played: no pace label may be readable anywhere
        assert game.name(clip.label) not in text
    assert "?" in text  # the table is there, with its rounds hidden
    assert "truth: " not in text and "The pace was" not in text

    first = clips[0]
    game.choice.value = (first.label + 1) % 5  # a wrong guess, so the truth is not the player's own word
    game.guess_button.click()
    # The table already on screen gains the played round's row at once, without pressing the button.
    table = "\n".join(widget_strings(game.compare_out))
    assert game.name(first.label) in table and "no guesses yet" not in table
    game.model_button.click()
    text = "\n".join(widget_strings(game.widget()))
    assert game.name(first.label) in text
    assert f"the pace was {game.name(first.label)}" in text
    shown = {first.label, (first.label + 1) % 5}
    for clip in clips[1:]:
        if clip.label not in shown:
            assert game.name(clip.label) not in text


def test_read_videos_decodes_every_frame(tmp_path):
    from pacekit.data.synthetic import render_video, write_video

    frames = render_video(0, 1, width=32, height=24, num_frames=20)
    write_video(tmp_path / "v_Bounce_g01_c01.avi", frames)
    (name, decoded), = read_videos([tmp_path / "v_Bounce_g01_c01.avi"])
    assert name == "v_Bounce_g01_c01" and decoded.shape == (20, 24, 32, 3) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 8  # lossy MPEG-4, same pictures


# ------------------------------------------------------------------------------------- live training curves


def test_live_curves_show_the_logged_metrics_and_redraw_them_as_the_log_grows(tmp_path, monkeypatch):
    """LiveCurves shows one figure, then updates it in place; each figure plots the run's metrics.jsonl."""
    import IPython.display

    from pacekit.notebook import LiveCurves
    from pacekit.training.logging import MetricsLog

    shown = []  # the figures, in the order they reached the notebook output

    class Handle:
        def update(self, fig):
            shown.append(("update", fig))

    def display(fig, display_id=False):
        assert display_id is True  # a handle to update, so the cell keeps one live figure
        shown.append(("display", fig))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    log = MetricsLog(tmp_path)
    step = lambda s, loss, acc: {"stage": "pretrain", "kind": "step", "epoch": 1, "step": s,  # noqa: E731
                                 "loss": loss, "acc": acc}
    for row in (step(2, 1.5, 0.25), step(4, 1.0, 0.5)):
        log.append(row)
    live = LiveCurves(tmp_path, title="run")
    live({"kind": "epoch"})
    log.append(step(6, 0.5, 0.75))
    log.append({"stage": "pretrain", "kind": "epoch", "epoch": 1, "step": 6, "loss": 0.9, "acc": 0.5})
    live({"kind": "epoch"})

    assert [how for how, _ in shown] == ["display", "update"]

    def plotted(fig):  # (x, y) of every line of the loss and the accuracy axes
        loss_ax, acc_ax = fig.axes
        return [[(list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines] for ax in (loss_ax, acc_ax)]

    first, second = (fig for _, fig in shown)
    assert plotted(first) == [[([2, 4], [1.5, 1.0])], [([2, 4], [25.0, 50.0])]]
    assert plotted(second) == [[([2, 4, 6], [1.5, 1.0, 0.5]), ([6], [0.9])],
                               [([2, 4, 6], [25.0, 50.0, 75.0]), ([6], [50.0])]]
    assert first.get_suptitle() == second.get_suptitle() == "run"

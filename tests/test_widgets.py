"""The pace game on screen (pacekit.teaching.widgets.GameView), played headless: click buttons, send key messages,
read every widget's state."""

import io

import numpy as np
import pytest
import torch
from PIL import Image as PILImage
from torch import nn

from pacekit.data import ClipEval
from pacekit.teaching.game import PaceGame, make_rounds
from pacekit.teaching.widgets import (
    GameView,
    animation_timeline,
    clip_animation,
    confusion_html,
    model_player,
    plot_rounds,
    read_videos,
)


def numbered_video(num_frames: int, height: int = 8, width: int = 10) -> np.ndarray:
    """Frame k is filled with the value k (times 3, so frames differ visibly)."""
    values = (np.arange(num_frames) * 3 % 256).astype(np.uint8)
    return np.broadcast_to(values[:, None, None, None], (num_frames, height, width, 3)).copy()


def videos():
    return [(f"v_{c}_g{g:02d}_c01", numbered_video(60 + 4 * g)) for c in ("Bounce", "Orbit") for g in (1, 2)]


class FixedAnswer(nn.Module):
    """A pace model that always scores ``label`` highest and records the input shapes it was given."""

    def __init__(self, label: int, num_paces: int = 5):
        super().__init__()
        self.label, self.num_paces, self.shapes = label, num_paces, []

    def forward(self, x):
        self.shapes.append(tuple(x.shape))
        logits = torch.zeros(x.shape[0], self.num_paces)
        logits[:, self.label] = 1.0
        return logits


def oracle(rounds):
    """A player that knows every clip's pace."""
    labels = [c.label for r in rounds for c in r.clips]
    return lambda clips: np.eye(5)[labels]


@pytest.fixture
def rounds():
    return make_rounds(videos(), "absolute", num_rounds=6, clip_len=8, crop=6, seed=3)


@pytest.fixture
def view(rounds):
    return GameView(PaceGame(rounds, "absolute"), fps=25)


# ------------------------------------------------------------------------------------ playback


@pytest.mark.parametrize("fps", [25, 10])
def test_a_clip_plays_in_the_browser_at_the_videos_frame_rate_looping(fps):
    frames = np.stack([numbered_video(12)[k] for k in (0, 1, 1, 2, 5, 5, 5, 9)])  # repeats, like a slow clip
    data = clip_animation(frames, fps)
    shown, durations = animation_timeline(data)
    # what the browser shows at each tick of 1/fps s is the clip's frame of that tick, exactly (lossless)
    ticks = [frame for frame, ms in zip(shown, durations) for _ in range(ms * fps // 1000)]
    assert all(ms * fps % 1000 == 0 for ms in durations)
    assert sum(durations) == len(frames) * 1000 // fps
    assert len(ticks) == len(frames) and all(np.array_equal(a, b) for a, b in zip(ticks, frames))
    image = PILImage.open(io.BytesIO(data))
    assert image.format == "WEBP" and image.info.get("loop") == 0 and image.is_animated
    assert not {"exif", "xmp", "icc_profile"} & set(image.info)  # pixels and timing only


def test_clip_animation_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8 frames"):
        clip_animation(np.zeros((3, 4, 4), np.uint8), 25)
    with pytest.raises(ValueError, match="fps"):
        clip_animation(np.zeros((3, 4, 4, 3), np.uint8), 0)


def test_the_images_on_screen_are_the_rounds_clips_as_the_model_sees_them(view, rounds):
    for r, rnd in enumerate(rounds):
        images = [box.children[1] for box in view.clips_box.children]
        clips = list(rnd.clips) + ([rnd.reference] if rnd.reference is not None else [])
        assert len(images) == len(clips)
        for image, clip in zip(images, clips):
            shown, _ = animation_timeline(image.value)
            assert image.format == "webp" and shown[0].shape == (6, 6, 3)  # the model's crop, enlarged by the page
            assert np.array_equal(shown[0], clip.frames[0])
        view.answer(0)
        view.next()


# ------------------------------------------------------------------------------------ playing


def test_a_round_is_answered_by_a_button_or_a_key_then_locked(view):
    game = view.game
    assert [b.description for b in view.choice_buttons] == ["1: clip A", "2: clip B", "3: clip C"]
    assert view.next_button.disabled  # answer first
    right = game.current.answer
    view.choice_buttons[right].click()
    assert (game.score, game.played, game.streak) == (1, 1, 1)
    assert view.choice_buttons[right].button_style == "success" and all(b.disabled for b in view.choice_buttons)
    assert view.reveal.value.startswith("Right!") and "score 1/1" in view.status.value
    view.press(str((right + 1) % 3 + 1))  # a key on an answered round changes nothing
    assert game.played == 1
    view.press("Enter")
    assert game.round == 1 and view.reveal.value == ""
    assert [b.description for b in view.choice_buttons][0] == "1: super slow (p = 1/3)"
    wrong = (game.current.answer + 1) % 5
    view.press(str(wrong + 1))
    assert (game.score, game.played, game.streak, game.best_streak) == (1, 2, 0, 1)
    assert view.choice_buttons[wrong].button_style == "danger"
    assert view.reveal.value.startswith("Not quite: the pace was")


def test_the_classroom_keys_reach_the_game_as_messages_from_the_page(rounds):
    view = GameView(PaceGame(rounds, "absolute"), keys=True, font=24)
    assert "font-size: 24px" in view.style.value
    assert view.keys in view.view.children and "keydown" in view.keys._esm
    view.keys._handle_custom_msg({"key": "2"}, [])  # what the page's keydown handler sends
    assert view.game.answers[0] == 1
    view.keys._handle_custom_msg({"key": " "}, [])
    assert view.game.round == 1
    view.keys._handle_custom_msg({"key": "9"}, [])  # no ninth choice: ignored
    assert view.game.answers[1] is None


def test_a_whole_game_ends_with_scores_chance_and_both_confusion_matrices(rounds):
    game = PaceGame(rounds, "absolute", player=oracle(rounds))
    view = GameView(game)
    for _ in rounds:
        assert view.end.value == ""
        view.press("1")
        view.press("Enter")
    assert game.finished and view.next_button.disabled and "game over" in view.status.value
    assert view.end.value.count("<table>") == 1 and "Let the model play" in view.end.value
    view.model_button.click()
    assert view.model_button.layout.display == "none"  # the model has played: no button left to press
    end = view.end.value
    s = game.scores()
    assert f"you: <b>{s['you']}/6</b>" in end and "the model: <b>6/6</b>" in end
    assert f"guessing at random: {s['chance']:.1f}/6" in end and s["chance"] == pytest.approx(3 * (1 / 3 + 1 / 5))
    names = ["p = 1/3", "p = 1/2", "p = 1", "p = 2", "p = 3"]
    assert confusion_html(game.confusion("you"), names, "you") in end
    assert confusion_html(game.confusion("model"), names, "the model") in end
    assert game.confusion("model").trace() == 6


def test_confusion_html_puts_true_paces_in_rows():
    table = confusion_html(np.array([[1, 2], [0, 3]]), ["a", "b"], "you")
    assert "<tr><th>a</th><td><b>1</b></td><td>2</td></tr><tr><th>b</th><td>0</td><td><b>3</b></td></tr>" in table


# ------------------------------------------------------------------------------------ the model plays


def test_model_player_gives_pace_probabilities_of_the_first_clip_len_frames_centre_cropped():
    model = FixedAnswer(label=2)
    play = model_player(model, clip_len=8, transform=ClipEval(size=None, crop=6), batch_size=4)
    scores = play(torch.zeros(5, 10, 8, 10, 3, dtype=torch.uint8))
    assert scores.shape == (5, 5) and np.allclose(scores.sum(1), 1) and (scores.argmax(1) == 2).all()
    assert model.shapes == [(4, 3, 8, 6, 6), (1, 3, 8, 6, 6)]
    with pytest.raises(ValueError, match="needs 8"):
        play(torch.zeros(1, 3, 8, 10, 3, dtype=torch.uint8))


def test_model_player_resizes_to_the_training_size_then_transforms():
    model = FixedAnswer(label=0)
    seen = []

    def transform(clips):
        seen.append((tuple(clips.shape), clips.dtype))
        return ClipEval(size=None, crop=5)(clips)

    play = model_player(model, clip_len=4, transform=transform, frame_size=(6, 7))
    play(torch.full((3, 10, 8, 10, 3), 200, dtype=torch.uint8))
    assert seen == [((3, 4, 6, 7, 3), torch.uint8)]


def test_a_real_pace_model_plays_the_rounds(rounds):
    from pacekit.models import build_model

    model = build_model("tiny", 5)
    game = PaceGame(rounds, "absolute", player=model_player(model, 8, ClipEval(size=None, crop=6)))
    view = GameView(game)
    view.model_button.click()
    assert len(game.model_answers) == 6 and model.training  # the player restores the model's mode
    assert all(0 <= a < len(game.choices(i)) for i, a in enumerate(game.model_answers))


# ------------------------------------------------------------------------------------ no spoilers


def widget_tree(widget, seen=None):
    """Every widget reachable from ``widget`` through its synced state (children, layouts, styles, ...)."""
    import ipywidgets

    seen = {} if seen is None else seen
    if widget.model_id in seen:
        return seen
    seen[widget.model_id] = widget
    for name in widget.keys:
        value = getattr(widget, name)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, ipywidgets.Widget):
                widget_tree(item, seen)
    return seen


def page_state(view):
    """The whole synced state of the game's widgets: what a browser (or a curious student) can read."""
    strings, blobs = [], []

    def walk(value):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            blobs.append(bytes(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                strings.append(str(k))
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif value is not None and not isinstance(value, (bool, int, float)):
            strings.append(str(value))

    for widget in widget_tree(view.widget()).values():
        walk(widget.get_state())
    return "\n".join(strings), blobs


SPOILERS = ("Right", "Not quite", "was at natural pace", "The model said", "the pace was", "success", "danger",
            "Game over")


def assert_no_spoiler(view, rounds):
    text, blobs = page_state(view)
    for word in SPOILERS:
        assert word not in text, word
    for rnd in rounds:
        for clip in rnd.clips:
            assert clip.video not in text  # nor the video's name
            assert all(clip.video.encode() not in blob for blob in blobs)
    for blob in blobs:  # the animations carry no pace name, no file name
        assert b"p = " not in blob and b"normal" not in blob and b"v_" not in blob
    return text


def test_nothing_on_the_page_tells_a_rounds_answer_before_it_is_answered(rounds):
    game = PaceGame(rounds, "absolute", player=oracle(rounds))
    view = GameView(game, keys=True)
    view.let_model_play()  # the model, an oracle here, has answered every round
    assert game.model_answers == [r.answer for r in rounds]
    for r, rnd in enumerate(rounds):
        text = assert_no_spoiler(view, rounds)
        assert game.reveal_text() == "" and view.end.value == ""
        assert f"Round {r + 1} of 6" in text
        # the answer's place is not given away by the order of the clips or the buttons
        assert [b.button_style for b in view.choice_buttons] == [""] * len(view.choice_buttons)
        if r:  # the table of played rounds shows this round and the later ones as ?
            rows = view.table.value.split("<tr>")[1:][1:]
            assert all("<td>?</td>" in row for row in rows[r:])
        view.press(str((rnd.answer + 1) % len(game.choices()) + 1))  # a wrong answer
        assert "Not quite" in view.reveal.value and "The model said" in view.reveal.value
        view.press("Enter")
    assert "Game over" in view.end.value


def test_the_natural_clip_of_pick_rounds_moves_between_positions():
    rounds = make_rounds(videos(), "absolute", num_rounds=12, clip_len=8, kinds=("pick",), seed=0)
    assert len({r.answer for r in rounds}) == 3


# ------------------------------------------------------------------------------------ display


def test_the_game_shows_a_short_text_without_a_kernel(view):
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "Guess the pace: 6 rounds (pick, reference) (an interactive widget: run the notebook to play)"


def test_plot_rounds_labels_only_answered_rounds(rounds):
    import matplotlib.pyplot as plt

    game = PaceGame(rounds, "absolute", player=oracle(rounds))
    game.let_model_play()
    game.guess(game.current.answer)
    fig = plot_rounds(game, max_frames=4)
    labels = [ax.get_ylabel() for ax in fig.axes[::4]]
    first = rounds[0]
    assert labels[0] == f"round 1 clip A\ntruth: {game.name(first.clips[0].label)}\nmodel: clip {'ABC'[first.answer]}"
    assert labels[3] == "round 2\ntruth: ?\nmodel: ?"
    assert len(labels) == 3 * 3 + 3
    plt.close(fig)


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

    from pacekit.teaching.notebook import LiveCurves
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

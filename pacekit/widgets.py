"""The pace-guessing game of notebook 02: the paper's Fig. 1 ("can you tell the pace?") as a widget.

A round shows one clip of a video played at a pace from the game's pace set (by default the five
paces of Fig. 2, super slow p = 1/3 ... super fast p = 3). The player picks a pace and presses
*Guess*; the game reveals the answer and keeps a score and a streak. A model can play the same clips
(:func:`model_player`), and :meth:`PaceGame.comparison` sets its answers beside the player's.

Logic and view are one object, but the logic never needs a browser: :meth:`PaceGame.guess`,
:meth:`PaceGame.next_round` and :meth:`PaceGame.let_model_play` change the state, and the widgets are
only kept in step. Tests drive it headless the way a user does: set ``game.choice.value`` and call
``game.guess_button.click()``.

Only core ipywidgets are used (``Play``, ``Image``, ``ToggleButtons``, ``Button``, ``Output``,
``HBox``, ``VBox``), so the game runs in JupyterLab, Jupyter Notebook, VS Code and Colab alike. The
clip is animated by a ``Play`` counter that swaps PNG frames into an ``Image`` at the video's frame
rate. Text is written into ``Output`` widgets by setting their ``outputs``, which works with or
without a front end.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from .data.strips import read_strip
from .pace import PACE_NAMES, PaceSet, sample_indices, sample_start
from .plots import plot_pace_strip

#: What the game shows in place of an answer the player has not earned yet (an unplayed round).
HIDDEN = "?"

#: ``player(clips) -> pace labels``: clips uint8 ``(B, T, H, W, C)`` (a torch tensor), labels ``(B,)`` ints.
Player = Callable[[object], Sequence[int]]


@dataclass(frozen=True)
class GameClip:
    """One round: ``frames`` uint8 ``(T, H, W, 3)`` as played, the pace (and its ``label`` in the game's
    pace set), the source ``video``'s name and the 0-based ``start`` frame."""

    frames: np.ndarray
    label: int
    pace: Fraction
    video: str
    start: int


def make_game_clips(
    videos: Sequence[tuple[str, np.ndarray]],
    pace_set: Union[str, PaceSet, Sequence] = "absolute",
    num_rounds: int = 8,
    clip_len: int = 24,
    seed: int = 0,
) -> list[GameClip]:
    """Draw ``num_rounds`` clips from natural-pace videos, each pace equally often.

    Args:
        videos: ``(name, frames)`` pairs, frames uint8 ``(N, H, W, 3)`` at natural pace.
        pace_set: the paces to guess among (default: Fig. 2's five).
        num_rounds: clips in the game; paces are dealt round-robin and shuffled, so with 5 paces and 10
            rounds every pace appears twice. Videos are used in a shuffled order, cycling if needed.
        clip_len: frames per clip; 24 frames are about one second at 25 fps.
        seed: the game is a pure function of its arguments.

    Returns:
        The rounds, in play order. Each clip's start is drawn so its span fits the video when it can
        (the ``"fit"`` policy of :func:`pacekit.pace.sample_start`); a short video loops.
    """
    if not videos:
        raise ValueError("make_game_clips needs at least one (name, frames) video")
    if num_rounds < 1:
        raise ValueError(f"num_rounds must be >= 1, got {num_rounds}")
    paces = PaceSet.from_spec(pace_set)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.resize(np.arange(len(paces)), num_rounds))
    order = rng.permutation(len(videos))
    clips = []
    for r, label in enumerate(labels):
        name, frames = videos[order[r % len(videos)]]
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"video {name!r}: expected uint8 frames (N, H, W, 3), got {frames.shape} {frames.dtype}")
        pace = paces.pace_of(int(label))
        start = sample_start(len(frames), clip_len, pace, "fit", rng)
        idx = sample_indices(len(frames), clip_len, pace, start)
        clips.append(GameClip(frames[idx], int(label), pace, str(name), int(start)))
    return clips


def read_videos(paths: Sequence, frame_size: Optional[tuple[int, int]] = None) -> list[tuple[str, np.ndarray]]:
    """``(file name, all frames (N, H, W, 3) uint8)`` of each video, decoded at ``frame_size`` (H, W)."""
    # np.arange(num_frames): every frame, in order
    return [(Path(path).stem, read_strip(path, np.arange, size=frame_size).numpy()) for path in paths]


def model_player(model, clip_len: int, transform, frame_size: Optional[tuple[int, int]] = None, device="cpu",
                 batch_size: int = 8) -> Player:
    """A :data:`Player` from a pace-prediction model: the arg-max of its pace logits on each clip.

    Args:
        model: maps float clips ``(B, C, T, h, w)`` to pace logits (a pretraining ClipModel).
        clip_len: the model sees the first ``clip_len`` frames of each game clip. A longer game clip starts
            with exactly the clip the model was trained on: frame i of both is ``start + floor(i * p)``.
        transform: uint8 ``(B, T, H, W, C)`` -> float ``(B, C, T, h, w)``, the run's test-time transform
            (``pacekit.loading.eval_transform(cfg)``: centre crop, normalisation, the input mode).
        frame_size: ``(H, W)`` the model's frames were decoded at; game frames are resized to it first
            (bilinear, antialiased, like the readers' resize). None: use them as they are.
    """
    import torch

    @torch.inference_mode()
    def play(clips) -> list[int]:
        clips = torch.as_tensor(clips)
        if clips.shape[1] < clip_len:
            raise ValueError(f"game clips have {clips.shape[1]} frames but the model needs {clip_len}")
        was_training = model.training
        model.eval()
        try:
            answers = []
            for i in range(0, len(clips), batch_size):
                batch = clips[i:i + batch_size, :clip_len]  # (b, T, H, W, C) uint8
                if frame_size is not None and tuple(batch.shape[2:4]) != tuple(frame_size):
                    batch = _resize_uint8(batch, frame_size)
                answers.extend(int(a) for a in model(transform(batch.to(device))).argmax(1).cpu())
        finally:
            model.train(was_training)
        return answers

    return play


def _resize_uint8(clips, size):
    """uint8 ``(B, T, H, W, C)`` -> ``(B, T, size[0], size[1], C)``, bilinear and antialiased."""
    from torchvision.transforms.v2.functional import resize

    b, t = clips.shape[:2]
    frames = clips.flatten(0, 1).permute(0, 3, 1, 2)  # (B*T, C, H, W)
    frames = resize(frames, list(size), antialias=True)
    return frames.permute(0, 2, 3, 1).unflatten(0, (b, t)).contiguous()


def frame_png(frame: np.ndarray, zoom: int = 1) -> bytes:
    """PNG bytes of one uint8 ``(H, W, 3)`` frame, enlarged ``zoom`` times (bilinear)."""
    from PIL import Image as PILImage

    image = PILImage.fromarray(np.ascontiguousarray(frame))
    if zoom != 1:
        image = image.resize((image.width * zoom, image.height * zoom), PILImage.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _text_output(text: str) -> tuple:
    return ({"output_type": "stream", "name": "stdout", "text": text if text.endswith("\n") else text + "\n"},)


class PaceGame:
    """Guess the pace (paper Fig. 1): the game's state and its widget.

    Args:
        clips: the rounds, e.g. from :func:`make_game_clips`.
        pace_set: the paces the clips' labels index (the buttons, slowest first).
        player: a :data:`Player` (e.g. :func:`model_player`) that can play the same clips; it can also be
            given later with :meth:`set_player`.
        fps: playback rate of the animation (the synthetic set and UCF101 are 25 fps).
        zoom: on-screen enlargement of the frames.

    State: ``round`` (0-based), ``guesses`` (a label or None per round), ``score``, ``played``,
    ``streak``, ``best_streak``, ``model_answers`` (None until the model plays).
    """

    def __init__(self, clips: Sequence[GameClip], pace_set: Union[str, PaceSet, Sequence] = "absolute",
                 player: Optional[Player] = None, fps: int = 25, zoom: int = 3):
        if not clips:
            raise ValueError("a game needs at least one clip; see make_game_clips")
        self.clips = list(clips)
        self.pace_set = PaceSet.from_spec(pace_set)
        bad = [c.label for c in self.clips if not 0 <= c.label < len(self.pace_set)]
        if bad:
            raise ValueError(f"clip labels {bad} are outside the pace set {[str(p) for p in self.pace_set]}")
        self.player = player
        self.fps, self.zoom = int(fps), int(zoom)
        self.round = 0
        self.guesses: list[Optional[int]] = [None] * len(self.clips)
        self.streak = 0
        self.best_streak = 0
        self.model_answers: Optional[list[int]] = None
        self._frames_png: list[bytes] = []
        self._build_widgets()
        self._show_round()

    # -------------------------------------------------------------------------------- the logic

    @property
    def current(self) -> GameClip:
        return self.clips[self.round]

    @property
    def played(self) -> int:
        """Rounds guessed so far."""
        return sum(g is not None for g in self.guesses)

    @property
    def score(self) -> int:
        """Right guesses so far."""
        return sum(g == c.label for g, c in zip(self.guesses, self.clips) if g is not None)

    @property
    def finished(self) -> bool:
        return self.played == len(self.clips)

    def name(self, label: int) -> str:
        """A pace label as the buttons show it, e.g. ``"slow (p = 1/2)"``."""
        return _pace_label(self.pace_set, label)

    def guess(self, label: int) -> bool:
        """Answer the current round with pace ``label``; returns whether it was right, and reveals it."""
        label = int(label)
        if not 0 <= label < len(self.pace_set):
            raise ValueError(f"guess {label} is not a pace label of {[str(p) for p in self.pace_set]}")
        if self.guesses[self.round] is not None:
            raise ValueError(f"round {self.round + 1} was already answered; go on with next_round()")
        self.guesses[self.round] = label
        right = label == self.current.label
        self.streak = self.streak + 1 if right else 0
        self.best_streak = max(self.best_streak, self.streak)
        self._show_reveal()
        self._show_status()
        if self.model_answers is not None:  # the table on screen gains this round's row
            self._show_comparison()
        self._sync_buttons()
        return right

    def next_round(self) -> None:
        """Go to the next clip (wrapping to the first unanswered one at the end)."""
        unanswered = [i for i, g in enumerate(self.guesses) if g is None]
        if not unanswered:
            self._show_status()
            return
        later = [i for i in unanswered if i > self.round]
        self.round = later[0] if later else unanswered[0]
        self._show_round()

    def reveal_text(self, round_index: Optional[int] = None) -> str:
        """What the reveal says about a round (empty before it is answered)."""
        r = self.round if round_index is None else round_index
        guess, clip = self.guesses[r], self.clips[r]
        if guess is None:
            return ""
        truth = self.name(clip.label)
        if guess == clip.label:
            text = f"Right! The pace was {truth}."
        else:
            text = f"Not quite: the pace was {truth}; you said {self.name(guess)}."
        if self.model_answers is not None:
            text += f" The model said {self.name(self.model_answers[r])}."
        return text

    def status_text(self) -> str:
        text = (f"Round {self.round + 1} of {len(self.clips)} | score {self.score}/{self.played} | "
                f"streak {self.streak} (best {self.best_streak})")
        if self.finished:
            text += " | game over: press 'Let the model play' to compare"
        return text

    def set_player(self, player: Player) -> None:
        """Give the game a model to play the same clips (forgets earlier model answers)."""
        self.player = player
        self.model_answers = None
        self._sync_buttons()

    def let_model_play(self) -> list[int]:
        """The model's answer for every round (computed once and returned), shown beside the player's.

        The table on screen shows the truth and the model's answer only for rounds the player has already
        answered; the other rounds show ``?``, so letting the model play gives nothing away."""
        if self.model_answers is None:
            if self.player is None:
                raise ValueError("no model to play: give PaceGame(player=...) or call set_player(model_player(...))")
            import torch

            answers = [int(a) for a in self.player(torch.from_numpy(np.stack([c.frames for c in self.clips])))]
            if len(answers) != len(self.clips) or not all(0 <= a < len(self.pace_set) for a in answers):
                raise ValueError(f"the player returned {answers}; expected {len(self.clips)} labels in "
                                 f"[0, {len(self.pace_set)})")
            self.model_answers = answers
        self._show_comparison()
        self._show_reveal()
        return self.model_answers

    def comparison(self) -> dict:
        """You against the model, on the same clips.

        Returns:
            ``rows``: one dict per round (``round``, ``video``, ``truth``, ``you``, ``model``: pace names).
            A round you have not answered shows ``"?"`` for ``truth`` and ``model`` and ``"-"`` for ``you``:
            no answer is given away before you commit to yours. ``you``: your accuracy over the rounds you played (None
            before any); ``model_on_yours``: the model's over those rounds; ``model``: its accuracy over all
            rounds (None until it has played); ``played``: how many rounds you answered.
        """
        answers = self.model_answers
        rows, you_right, model_right_yours, model_right = [], 0, 0, 0
        for i, (clip, guess) in enumerate(zip(self.clips, self.guesses)):
            model = None if answers is None else answers[i]
            if guess is None:  # unplayed: neither the truth nor the model's answer is shown
                shown_truth, shown_model = HIDDEN, "-" if model is None else HIDDEN
            else:
                shown_truth, shown_model = self.name(clip.label), "-" if model is None else self.name(model)
            rows.append({"round": i + 1, "video": clip.video, "truth": shown_truth,
                         "you": "-" if guess is None else self.name(guess), "model": shown_model})
            if model is not None:
                model_right += model == clip.label
            if guess is not None:
                you_right += guess == clip.label
                if model is not None:
                    model_right_yours += model == clip.label
        played = self.played
        return {
            "rows": rows,
            "played": played,
            "you": you_right / played if played else None,
            "model_on_yours": model_right_yours / played if played and answers is not None else None,
            "model": model_right / len(self.clips) if answers is not None else None,
        }

    def comparison_text(self) -> str:
        """:meth:`comparison` as a fixed-width table plus a verdict."""
        c = self.comparison()
        widths = {k: max(len(k), *(len(str(r[k])) for r in c["rows"])) for k in ("round", "video", "truth", "you", "model")}
        header = "  ".join(k.ljust(w) for k, w in widths.items())
        lines = [header.rstrip(), "  ".join("-" * w for w in widths.values())]
        lines += ["  ".join(str(r[k]).ljust(w) for k, w in widths.items()).rstrip() for r in c["rows"]]
        chance = 100 / len(self.pace_set)
        lines.append("")
        if c["model"] is not None:
            lines.append(f"model: {100 * c['model']:.0f}% right over all {len(self.clips)} rounds (chance {chance:.0f}%)")
        if c["played"] < len(self.clips):
            lines.append(f"rounds you have not played show {HIDDEN}: play them to see the truth and the model's answer")
        if c["you"] is not None:
            mine = f"you: {100 * c['you']:.0f}% right over the {c['played']} round(s) you played"
            if c["model_on_yours"] is not None:
                mine += f"; the model got {100 * c['model_on_yours']:.0f}% of those"
            lines.append(mine)
        else:
            lines.append("you: no guesses yet -- play the game above, then compare again")
        return "\n".join(lines)

    # -------------------------------------------------------------------------------- the view

    def _build_widgets(self) -> None:
        import ipywidgets as w

        n = len(self.current.frames)
        self.play = w.Play(value=0, min=0, max=n - 1, step=1, interval=max(1, round(1000 / self.fps)),
                           repeat=True, description="play", show_repeat=False)
        self.image = w.Image(format="png")
        self.choice = w.ToggleButtons(options=[(self.name(i), i) for i in range(len(self.pace_set))], value=None,
                                      description="Pace:", style={"button_width": "auto"})
        self.guess_button = w.Button(description="Guess", button_style="primary", icon="check")
        self.next_button = w.Button(description="Next clip", icon="forward")
        self.model_button = w.Button(description="Let the model play", icon="desktop")
        self.status = w.Output()
        self.reveal = w.Output()
        self.compare_out = w.Output()
        self.play.observe(self._on_frame, names="value")
        self.guess_button.on_click(self._on_guess)
        self.next_button.on_click(lambda _: self.next_round())
        self.model_button.on_click(self._on_model)
        self.choice.observe(lambda _: self._sync_buttons(), names="value")
        self.view = w.VBox([
            self.status,
            w.HBox([self.image]),
            self.play,
            self.choice,
            w.HBox([self.guess_button, self.next_button, self.model_button]),
            self.reveal,
            self.compare_out,
        ])

    def widget(self):
        """The game's widget (a VBox); display it, or let the notebook show the game itself."""
        return self.view

    def _repr_mimebundle_(self, **kwargs):
        """Jupyter shows the widget; a page without a kernel (GitHub) shows this short line instead of
        the widget tree's repr."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = (f"Guess the pace: {len(self.clips)} rounds, paces "
                                f"{', '.join(self.name(i) for i in range(len(self.pace_set)))} "
                                "(an interactive widget: run the notebook to play)")
        return bundle

    def _on_frame(self, change) -> None:
        if self._frames_png:
            self.image.value = self._frames_png[int(change["new"]) % len(self._frames_png)]

    def _on_guess(self, _button) -> None:
        if self.choice.value is not None and self.guesses[self.round] is None:
            self.guess(self.choice.value)

    def _on_model(self, _button) -> None:
        if self.player is not None:
            self.let_model_play()

    def _show_round(self) -> None:
        clip = self.current
        self._frames_png = [frame_png(f, self.zoom) for f in clip.frames]
        self.play.playing = False
        self.play.max = len(self._frames_png) - 1
        self.play.value = 0
        self.image.value = self._frames_png[0]
        self.choice.value = None
        self.reveal.outputs = ()
        self._show_status()
        self._sync_buttons()

    def _show_status(self) -> None:
        self.status.outputs = _text_output(self.status_text())

    def _show_reveal(self) -> None:
        text = self.reveal_text()
        self.reveal.outputs = _text_output(text) if text else ()

    def _show_comparison(self) -> None:
        self.compare_out.outputs = _text_output(self.comparison_text())

    def _sync_buttons(self) -> None:
        answered = self.guesses[self.round] is not None
        self.guess_button.disabled = answered or self.choice.value is None
        self.choice.disabled = answered
        self.next_button.disabled = self.finished
        self.model_button.disabled = self.player is None


def _pace_label(pace_set: PaceSet, label: int) -> str:
    pace = pace_set.pace_of(label)
    return f"{PACE_NAMES[pace]} (p = {pace})" if pace in PACE_NAMES else f"p = {pace}"


def plot_rounds(game: PaceGame, max_frames: int = 8, step: int = 3, show_all: bool = False):
    """A still of every round for readers without a kernel (GitHub): every ``step``-th frame of each clip,
    labelled with the truth and, once it has played, the model's answer. Returns the Figure.

    Only rounds the player has answered are labelled with their truth and the model's answer; the others
    show ``?``, unless ``show_all`` (which gives every answer away)."""
    rows = {}
    for i, clip in enumerate(game.clips):
        shown = show_all or game.guesses[i] is not None
        label = f"round {i + 1}\ntruth: {game.name(clip.label) if shown else HIDDEN}"
        if game.model_answers is not None:
            label += f"\nmodel: {game.name(game.model_answers[i]) if shown else HIDDEN}"
        rows[label] = clip.frames[::step][:max_frames]
    title = f"the game's clips, one frame in {step} (the widget plays every frame at {game.fps} fps)"
    return plot_pace_strip(rows, max_frames=max_frames, title=title)


__all__ = ["GameClip", "PaceGame", "Player", "frame_png", "make_game_clips", "model_player", "plot_rounds",
           "read_videos"]

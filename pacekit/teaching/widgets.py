"""The pace-guessing game of notebook 02 and of ``pacekit game`` on screen: the widget over :mod:`pacekit.teaching.game`.

:class:`GameView` shows a :class:`pacekit.teaching.game.PaceGame`: the round's clips as animated images that the
browser plays, looping, at the video's frame rate (lossless animated WebP in an ``ipywidgets.Image``:
the kernel sends each clip once, so playback does not depend on the kernel's round-trip time), one
button per answer, *Next round*, and at the end the player's and the model's confusion matrices side by
side with the scores and chance. Nothing a page holds before an answer names the truth: clips are
labelled A, B, C in a shuffled order, the images carry no file name or alt text, and the table, the
reveal and the matrices keep to the rounds already answered (:meth:`PaceGame.truth_shown`).

Only core ipywidgets are used (``Image``, ``Button``, ``HTML``, ``HBox``, ``VBox``), so the game runs in
JupyterLab, Jupyter Notebook, VS Code, Colab and Voila alike. ``keys=True`` adds :func:`key_listener`,
an ``anywidget`` that sends key presses (1..9 answer, Enter or space goes on) to the kernel: the
classroom page of ``pacekit game`` uses it. Tests drive the view headless the way a user does:
``view.choice_buttons[i].click()``, ``view.next_button.click()``, ``view.press("2")``.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..data.strips import read_strip
from ..study.plots import plot_pace_strip
from .game import HIDDEN, GameClip, PaceGame, Player

#: Keys the classroom page listens to: 1..9 pick a choice, Enter or space go to the next round.
ANSWER_KEYS = tuple("123456789")
NEXT_KEYS = ("Enter", " ")

_STYLE = """<style>
.pacekit-game img {{ image-rendering: pixelated; }}
.pacekit-game, .pacekit-game .widget-html-content {{ font-size: {font}px; line-height: 1.35; }}
.pacekit-game .widget-html, .pacekit-game .widget-html-content {{ height: auto; }}
.pacekit-game .widget-button {{ font-size: {font}px; height: auto; padding: 0.3em 0.8em; }}
.pacekit-game table {{ border-collapse: collapse; margin: 0.3em 1em 0.3em 0; }}
.pacekit-game td, .pacekit-game th {{ border: 1px solid #bbb; padding: 0.15em 0.5em; text-align: center; }}
</style>"""


def read_videos(paths: Sequence, frame_size: Optional[tuple[int, int]] = None) -> list[tuple[str, np.ndarray]]:
    """``(file name, all frames (N, H, W, 3) uint8)`` of each video, decoded at ``frame_size`` (H, W)."""
    # np.arange(num_frames): every frame, in order
    return [(Path(path).stem, read_strip(path, np.arange, size=frame_size).numpy()) for path in paths]


def model_player(model, clip_len: int, transform, frame_size: Optional[tuple[int, int]] = None, device="cpu",
                 batch_size: int = 8) -> Player:
    """A :data:`pacekit.teaching.game.Player` from a pace-prediction model: the softmax of its pace logits per clip.

    Args:
        model: maps float clips ``(B, C, T, h, w)`` to pace logits (a pretraining ClipModel).
        clip_len: the model sees the first ``clip_len`` frames of each clip (the game's clips have exactly
            that many when dealt with the model's ``clip_len``).
        transform: uint8 ``(B, T, H, W, C)`` -> float ``(B, C, T, h, w)``, the run's test-time transform
            (``pacekit.training.loading.eval_transform(cfg)``: centre crop, normalisation, the input mode). Clips that
            are already centre-cropped to the model's crop pass its crop unchanged.
        frame_size: ``(H, W)`` to resize clips to first (bilinear, antialiased, like the readers' resize);
            None: use them as they are.
    """
    import torch

    @torch.inference_mode()
    def play(clips):
        clips = torch.as_tensor(clips)
        if clips.shape[1] < clip_len:
            raise ValueError(f"game clips have {clips.shape[1]} frames but the model needs {clip_len}")
        was_training = model.training
        model.eval()
        try:
            scores = []
            for i in range(0, len(clips), batch_size):
                batch = clips[i:i + batch_size, :clip_len]  # (b, T, H, W, C) uint8
                if frame_size is not None and tuple(batch.shape[2:4]) != tuple(frame_size):
                    batch = _resize_uint8(batch, frame_size)
                scores.append(model(transform(batch.to(device))).float().softmax(1).cpu())
        finally:
            model.train(was_training)
        return torch.cat(scores).numpy()  # (B, M)

    return play


def _resize_uint8(clips, size):
    """uint8 ``(B, T, H, W, C)`` -> ``(B, T, size[0], size[1], C)``, bilinear and antialiased."""
    from torchvision.transforms.v2.functional import resize

    b, t = clips.shape[:2]
    frames = clips.flatten(0, 1).permute(0, 3, 1, 2)  # (B*T, C, H, W)
    frames = resize(frames, list(size), antialias=True)
    return frames.permute(0, 2, 3, 1).unflatten(0, (b, t)).contiguous()


def clip_animation(frames: np.ndarray, fps: float) -> bytes:
    """A looping, lossless animated WebP of uint8 frames ``(T, H, W, 3)``, each shown for ``1000 / fps`` ms
    (rounded to whole ms, WebP's unit): the browser plays it at the video's frame rate by itself.

    The file holds pixels and timing only: no name, no comment, no metadata."""
    from PIL import Image as PILImage

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {frames.shape} {frames.dtype}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    images = [PILImage.fromarray(np.ascontiguousarray(f)) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="WEBP", save_all=True, append_images=images[1:], duration=round(1000 / fps),
                   loop=0, lossless=True, quality=100, method=0)
    return buffer.getvalue()


def animation_timeline(data: bytes) -> tuple[list[np.ndarray], list[int]]:
    """The frames an animated image shows and for how many ms each: ``(frames, durations)``. Encoders may
    merge identical consecutive frames into one longer frame; this is what a browser displays."""
    from PIL import Image as PILImage
    from PIL import ImageSequence

    image = PILImage.open(io.BytesIO(data))
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        frames.append(np.asarray(frame.convert("RGB")))
        durations.append(int(frame.info.get("duration", 0)))
    return frames, durations


def confusion_html(matrix: np.ndarray, names: Sequence[str], title: str) -> str:
    """A confusion matrix as an HTML table: rows the true pace, columns the answer; the diagonal bold."""
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = []
    for i, name in enumerate(names):
        cells = "".join(f"<td>{'<b>%d</b>' % v if i == j else v}</td>" for j, v in enumerate(matrix[i]))
        body.append(f"<tr><th>{html.escape(name)}</th>{cells}</tr>")
    return (f"<table><caption><b>{html.escape(title)}</b> (rows: true pace, columns: answer)</caption>"
            f"<tr><th></th>{head}</tr>{''.join(body)}</table>")


def key_listener():
    """An ``anywidget`` that sends the page's key presses (1..9, Enter, space) to the kernel as
    ``{"key": ...}`` messages; keys typed into a text field or a code editor are left alone."""
    import anywidget  # classroom mode only: the notebook game is clicked

    class KeyListener(anywidget.AnyWidget):
        _esm = """
        const KEYS = new Set(["1","2","3","4","5","6","7","8","9","Enter"," "]);
        export default { render({ model, el }) {
          el.classList.add("pacekit-keys");
          const onKey = (e) => {
            const t = e.target;
            if (!KEYS.has(e.key) || e.repeat || e.ctrlKey || e.altKey || e.metaKey) return;
            if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.closest?.(".cm-editor"))) return;
            e.preventDefault();
            model.send({ key: e.key });
          };
          document.addEventListener("keydown", onKey);
          return () => document.removeEventListener("keydown", onKey);
        } };
        """

    return KeyListener()


class GameView:
    """The widget of a :class:`pacekit.teaching.game.PaceGame`.

    Args:
        game: the game (its logic); the view only calls its methods and shows what they allow.
        fps: the frame rate the clips play at: the videos' own (25 for the synthetic set and UCF101).
        width: on-screen width of a clip in pixels (the frames are enlarged by the browser).
        keys: listen to the keyboard (:func:`key_listener`): 1..n answer, Enter or space go on.
        font: font size in pixels (the classroom page uses a big one).
    """

    def __init__(self, game: PaceGame, fps: float = 25, width: int = 224, keys: bool = False, font: int = 14):
        import ipywidgets as w

        self.game, self.fps, self.width = game, float(fps), int(width)
        self.style = w.HTML(_STYLE.format(font=int(font)))
        self.status = w.HTML()
        self.question = w.HTML()
        self.clips_box = w.HBox(layout=w.Layout(flex_flow="row wrap", align_items="flex-end"))
        self.choice_box = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.choice_buttons: list = []
        self.next_button = w.Button(description="Next round", icon="forward",
                                    layout=w.Layout(width="auto", min_width="fit-content"))
        self.model_button = w.Button(description="Let the model play", icon="desktop",
                                     layout=w.Layout(width="auto", min_width="fit-content"))
        self.reveal = w.HTML()
        self.table = w.HTML()
        self.end = w.HTML()
        self.next_button.on_click(lambda _: self.next())
        self.model_button.on_click(lambda _: self.let_model_play())
        children = [self.style, self.status, self.question, self.clips_box, self.choice_box,
                    w.HBox([self.next_button, self.model_button]), self.reveal, self.table, self.end]
        self.keys = None
        if keys:
            self.keys = key_listener()
            self.keys.on_msg(lambda _widget, content, _buffers: self.press(str(content.get("key", ""))))
            children.append(self.keys)
        self.view = w.VBox(children)
        self.view.add_class("pacekit-game")
        self._animations: dict = {}
        self._show_round()

    # ------------------------------------------------------------------------------ actions

    def answer(self, choice: int) -> None:
        """The player answers the current round (what a choice button or a number key does)."""
        if self.game.answers[self.game.round] is None:
            self.game.guess(choice)
            self._refresh()

    def next(self) -> None:
        """Go to the next round (what *Next round*, Enter and space do); the current one must be answered."""
        if self.game.answers[self.game.round] is not None and self.game.next_round():
            self._show_round()

    def press(self, key: str) -> None:
        """A key press from the page: ``"1"``..``"9"`` answer, ``"Enter"`` or ``" "`` go on."""
        if key in ANSWER_KEYS and int(key) <= len(self.choice_buttons):
            self.answer(int(key) - 1)
        elif key in NEXT_KEYS:
            self.next()

    def let_model_play(self) -> None:
        """The model plays every round; the page shows its answers only for rounds already answered."""
        self.game.let_model_play()
        self._refresh()

    def set_player(self, player: Player) -> None:
        self.game.set_player(player)
        self._refresh()

    def widget(self):
        """The game's widget (a VBox)."""
        return self.view

    def _repr_mimebundle_(self, **kwargs):
        """Jupyter shows the widget; a page without a kernel (GitHub) shows a short line instead."""
        bundle = dict(self.view._repr_mimebundle_(**kwargs) or {})
        kinds = ", ".join(sorted({r.kind for r in self.game.rounds}))
        bundle["text/plain"] = (f"Guess the pace: {len(self.game.rounds)} rounds ({kinds}) "
                                "(an interactive widget: run the notebook to play)")
        return bundle

    # ------------------------------------------------------------------------------ drawing

    def animation(self, clip: GameClip) -> bytes:
        key = id(clip)
        if key not in self._animations:
            self._animations[key] = clip_animation(clip.frames, self.fps)
        return self._animations[key]

    def _clip_widget(self, clip: GameClip, caption: str):
        import ipywidgets as w

        image = w.Image(value=self.animation(clip), format="webp",
                        layout=w.Layout(width=f"{self.width}px", height="auto"))
        return w.VBox([w.HTML(f"<b>{html.escape(caption)}</b>"), image], layout=w.Layout(margin="0 1em 0 0"))

    def _show_round(self) -> None:
        import ipywidgets as w

        game, rnd = self.game, self.game.current
        boxes = []
        if rnd.kind == "pick":
            boxes = [self._clip_widget(c, name) for c, name in zip(rnd.clips, game.choices())]
        else:
            boxes = [self._clip_widget(rnd.clips[0], "the clip")]
            if rnd.reference is not None:
                boxes.append(self._clip_widget(rnd.reference, "reference: natural pace"))
        self.reveal.value = ""  # before the new clips reach the page
        self.clips_box.children = boxes
        self.question.value = f"<b>{html.escape(game.question())}</b>"
        self.choice_buttons = []
        for i, name in enumerate(game.choices()):
            button = w.Button(description=f"{i + 1}: {name}", layout=w.Layout(width="auto", min_width="fit-content"))
            button.on_click(lambda _b, i=i: self.answer(i))
            self.choice_buttons.append(button)
        self.choice_box.children = self.choice_buttons
        self._refresh()

    def _refresh(self) -> None:
        game = self.game
        answered = game.answers[game.round] is not None
        for i, button in enumerate(self.choice_buttons):
            button.disabled = answered
            button.button_style = ""
            if answered and i == game.answers[game.round]:
                button.button_style = "success" if i == game.current.answer else "danger"
        self.reveal.value = html.escape(game.reveal_text())
        self.next_button.disabled = not answered or game.finished
        self.model_button.disabled = game.player is None
        self.model_button.layout.display = "none" if game.model_answers is not None else None  # it has played
        self.table.value = self._table_html() if game.played else ""
        self.end.value = self._end_html() if game.finished else ""
        # the status last: the page gets the updates in order, so once it reads "Round k" the rest of the
        # page is round k's too (a test reading the page then sees no reveal left from round k - 1)
        self.status.value = f"<b>{html.escape(game.status_text())}</b>"

    def _table_html(self) -> str:
        rows = self.game.rows()
        keys = ("round", "kind", "truth", "you", "model")
        head = "".join(f"<th>{k}</th>" for k in keys)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[k]))}</td>" for k in keys) + "</tr>" for r in rows)
        note = (f"<br><i>rounds you have not played show {HIDDEN}</i>" if self.game.played < len(rows) else "")
        return f"<details><summary>your rounds</summary><table><tr>{head}</tr>{body}</table>{note}</details>"

    def _end_html(self) -> str:
        """Scores with chance, and the two confusion matrices side by side."""
        game, s = self.game, self.game.scores()
        names = [f"p = {game.pace_set.pace_of(i)}" for i in range(len(game.pace_set))]  # short: two tables side by side
        lines = [f"<h3>Game over</h3><p>you: <b>{s['you']}/{s['played']}</b> right"]
        if s["model"] is not None:
            lines.append(f" | the model: <b>{s['model']}/{s['played']}</b> right")
        lines.append(f" | guessing at random: {s['chance']:.1f}/{s['played']} on average</p>")
        tables = [confusion_html(game.confusion("you"), names, "you")]
        if game.model_answers is not None:
            tables.append(confusion_html(game.confusion("model"), names, "the model"))
        else:
            lines.append("<p>Press <i>Let the model play</i> to see its answers beside yours.</p>")
        flex = "".join(f"<div>{t}</div>" for t in tables)
        note = ("<p><small>A 'pick' answer counts as calling the picked clip natural: its row is that clip's "
                "true pace.</small></p>")
        return "".join(lines) + f"<div style='display:flex;flex-wrap:wrap'>{flex}</div>" + note


def plot_rounds(game: PaceGame, max_frames: int = 8, show_all: bool = False, rounds: Optional[Sequence[int]] = None):
    """A still of every clip of every round for readers without a kernel (GitHub), labelled with the truth
    and, once it has played, the model's answer. Returns the Figure.

    Only rounds the player has answered are labelled; the others show ``?``, unless ``show_all`` (which
    gives every answer away). ``rounds``: 0-based indices of the rounds to draw (default: all)."""
    rows = {}
    for i, rnd in enumerate(game.rounds):
        if rounds is not None and i not in rounds:
            continue
        shown = show_all or game.truth_shown(i)
        names = game.choices(i)
        for j, clip in enumerate(rnd.clips):
            who = f"round {i + 1}" + (f" clip {names[j].split()[-1]}" if rnd.kind == "pick" else "")
            label = f"{who}\ntruth: {game.name(clip.label) if shown else HIDDEN}"
            if game.model_answers is not None and (rnd.kind != "pick" or j == 0):
                model = game.model_answers[i]
                label += f"\nmodel: {(names[model] if shown else HIDDEN)}"
            rows[label] = clip.frames[:max_frames]
    title = "the game's clips, every frame the model sees (the game plays them at the video's frame rate)"
    return plot_pace_strip(rows, max_frames=max_frames, title=title)


__all__ = ["ANSWER_KEYS", "GameView", "NEXT_KEYS", "animation_timeline", "clip_animation", "confusion_html",
           "key_listener", "model_player", "plot_rounds", "read_videos"]

"""The pace game for a classroom: a game dealt from a run's config, and the page ``pacekit game`` serves.

:func:`deal_game` reads test videos of the synthetic set at a model's frame size and deals rounds whose
clips are exactly what that model is given (its ``clip_len`` frames, centre-cropped to its ``crop``).
:func:`classroom_game` is what the served page runs: the notebook setup, the data, the model (a
finished run of the same settings is reused, else it is trained), then a big :class:`GameView` that
answers to the keyboard. :func:`write_classroom` writes that one-cell notebook and a Voila template
(Voila's ``lab`` template without its two CDN stylesheets, with a big layout), so the page loads nothing
from the internet. The command itself is :mod:`pacekit.commands.game`.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Optional

from ..data import build_dataset
from ..data.readers import open_video
from ..training.loading import eval_transform
from .game import GAME_MODEL, PaceGame, make_rounds, motion_class
from .notebook import load_or_train, setup
from .widgets import GameView, model_player, read_videos

#: Voila template name of the classroom page.
TEMPLATE = "pacekit-classroom"
#: The classroom model's run folder, under the notebooks' runs folder (``runs/notebooks/classroom-game``).
RUN_NAME = "classroom-game"


def deal_game(cfg, num_rounds: int = 10, seed: int = 0, per_class: int = 3, kinds=("pick", "reference")):
    """Rounds from ``cfg``'s test videos, each clip what a model trained with ``cfg`` sees.

    Args:
        cfg: a :class:`pacekit.config.Config` (its dataset, root, frame size, clip length, crop, pace set).
        num_rounds: rounds in the game.
        seed: the deal's seed.
        per_class: test videos read per motion class (a reference clip comes from another video of the
            same class, so at least 2).
        kinds: round kinds, see :func:`pacekit.teaching.game.make_rounds`.

    Returns:
        ``(rounds, fps)``: the rounds and the videos' frame rate.
    """
    records = build_dataset(cfg.dataset, cfg.root, "test", mode="eval").records
    chosen, counts = [], {}
    for record in records:
        motion = motion_class(Path(record.path).stem)
        if counts.get(motion, 0) < per_class:
            counts[motion] = counts.get(motion, 0) + 1
            chosen.append(record)
    with open_video(chosen[0].path) as reader:
        fps = reader.fps or 25.0
    videos = read_videos([r.path for r in chosen], frame_size=cfg.frame_size)
    rounds = make_rounds(videos, cfg.pace_set, num_rounds, clip_len=cfg.clip_len, crop=cfg.crop, kinds=kinds,
                         seed=seed)
    return rounds, fps


def classroom_game(data: str, runs: str, rounds: int = 10, seed: int = 0, fast: Optional[bool] = None,
                   width: int = 300, font: int = 22) -> GameView:
    """The classroom page's game: synthetic set in ``data`` (written when missing), model run :data:`RUN_NAME`
    (notebook 02's settings): the shipped game network (:mod:`.shipped`) where it fits and the notebooks load
    shipped networks (:func:`.notebook.shipped_mode`: on a CPU outside fast mode unless ``PACEKIT_PRETRAINED=0``),
    else the run under ``runs`` (reused when it has the same settings, else trained); ``rounds`` rounds,
    keyboard on.

    The model plays at once, unseen: the page shows its answer to a round only after the class has
    answered it, and both confusion matrices at the end. The setup's and the training's reports are kept
    off the page (only the game is shown on the projector)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        nb = setup(seed=seed, fast=fast, quiet=True, runs_dir=runs)
        nb.data_dir = Path(data)
        nb.ensure_data()
        # notebook 02's settings under a run name of its own: the page (its data folder, PACEKIT_FAST) never
        # retrains, and so replaces, the notebook's run
        cfg = nb.config(RUN_NAME, **GAME_MODEL)
        model = load_or_train(cfg, "pretrain", shipped=nb.shipped).model  # minutes of training saved
    dealt, fps = deal_game(cfg, rounds, seed)
    game = PaceGame(dealt, cfg.pace_set, player=model_player(model, cfg.clip_len, eval_transform(cfg),
                                                             device=nb.device))
    game.let_model_play()
    return GameView(game, fps=fps, width=width, keys=True, font=font)


_INDEX = """{%- extends 'voila/templates/lab/index.html.j2' -%}
{% import "spinner.macro.html.j2" as spinner %}
{#- Voila's lab template, without the Font Awesome stylesheets it fetches from a CDN: the page works offline. -#}
{%- block notebook_css -%}
  {% if frontend == "voila" %}{{ resources.include_js("static/voila-style.js") }}{% endif %}
  {{ spinner.css() }}
  {{ resources.include_css("static/index.css") }}
  {% if resources.theme == 'dark' %}{{ resources.include_css("static/theme-dark.css") }}
  {% else %}{{ resources.include_css("static/theme-light.css") }}{% endif %}
  <style>
    .jp-mod-noOutputs.jp-mod-noInput { display: none; }
    body { background: var(--jp-layout-color0); }
    #rendered_cells { padding: 1em 2em; }
    .jp-OutputPrompt, .jp-InputPrompt { display: none; }
  </style>
{%- endblock notebook_css -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def classroom_source(data: str, runs: str, rounds: int, seed: int, fast: bool) -> str:
    """The code of the classroom page's one cell (Voila runs it and shows only its output)."""
    return (f"from pacekit.teaching.classroom import classroom_game\n\n"
            f"classroom_game(data={str(data)!r}, runs={str(runs)!r}, rounds={int(rounds)}, seed={int(seed)}, "
            f"fast={bool(fast)})")


def write_classroom(folder, data: str, runs: str, rounds: int = 10, seed: int = 0, fast: bool = False) -> Path:
    """Write ``folder/pace_game.ipynb`` and the Voila template ``folder/share/voila/templates/pacekit-classroom``
    (put ``folder/share`` first on ``JUPYTER_PATH`` for Voila to find it). Returns the notebook's path."""
    import nbformat  # a dependency of Voila, which only the classroom page needs

    folder = Path(folder)
    template = folder / "share" / "voila" / "templates" / TEMPLATE
    template.mkdir(parents=True, exist_ok=True)
    (template / "index.html.j2").write_text(_INDEX)
    (template / "conf.json").write_text(json.dumps({"base_template": "lab"}))
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(classroom_source(data, runs, rounds, seed, fast))]
    path = folder / "pace_game.ipynb"
    nbformat.write(notebook, str(path))
    return path


__all__ = ["RUN_NAME", "TEMPLATE", "classroom_game", "classroom_source", "deal_game", "write_classroom"]

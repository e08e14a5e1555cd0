"""Every exercise of the notebooks can be got right, and can be got wrong.

An answer cell of a notebook source (a code cell under "## Exercises" whose first line sets the answer to
None) is run here as the notebook runs it, once with the answer its solution gives and once with each of
a few plausible wrong ones: the right answer must print "exercise N: right", every wrong one must fail
the cell's assert. A check that cannot fail teaches nothing, and one that refuses the right answer (as
notebook 02's exercise 3 did while it counted the letters of the pace set's name) teaches the wrong
thing. The cells need a few names the notebook made earlier: each notebook's names are built small here
(its setup cell's imports, a numbered test video instead of the synthetic set, a hand-made confusion
matrix), so the checks run in seconds without executing the notebooks. An answer cell without cases
here, or cases without a cell, fails the first test.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "notebooks" / "_src"
NAMES = ["01_pace_sampling", "02_guess_the_pace", "03_pretrain_on_gpu", "04_contrastive_variants",
         "05_finetune_and_retrieval", "06_attention_maps"]
_ANSWER = re.compile(r"^(\w+) = None\b")
_NUMBER = re.compile(r"exercise (\d+): not answered yet")

# notebook -> exercise -> (answers the check must accept, answers it must refuse), each a Python expression
# evaluated in the cell's namespace (so it may use the notebook's names, e.g. make_rounds or math).
CASES = {
    "01_pace_sampling": {
        1: (['{"1/3": [], "1/2": [], "1": [3], "2": [2], "3": [1]}'],
            ['{"1/3": [], "1/2": [], "1": [3], "2": [2], "3": [2]}', '{"1/3": [], "1/2": [4], "1": [3], "2": [2], "3": [1]}']),
        2: (["56"], ["55", "61", "60"]),
        3: (["(4, 1, 0.344)", "(4, 1, 11 / 32)"],
            ["(4, 1, 0.5)", "(4, 1, 0.343)", "(4, 1, 0.25)", "(1, 4, 0.344)", "(4, 4, 0.344)", "(3, 1, 0.344)"]),
    },
    "02_guess_the_pace": {
        1: (["[10, 10, 10, 11, 11, 11, 12, 12]"], ["[10, 10, 11, 11, 12, 12, 13, 13]", "[10, 10, 10, 11, 11, 11, 12, 12, 12]"]),
        2: (["1.6", "4 / 4 + 3 / 5"], ["8 / 3", "7 / 4", "1.5", "7 / 5"]),
        3: (['make_rounds(videos, cfg.pace_set, num_rounds=4, clip_len=cfg.clip_len, crop=cfg.crop, kinds=("pick",), '
             'pick_clips=5)'],
            ['make_rounds(videos, cfg.pace_set, num_rounds=4, clip_len=cfg.clip_len, crop=cfg.crop, kinds=("pick",))',
             "make_rounds(videos, cfg.pace_set, num_rounds=4, clip_len=cfg.clip_len, crop=cfg.crop, pick_clips=5)"]),
    },
    "03_pretrain_on_gpu": {
        1: (["0.55", "4 * math.log(2) / 5"], ["math.log(5)", "math.log(3)", "math.log(2)", "0.56", "0.6"]),
        2: (["(460, 883200)"], ["(460, 884120)", "(460, 884736)", "(461, 883200)"]),
        3: (["lambda m: np.diag(m) / m.sum(axis=0)", "lambda m: m.diagonal() / m.sum(0)"],
            ["lambda m: np.diag(m) / m.sum(axis=1)", "lambda m: np.array([0.5, 2 / 3, 1.0])",
             "lambda m: np.diag(m) / m.sum()"]),
    },
    "04_contrastive_variants": {
        1: (["(7.25, 21.75)", "(29 / 4, 29 * 3 / 4)"], ["(8, 21)", "(1, 28)", "(7.5, 22.5)"]),
        2: (["1.95", "math.log(7)"], ["math.log(8)", "math.log(6)", "0"]),
    },
    "05_finetune_and_retrieval": {
        1: (["(1 / 3, 1.0)", "(0.33, 1)"], ["(2 / 3, 1.0)", "(1 / 3, 2 / 3)", "(0, 1.0)"]),
        2: (["9216"], ["512 * 2 * 4 * 4", "512", "512 * 2 * 7 * 7"]),
        3: (["(25, 4)"], ["(26, 4)", "(24, 4)", "(25, 5)", "(25, 3)", "(16, 0)"]),
    },
    "06_attention_maps": {
        1: (["[7, 14, 21, 28]"],
            ["[8, 16, 24, 32]", "[7, 14, 21, 27]", "[0, 0, 0, 0]", "[7, 14, 21]",
             "[7, 14, 21, 28 + check_start(videos[0], 0)]"]),  # the right frame's number one loop later
        2: (["(4, 10, 10)"], ["(4, 5, 5)", "(2, 7, 7)", "(8, 10, 10)"]),
    },
}


def _builder():
    spec = importlib.util.spec_from_file_location("_build", REPO / "notebooks" / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(name):
    return _builder().parse_cells((SOURCES / f"{name}.py").read_text())


def answer_cells(name) -> dict:
    """``{exercise number: (answer variable, cell source)}`` of a notebook source."""
    cells = _cells(name)
    start = next(i for i, (kind, text) in enumerate(cells) if kind == "markdown" and "## Exercises" in text)
    found = {}
    for kind, text in cells[start:]:
        match = _ANSWER.match(text)
        if kind == "code" and match:
            found[int(_NUMBER.search(text).group(1))] = (match.group(1), text)
    return found


def _code_cell(name, marker: str) -> str:
    return next(text for kind, text in _cells(name) if kind == "code" and marker in text)


def _setup(name) -> dict:
    """The names a notebook's setup cell imports (its ``# %% [setup]`` cells)."""
    names: dict = {}
    for kind, text in _cells(name):
        if kind == "setup":
            exec(compile(text, f"{name} setup", "exec"), names)
    return names


def notebook_names(name, ucf_root) -> dict:
    """What the notebook made before its exercises, in small: the names its answer cells read."""
    import math

    from pacekit.config import get_config
    from pacekit.pace import PaceSet

    names = _setup(name)
    names["math"] = math
    if name == "01_pace_sampling":
        names.update(fig2=PaceSet.from_spec("absolute"), relative=PaceSet.from_spec("relative"))
    elif name == "02_guess_the_pace":
        frames = np.random.default_rng(0).integers(0, 256, (60, 64, 85, 3), dtype=np.uint8)
        names.update(cfg=get_config("cpu-tiny", pace_set="absolute"),
                     videos=[(f"v_{motion}_g0{g}_c01", frames) for motion in ("Roll", "Swing") for g in (1, 2)])
    elif name == "03_pretrain_on_gpu":
        exec(compile(_code_cell(name, "class R2Plus1dConv"), f"{name} R2Plus1dConv", "exec"), names)
        names.update(paces=list(PaceSet.from_spec("relative")),
                     confusion=np.array([[5, 2, 1, 0], [1, 4, 2, 1], [0, 3, 4, 1], [0, 1, 2, 5]]))
    elif name == "05_finetune_and_retrieval":
        from pacekit.data import build_dataset

        names["test16"] = build_dataset("ucf101", ucf_root, "test", mode="eval", clip_len=16, num_clips=10)
    elif name == "06_attention_maps":
        from pacekit.data import build_dataset

        cfg = SimpleNamespace(clip_len=8, frame_size=(64, 96))  # the CPU preset's clip length; frames as written
        paces = list(PaceSet.from_spec("relative"))
        videos = [build_dataset("ucf101", ucf_root, "test", mode="eval").records[0].path]  # numbered frames
        clips = {v: names["load_pace_clips"](v, paces, cfg.clip_len, start=0, frame_size=cfg.frame_size) for v in videos}
        names.update(cfg=cfg, paces=paces, videos=videos, clips=clips)
    return names


def run_answer(name, number, answer: str, names: dict) -> str:
    """Run exercise ``number``'s answer cell with ``answer`` in place of None; what it printed."""
    variable, text = answer_cells(name)[number]
    code = text.replace(f"{variable} = None", f"{variable} = {answer}", 1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"{name} exercise {number}", "exec"), dict(names))
    return printed.getvalue()


def test_every_answer_cell_has_cases_and_every_case_a_cell():
    assert {name: sorted(answer_cells(name)) for name in NAMES} == {name: sorted(CASES[name]) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_each_check_takes_the_right_answer_and_refuses_wrong_ones(name, ucf_root):
    names = notebook_names(name, ucf_root)
    for number, (rights, wrongs) in CASES[name].items():
        assert "not answered yet" in run_answer(name, number, "None", names)
        for answer in rights:
            assert f"exercise {number}: right" in run_answer(name, number, answer, names), (number, answer)
        for answer in wrongs:
            with pytest.raises(AssertionError):
                run_answer(name, number, answer, names)
                pytest.fail(f"{name} exercise {number} accepted the wrong answer {answer}")

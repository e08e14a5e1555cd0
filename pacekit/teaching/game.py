"""The pace-guessing game's rules (paper Fig. 1), without a screen: rounds, answers, scores, confusion.

A game is a list of :class:`Round` objects. Three kinds, in the spirit of Fig. 1:

- ``"pick"``: a few clips of *one* video at different paces, side by side (Fig. 1 shows three: slow,
  normal, fast). The player picks the clip at natural pace (p = 1).
- ``"reference"``: one clip at a pace of the game's pace set, shown beside a *reference* clip of another
  video of the same motion class at natural pace. The player names the clip's pace.
- ``"pace"``: one clip, no reference; the player names its pace (the hardest kind).

Every clip is what a pace model is given: ``clip_len`` frames read with :func:`pacekit.pace.sample_indices`,
centre-cropped to the model's crop. :class:`PaceGame` holds the state (answers, score, streak, the
model's answers) and the rules of what may be shown: the truth of a round and the model's answer to it
only once the player has answered it. The widget that shows a game is :class:`pacekit.teaching.widgets.GameView`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from string import ascii_uppercase
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np

from ..pace import PACE_NAMES, PaceSet, sample_indices, sample_start

#: What the game shows in place of an answer the player has not earned yet.
HIDDEN = "?"
#: The round kinds, see the module docstring.
ROUND_KINDS = ("pick", "reference", "pace")
#: The natural pace, the answer of a ``"pick"`` round.
NATURAL = Fraction(1)
#: The game model's config fields on top of the notebooks' preset (notebook 02, ``pacekit game`` and the shipped
#: game network): Fig. 1's five absolute paces, on 8-frame clips in the default memory format for 30 epochs, as the
#: shipped game network was trained (the quickstart's clip is 16 frames, its schedule 36 epochs).
GAME_MODEL = MappingProxyType({"pace_set": "absolute", "clip_len": 8, "channels_last": None, "epochs": 30,
                               "lr_step": 24})  # read-only

#: ``player(clips) -> scores``: clips uint8 ``(B, T, H, W, C)`` (a torch tensor); scores ``(B, M)``, one row
#: of pace probabilities per clip (:func:`pacekit.teaching.widgets.model_player`), or ``(B,)`` pace labels.
Player = Callable[[object], Sequence]


@dataclass(frozen=True)
class GameClip:
    """One clip as played: ``frames`` uint8 ``(T, H, W, 3)``, its pace (and the pace's ``label`` in the game's
    pace set), the source ``video``'s name and the 0-based ``start`` frame."""

    frames: np.ndarray
    label: int
    pace: Fraction
    video: str
    start: int


@dataclass(frozen=True)
class Round:
    """One round: ``kind`` (:data:`ROUND_KINDS`), the ``clips`` to judge in screen order, and for a
    ``"reference"`` round the natural-pace ``reference`` clip of another video of the same ``motion``."""

    kind: str
    clips: tuple
    motion: str
    reference: Optional[GameClip] = None

    @property
    def answer(self) -> int:
        """The right choice: the index of the natural-pace clip (``"pick"``), else the clip's pace label."""
        if self.kind == "pick":
            return next(i for i, c in enumerate(self.clips) if c.pace == NATURAL)
        return self.clips[0].label


def motion_class(video_name: str) -> str:
    """The motion class in a UCF101-style name (``v_Bounce_g01_c02`` -> ``Bounce``); any other name is its
    own class."""
    match = re.fullmatch(r"v_(.+)_g\d+_c\d+", video_name)
    return match.group(1) if match else video_name


def centre_crop(frames: np.ndarray, crop: Optional[int]) -> np.ndarray:
    """The central ``crop x crop`` square of frames ``(..., H, W, C)`` (the test-time crop of paper 4.1);
    None keeps them whole."""
    if crop is None:
        return frames
    h, w = frames.shape[-3:-1]
    if crop > min(h, w):
        raise ValueError(f"crop {crop} is larger than the frames ({h}x{w})")
    top, left = (h - crop) // 2, (w - crop) // 2  # the same rounding as pacekit.data.transforms
    return frames[..., top:top + crop, left:left + crop, :]


def _check_video(name: str, frames) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"video {name!r}: expected uint8 frames (N, H, W, 3), got {frames.shape} {frames.dtype}")
    return frames


def _clip(name: str, frames: np.ndarray, clip_len: int, pace: Fraction, label: int, start: int) -> GameClip:
    idx = sample_indices(len(frames), clip_len, pace, start)
    return GameClip(np.ascontiguousarray(frames[idx]), int(label), pace, str(name), int(start))


def _pick_paces(paces: PaceSet, count: int, rng) -> list[Fraction]:
    """Natural pace plus ``count - 1`` others: one slower and one faster when the set has both (Fig. 1)."""
    slower = [p for p in paces if p < NATURAL]
    faster = [p for p in paces if p > NATURAL]
    chosen = [NATURAL]
    for side in (slower, faster):
        if side and len(chosen) < count:
            chosen.append(side[rng.integers(len(side))])
    rest = [p for p in paces if p not in chosen]
    rng.shuffle(rest)
    return chosen + rest[:count - len(chosen)]


def make_rounds(
    videos: Sequence[tuple[str, np.ndarray]],
    pace_set: Union[str, PaceSet, Sequence] = "absolute",
    num_rounds: int = 10,
    clip_len: int = 8,
    crop: Optional[int] = None,
    kinds: Sequence[str] = ("pick", "reference"),
    pick_clips: int = 3,
    classes: Optional[Mapping[str, str]] = None,
    seed: int = 0,
) -> list[Round]:
    """Deal a game of ``num_rounds`` rounds from natural-pace videos.

    Args:
        videos: ``(name, frames)`` pairs, frames uint8 ``(N, H, W, 3)`` at natural pace, decoded at the
            model's frame size.
        pace_set: the paces of the game (default: Fig. 2's five, super slow p = 1/3 ... super fast p = 3).
        num_rounds: rounds in the game; their kinds cycle through ``kinds`` in order.
        clip_len: frames per clip: the model's clip length, so the player sees what the model sees.
        crop: centre crop of every frame (the model's test-time crop); None keeps whole frames.
        kinds: the round kinds to cycle through (:data:`ROUND_KINDS`).
        pick_clips: clips in a ``"pick"`` round (natural, one slower, one faster, then others).
        classes: video name -> motion class; default :func:`motion_class` of the name.
        seed: the game is a pure function of its arguments.

    Returns:
        The rounds in play order. Single-clip rounds deal the paces round-robin, shuffled, so each pace
        appears equally often; a ``"pick"`` round's clips share one start frame and are shuffled. Clip
        starts fit the whole clip into the video when they can (the ``"fit"`` policy).
    """
    if not videos:
        raise ValueError("make_rounds needs at least one (name, frames) video")
    if num_rounds < 1:
        raise ValueError(f"num_rounds must be >= 1, got {num_rounds}")
    unknown = [k for k in kinds if k not in ROUND_KINDS]
    if not kinds or unknown:
        raise ValueError(f"round kinds must be among {ROUND_KINDS}, got {list(kinds)}")
    paces = PaceSet.from_spec(pace_set)
    if "pick" in kinds and (NATURAL not in list(paces) or pick_clips < 2 or len(paces) < 2):
        raise ValueError(f"a 'pick' round needs the natural pace 1 and at least 2 paces in the set "
                         f"({[str(p) for p in paces]}) and pick_clips >= 2 (got {pick_clips})")
    if "reference" in kinds and NATURAL not in list(paces):
        raise ValueError(f"a 'reference' round shows the natural pace 1, which the pace set "
                         f"{[str(p) for p in paces]} lacks; use kinds=('pace',)")
    rng = np.random.default_rng(seed)
    videos = [(str(name), centre_crop(_check_video(name, frames), crop)) for name, frames in videos]
    motion = {name: (classes or {}).get(name) or motion_class(name) for name, _ in videos}
    plan = [kinds[r % len(kinds)] for r in range(num_rounds)]
    single = sum(k != "pick" for k in plan)
    labels = iter(rng.permutation(np.resize(np.arange(len(paces)), single)))
    order = rng.permutation(len(videos))
    rounds = []
    for r, kind in enumerate(plan):
        name, frames = videos[order[r % len(videos)]]
        if kind == "pick":
            chosen = _pick_paces(paces, min(pick_clips, len(paces)), rng)
            start = sample_start(len(frames), clip_len, max(chosen), "fit", rng)
            clips = [_clip(name, frames, clip_len, p, paces.label_of(p), start) for p in chosen]
            clips = [clips[i] for i in rng.permutation(len(clips))]
            rounds.append(Round(kind, tuple(clips), motion[name]))
            continue
        label = int(next(labels))
        pace = paces.pace_of(label)
        clip = _clip(name, frames, clip_len, pace, label, sample_start(len(frames), clip_len, pace, "fit", rng))
        reference = None
        if kind == "reference":
            same = [(n, f) for n, f in videos if motion[n] == motion[name] and n != name]
            ref_name, ref_frames = same[rng.integers(len(same))] if same else (name, frames)
            ref_start = sample_start(len(ref_frames), clip_len, NATURAL, "fit", rng)
            reference = _clip(ref_name, ref_frames, clip_len, NATURAL, paces.label_of(NATURAL), ref_start)
        rounds.append(Round(kind, (clip,), motion[name], reference))
    return rounds


def pace_name(pace_set: PaceSet, label: int) -> str:
    """A pace label as the game shows it, e.g. ``"slow (p = 1/2)"``."""
    pace = pace_set.pace_of(label)
    return f"{PACE_NAMES[pace]} (p = {pace})" if pace in PACE_NAMES else f"p = {pace}"


def _as_scores(output, count: int, num_paces: int) -> np.ndarray:
    """A player's output as ``(count, num_paces)`` scores: rows as given, or one-hot rows of labels."""
    scores = np.asarray(output.detach().cpu() if hasattr(output, "detach") else output, dtype=float)
    if scores.ndim == 1 and len(scores) == count and np.all((scores >= 0) & (scores < num_paces) & (scores % 1 == 0)):
        scores = np.eye(num_paces)[scores.astype(int)]
    if scores.shape != (count, num_paces):
        raise ValueError(f"the player returned {np.asarray(output).tolist()}; expected {count} labels in "
                         f"[0, {num_paces}) or a ({count}, {num_paces}) array of pace scores")
    return scores


class PaceGame:
    """The state of one game: which round is on, the player's answers, the model's.

    Args:
        rounds: from :func:`make_rounds`.
        pace_set: the paces the clips' labels index (the answers of single-clip rounds, slowest first).
        player: a :data:`Player` that can play the same clips (or give it later to :meth:`set_player`).

    State: ``round`` (0-based), ``answers`` (the player's choice per round, None until answered),
    ``streak``, ``best_streak``, ``model_answers`` (None until the model has played). What a screen may
    show is decided here: :meth:`truth_shown` is False for a round the player has not answered, and
    :meth:`reveal_text`, :meth:`rows` and :meth:`confusion` keep to the answered rounds.
    """

    def __init__(self, rounds: Sequence[Round], pace_set: Union[str, PaceSet, Sequence] = "absolute",
                 player: Optional[Player] = None):
        if not rounds:
            raise ValueError("a game needs at least one round; see make_rounds")
        self.rounds = list(rounds)
        self.pace_set = PaceSet.from_spec(pace_set)
        bad = [c.label for r in self.rounds for c in r.clips if not 0 <= c.label < len(self.pace_set)]
        if bad:
            raise ValueError(f"clip labels {bad} are outside the pace set {[str(p) for p in self.pace_set]}")
        self.player = player
        self.round = 0
        self.answers: list[Optional[int]] = [None] * len(self.rounds)
        self.streak = 0
        self.best_streak = 0
        self.model_answers: Optional[list[int]] = None

    # ---------------------------------------------------------------------------- the state

    @property
    def current(self) -> Round:
        return self.rounds[self.round]

    @property
    def played(self) -> int:
        """Rounds answered so far."""
        return sum(a is not None for a in self.answers)

    @property
    def score(self) -> int:
        """Right answers so far."""
        return sum(a == r.answer for a, r in zip(self.answers, self.rounds) if a is not None)

    @property
    def finished(self) -> bool:
        return self.played == len(self.rounds)

    def name(self, label: int) -> str:
        """A pace label as the game shows it, e.g. ``"slow (p = 1/2)"``."""
        return pace_name(self.pace_set, label)

    def choices(self, round_index: Optional[int] = None) -> list[str]:
        """What the player chooses among: ``"clip A"``, ``"clip B"``, ... in a ``"pick"`` round, else the
        pace names. Choice ``i`` is answer ``i``."""
        rnd = self.rounds[self.round if round_index is None else round_index]
        if rnd.kind == "pick":
            return [f"clip {ascii_uppercase[i]}" for i in range(len(rnd.clips))]
        return [self.name(i) for i in range(len(self.pace_set))]

    def question(self, round_index: Optional[int] = None) -> str:
        """The round's question, the same before and after the answer (it gives nothing away)."""
        rnd = self.rounds[self.round if round_index is None else round_index]
        if rnd.kind == "pick":
            return f"{len(rnd.clips)} clips of one video at different paces: which one plays at natural pace?"
        if rnd.kind == "reference":
            return "At what pace does the clip play? The reference beside it is the same motion at natural pace."
        return "At what pace does the clip play?"

    def truth_shown(self, round_index: int) -> bool:
        """May a screen show this round's truth and the model's answer? Only once the player has answered it."""
        return self.answers[round_index] is not None

    # ---------------------------------------------------------------------------- playing

    def guess(self, choice: int) -> bool:
        """Answer the current round with choice ``choice`` (an index into :meth:`choices`); returns whether it
        was right."""
        choice = int(choice)
        if not 0 <= choice < len(self.choices()):
            raise ValueError(f"choice {choice} is not one of the {len(self.choices())} choices of round "
                             f"{self.round + 1}: {self.choices()}")
        if self.answers[self.round] is not None:
            raise ValueError(f"round {self.round + 1} was already answered; go on with next_round()")
        self.answers[self.round] = choice
        right = choice == self.current.answer
        self.streak = self.streak + 1 if right else 0
        self.best_streak = max(self.best_streak, self.streak)
        return right

    def next_round(self) -> bool:
        """Go to the next unanswered round (wrapping round); returns False when every round is answered."""
        unanswered = [i for i, a in enumerate(self.answers) if a is None]
        if not unanswered:
            return False
        later = [i for i in unanswered if i > self.round]
        self.round = later[0] if later else unanswered[0]
        return True

    def set_player(self, player: Player) -> None:
        """Give the game a model to play the same clips (forgets earlier model answers)."""
        self.player = player
        self.model_answers = None

    def let_model_play(self) -> None:
        """The model answers every round, on the same clips the player sees, and its answers are kept in
        ``model_answers``. A single-clip round gets the pace it scores highest; a ``"pick"`` round the clip
        it gives the highest score for natural pace. Nothing is returned: the screen shows a round's model
        answer only once the player has answered that round."""
        if self.player is None:
            raise ValueError("no model to play: give PaceGame(player=...) or call set_player(model_player(...))")
        import torch  # the players take torch tensors; importing torch is slow, so only when a model plays

        clips = [c.frames for r in self.rounds for c in r.clips]
        scores = _as_scores(self.player(torch.from_numpy(np.stack(clips))), len(clips), len(self.pace_set))
        answers, k = [], 0
        natural = self.pace_set.label_of(NATURAL) if NATURAL in list(self.pace_set) else None
        for rnd in self.rounds:
            block = scores[k:k + len(rnd.clips)]
            k += len(rnd.clips)
            answers.append(int(np.argmax(block[:, natural])) if rnd.kind == "pick" else int(np.argmax(block[0])))
        self.model_answers = answers

    # ---------------------------------------------------------------------------- what may be shown

    def _pair(self, round_index: int, choice: int) -> tuple[int, int]:
        """(true pace label, the pace label the answer gave) of the clip an answer names: in a ``"pick"``
        round the picked clip, called natural."""
        rnd = self.rounds[round_index]
        if rnd.kind == "pick":
            return rnd.clips[choice].label, self.pace_set.label_of(NATURAL)
        return rnd.clips[0].label, choice

    def reveal_text(self, round_index: Optional[int] = None) -> str:
        """What the reveal says about a round: empty before the player has answered it."""
        r = self.round if round_index is None else round_index
        choice, rnd = self.answers[r], self.rounds[r]
        if choice is None:
            return ""
        if rnd.kind == "pick":
            names = self.choices(r)
            truth = f"{names[rnd.answer]} was at natural pace"
            paces = ", ".join(f"{n.split()[-1]}: {self.name(c.label)}" for n, c in zip(names, rnd.clips))
            text = (f"Right! {truth}." if choice == rnd.answer else f"Not quite: {truth}; you picked {names[choice]}.")
            text += f" ({paces})"
        else:
            truth = self.name(rnd.answer)
            text = (f"Right! The pace was {truth}." if choice == rnd.answer
                    else f"Not quite: the pace was {truth}; you said {self.name(choice)}.")
        if self.model_answers is not None:
            model = self.model_answers[r]
            said = self.choices(r)[model] if rnd.kind == "pick" else self.name(model)
            text += f" The model said {said} ({'right' if model == rnd.answer else 'wrong'})."
        return text

    def status_text(self) -> str:
        text = (f"Round {self.round + 1} of {len(self.rounds)} | score {self.score}/{self.played} | "
                f"streak {self.streak} (best {self.best_streak})")
        if self.finished:
            text += " | game over"
        return text

    def rows(self) -> list[dict]:
        """One dict per round (``round``, ``kind``, ``video``, ``truth``, ``you``, ``model``) for a table;
        a round the player has not answered shows :data:`HIDDEN` for the truth and the model."""
        rows = []
        for i, rnd in enumerate(self.rounds):
            names, shown = self.choices(i), self.truth_shown(i)
            model = None if self.model_answers is None else self.model_answers[i]
            rows.append({
                "round": i + 1, "kind": rnd.kind, "video": rnd.clips[0].video,
                "truth": names[rnd.answer] if shown else HIDDEN,
                "you": names[self.answers[i]] if shown else "-",
                "model": "-" if model is None else (names[model] if shown else HIDDEN),
            })
        return rows

    def chance(self, rounds: Optional[Sequence[int]] = None) -> float:
        """The score expected from guessing at random over ``rounds`` (default: the answered ones)."""
        rounds = [i for i in range(len(self.rounds)) if self.answers[i] is not None] if rounds is None else rounds
        return float(sum(1 / len(self.choices(i)) for i in rounds))

    def scores(self) -> dict:
        """Over the rounds the player answered: ``played``, ``you`` and ``model`` (right answers; ``model``
        None until it has played) and ``chance`` (expected right answers of a random guesser)."""
        played = [i for i in range(len(self.rounds)) if self.answers[i] is not None]
        model = None
        if self.model_answers is not None:
            model = sum(self.model_answers[i] == self.rounds[i].answer for i in played)
        return {"played": len(played), "you": self.score, "model": model, "chance": self.chance(played)}

    def confusion(self, who: str = "you") -> np.ndarray:
        """Confusion matrix ``(M, M)`` over the rounds the player answered: row = the true pace of a clip
        the answer named, column = the pace the answer gave it (a ``"pick"`` answer calls its clip natural).

        ``who``: ``"you"`` or ``"model"`` (the model's answers on the same rounds)."""
        if who not in ("you", "model"):
            raise ValueError(f"who must be 'you' or 'model', got {who!r}")
        if who == "model" and self.model_answers is None:
            raise ValueError("the model has not played yet: call let_model_play()")
        answers = self.answers if who == "you" else self.model_answers
        m = len(self.pace_set)
        matrix = np.zeros((m, m), dtype=int)
        for i in range(len(self.rounds)):
            if self.answers[i] is not None:
                truth, said = self._pair(i, answers[i])
                matrix[truth, said] += 1
        return matrix


__all__ = ["GameClip", "HIDDEN", "NATURAL", "PaceGame", "Player", "ROUND_KINDS", "Round", "centre_crop",
           "make_rounds", "motion_class", "pace_name"]

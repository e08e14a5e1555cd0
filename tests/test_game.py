"""The pace game's rules (pacekit.teaching.game), without a screen: the deal, answers, scores, confusion, no spoilers."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from pacekit.data.transforms import center_crop_clips
from pacekit.pace import PaceSet, sample_indices
from pacekit.teaching.game import HIDDEN, GameClip, PaceGame, Round, centre_crop, make_rounds, motion_class

PACES = PaceSet.from_spec("absolute")  # 1/3, 1/2, 1, 2, 3


def numbered_video(num_frames: int, height: int = 10, width: int = 12) -> np.ndarray:
    """Frame k holds the value k at every pixel but a marker column, so a clip's frames tell which source
    frames it used and the crop can be seen."""
    video = np.broadcast_to(np.arange(num_frames, dtype=np.uint8)[:, None, None, None],
                            (num_frames, height, width, 3)).copy()
    video[:, :, 0] = 255  # the left column: cropped away by a centre crop narrower than the frame
    return video


def videos(classes=("Bounce", "Orbit"), per_class: int = 3, num_frames: int = 60):
    return [(f"v_{c}_g{g:02d}_c01", numbered_video(num_frames + 3 * g)) for c in classes for g in range(1, per_class + 1)]


# ------------------------------------------------------------------------------------ the deal


def test_round_kinds_cycle_and_single_clip_rounds_deal_every_pace_equally_often():
    rounds = make_rounds(videos(), "absolute", num_rounds=20, clip_len=8, seed=0)
    assert [r.kind for r in rounds] == ["pick", "reference"] * 10
    assert sorted(r.answer for r in rounds if r.kind == "reference") == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    rounds = make_rounds(videos(), "absolute", num_rounds=5, clip_len=8, kinds=("pace",), seed=1)
    assert sorted(r.answer for r in rounds) == [0, 1, 2, 3, 4] and all(r.reference is None for r in rounds)


def test_every_clip_holds_the_frames_the_model_is_given_centre_cropped():
    vids = dict(videos())
    rounds = make_rounds(list(vids.items()), "absolute", num_rounds=8, clip_len=8, crop=6,
                         kinds=("pick", "reference", "pace"), seed=2)
    for rnd in rounds:
        for clip in rnd.clips + ((rnd.reference,) if rnd.reference is not None else ()):
            source = vids[clip.video]
            expected = sample_indices(len(source), 8, clip.pace, clip.start)
            assert clip.frames.shape == (8, 6, 6, 3)
            assert clip.frames[:, 0, 0, 0].tolist() == expected.tolist()
            assert clip.start + (7 * clip.pace.numerator) // clip.pace.denominator < len(source)  # "fit": no loop
            assert (clip.frames != 255).all()  # the marker column is outside the centre crop
            assert clip.pace == PACES.pace_of(clip.label)


def test_centre_crop_is_the_models_test_time_crop():
    frames = np.random.default_rng(0).integers(0, 256, (4, 11, 14, 3), dtype=np.uint8)
    ours = centre_crop(frames, 7)
    theirs = center_crop_clips(torch.from_numpy(frames).permute(3, 0, 1, 2), 7).permute(1, 2, 3, 0).numpy()
    assert np.array_equal(ours, theirs)
    assert centre_crop(frames, None) is frames
    with pytest.raises(ValueError, match="larger than the frames"):
        centre_crop(frames, 12)


def test_a_pick_round_is_one_video_at_natural_slower_and_faster_pace_from_one_start_in_shuffled_order():
    rounds = make_rounds(videos(), "absolute", num_rounds=30, clip_len=8, kinds=("pick",), seed=3)
    positions = set()
    for rnd in rounds:
        paces = sorted(c.pace for c in rnd.clips)
        assert len({c.video for c in rnd.clips}) == 1 and len({c.start for c in rnd.clips}) == 1
        assert len(paces) == 3 and paces[0] < 1 and paces[1] == 1 and paces[2] > 1  # Fig. 1: slow, normal, fast
        assert rnd.clips[rnd.answer].pace == Fraction(1)
        assert np.array_equal(rnd.clips[0].frames[0], rnd.clips[1].frames[0])  # same first frame: no cue there
        positions.add(rnd.answer)
    assert positions == {0, 1, 2}  # the natural clip is not always in the same place


def test_a_reference_is_another_video_of_the_same_motion_at_natural_pace():
    rounds = make_rounds(videos(), "absolute", num_rounds=10, clip_len=8, kinds=("reference",), seed=4)
    for rnd in rounds:
        clip, ref = rnd.clips[0], rnd.reference
        assert ref.pace == 1 and ref.video != clip.video
        assert motion_class(ref.video) == motion_class(clip.video) == rnd.motion


def test_the_deal_is_a_pure_function_of_the_seed():
    def key(rounds):
        return [(r.kind, [(c.label, c.video, c.start) for c in r.clips]) for r in rounds]

    a, b = (make_rounds(videos(), "absolute", num_rounds=6, clip_len=8, seed=7) for _ in range(2))
    c = make_rounds(videos(), "absolute", num_rounds=6, clip_len=8, seed=8)
    assert key(a) == key(b) != key(c)


def test_the_deal_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        make_rounds([], "absolute")
    with pytest.raises(ValueError, match="uint8 frames"):
        make_rounds([("gray", np.zeros((20, 8, 10), np.uint8))], "absolute")
    with pytest.raises(ValueError, match="num_rounds"):
        make_rounds(videos(), "absolute", num_rounds=0)
    with pytest.raises(ValueError, match="round kinds"):
        make_rounds(videos(), "absolute", kinds=("sort",))
    with pytest.raises(ValueError, match="natural pace 1"):
        make_rounds(videos(), "2,3,4", kinds=("pick",))
    with pytest.raises(ValueError, match="lacks"):
        make_rounds(videos(), "2,3,4", kinds=("reference",))
    assert len(make_rounds(videos(), "2,3,4", num_rounds=3, kinds=("pace",))) == 3


def test_motion_class_reads_ucf_names():
    assert motion_class("v_PendulumSwing_g03_c02") == "PendulumSwing"
    assert motion_class("my_clip") == "my_clip"


# ------------------------------------------------------------------------------------ playing


def clip_round(kind: str, label: int) -> Round:
    clip = GameClip(np.zeros((4, 2, 2, 3), np.uint8), label, PACES.pace_of(label), "v", 0)
    return Round(kind, (clip,), "m", clip if kind == "reference" else None)


def pick_round(labels) -> Round:
    clips = tuple(GameClip(np.zeros((4, 2, 2, 3), np.uint8), lab, PACES.pace_of(lab), "v", 0) for lab in labels)
    return Round("pick", clips, "m")


@pytest.fixture
def game():
    # round 1: pick, natural clip is B; round 2: slow (label 1); round 3: fast (label 3)
    return PaceGame([pick_round([0, 2, 4]), clip_round("reference", 1), clip_round("pace", 3)], "absolute")


def test_answers_score_streak_and_chance(game):
    assert game.choices() == ["clip A", "clip B", "clip C"] and game.current.answer == 1
    assert game.guess(1) is True
    assert game.next_round() and game.choices()[1] == "slow (p = 1/2)"
    assert game.guess(0) is False
    game.next_round()
    assert game.guess(3) is True
    assert (game.score, game.played, game.streak, game.best_streak, game.finished) == (2, 3, 1, 1, True)
    assert game.next_round() is False
    assert game.scores() == {"played": 3, "you": 2, "model": None, "chance": pytest.approx(1 / 3 + 1 / 5 + 1 / 5)}
    with pytest.raises(ValueError, match="already answered"):
        game.guess(0)


def test_guess_rejects_a_choice_outside_the_round(game):
    with pytest.raises(ValueError, match="not one of the 3 choices"):
        game.guess(3)


def test_confusion_rows_are_true_paces_and_a_pick_calls_its_clip_natural(game):
    game.guess(0)  # picked clip A (super slow) as natural
    game.next_round()
    game.guess(2)  # slow clip called normal
    expected = np.zeros((5, 5), int)
    expected[0, 2] = 1
    expected[1, 2] = 1
    assert np.array_equal(game.confusion("you"), expected)  # round 3 is unplayed: not counted


def test_the_model_answers_every_round_but_only_played_rounds_are_shown(game):
    # clip scores, one row per clip in round order: A, B, C of the pick round, then the two single clips
    scores = np.array([[0, 0, .9, 0, .1],   # clip A: most "natural" of the three -> the model picks A
                       [0, 0, .5, .5, 0],
                       [0, 0, .1, .2, .7],
                       [.1, .6, .3, 0, 0],  # round 2: slow, right
                       [0, 0, 0, .2, .8]])  # round 3: super fast, wrong
    seen = []
    game.set_player(lambda clips: (seen.append(tuple(clips.shape)), scores)[1])
    assert game.let_model_play() is None
    assert seen == [(5, 4, 2, 2, 3)]
    assert game.model_answers == [0, 1, 4]
    assert [r["truth"] for r in game.rows()] == [HIDDEN] * 3 and [r["model"] for r in game.rows()] == [HIDDEN] * 3
    assert game.reveal_text() == "" and game.scores()["model"] == 0
    game.guess(1)
    assert game.rows()[0] == {"round": 1, "kind": "pick", "video": "v", "truth": "clip B", "you": "clip B",
                              "model": "clip A"}
    assert game.rows()[1]["truth"] == HIDDEN and game.rows()[1]["model"] == HIDDEN
    assert game.reveal_text().endswith("The model said clip A (wrong).")
    model = np.zeros((5, 5), int)
    model[0, 2] = 1  # the model called clip A (super slow) natural
    assert np.array_equal(game.confusion("model"), model)
    assert game.scores() == {"played": 1, "you": 1, "model": 0, "chance": pytest.approx(1 / 3)}


def test_a_player_may_return_labels_and_a_bad_player_is_refused(game):
    game.set_player(lambda clips: [2, 2, 2, 1, 3])
    game.let_model_play()
    assert game.model_answers == [0, 1, 3]
    game.set_player(lambda clips: [7] * len(clips))
    with pytest.raises(ValueError, match="expected 5 labels"):
        game.let_model_play()
    game.set_player(None)
    with pytest.raises(ValueError, match="no model to play"):
        game.let_model_play()


def test_labels_outside_the_pace_set_are_refused():
    with pytest.raises(ValueError, match="outside the pace set"):
        PaceGame([clip_round("pace", 4)], [Fraction(1), Fraction(2)])

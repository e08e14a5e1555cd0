import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacekit import pace
from pacekit.pace import PaceSet, clip_span, jump_cut_probability, loop_points, sample_indices, sample_start


def test_paper_fast_example_counts_from_zero():
    # Sec. 3.1: "super fast clip with p = 3 contains frames 11, 14, 17, 20 and 23" (1-based)
    assert sample_indices(25, 5, 3, start=10).tolist() == [10, 13, 16, 19, 22]


def test_paper_slow_example_repeats_the_preceding_frame():
    # p = 1/2: "only frames 1, 3, 5 are filled", the blanks take the preceding frame
    assert sample_indices(25, 5, Fraction(1, 2), start=0).tolist() == [0, 0, 1, 1, 2]
    assert sample_indices(25, 6, "1/3", start=3).tolist() == [3, 3, 3, 4, 4, 4]


def test_normal_pace_is_consecutive():
    assert sample_indices(25, 5, 1, start=7).tolist() == [7, 8, 9, 10, 11]


def test_clip_loops_modulo_the_video():
    assert sample_indices(10, 5, 3, start=6).tolist() == [6, 9, 2, 5, 8]


def test_authors_restart_wrap_goes_back_to_frame_zero():
    # the authors' loader restarts from the first frame when the next frame would overflow
    assert sample_indices(10, 5, 3, start=6, wrap="restart").tolist() == [6, 9, 0, 3, 6]


@pytest.mark.parametrize("wrap", ["modulo", "restart"])
def test_loop_points_of_a_clip_that_loops_once(wrap):
    idx = sample_indices(10, 5, 3, start=6, wrap=wrap)
    assert loop_points(idx, num_frames=10, pace=3, wrap=wrap).tolist() == [2]
    assert loop_points(sample_indices(25, 5, 3, start=10, wrap=wrap), 25, 3, wrap).tolist() == []


# Wraps that the frame numbers alone do not show: a step of the whole video or more lands on or past
# the frame it left. The first case is the one a random Hypothesis run found; the others are its
# neighbours (a step past the frame, a one-frame video, a slow pace, the authors' restart).
@pytest.mark.parametrize(
    "num_frames,clip_len,p,wrap,indices,loops",
    [
        (3, 3, Fraction(5, 2), "modulo", [0, 2, 2], [2]),  # 2 -> 5, one video further on: frame 2 again
        (3, 3, Fraction(4), "modulo", [0, 1, 2], [1, 2]),  # every step passes the end, yet the frames increase
        (1, 3, Fraction(1), "modulo", [0, 0, 0], [1, 2]),  # a one-frame video loops at every step
        (1, 4, Fraction(1, 2), "modulo", [0, 0, 0, 0], [2]),  # ... and slow paces repeat it between loops
        (2, 4, Fraction(3), "restart", [0, 0, 0, 0], [1, 2, 3]),  # frame 3 would overflow: back to 0, again
        (3, 3, Fraction(5, 2), "restart", [0, 2, 0], [2]),  # the same clip under the authors' restart
    ],
)
def test_wraps_that_land_on_or_past_the_frame_they_left_are_loops(num_frames, clip_len, p, wrap, indices, loops):
    idx = sample_indices(num_frames, clip_len, p, 0, wrap)
    assert idx.tolist() == indices
    assert loop_points(idx, num_frames=num_frames, pace=p, wrap=wrap).tolist() == loops
    rng = np.random.default_rng(0)
    clip = pace.sample_pace_clip(num_frames, clip_len, PaceSet((p,)), rng, policy="fit", wrap=wrap)
    assert clip.indices.tolist() == indices and clip.loops.tolist() == loops


def test_loop_points_check_the_indices_match_the_sampling():
    with pytest.raises(ValueError, match="not a clip at pace 3"):
        loop_points([6, 9, 0, 3, 6], num_frames=10, pace=3)  # the restart clip, read as modulo
    with pytest.raises(TypeError, match="both num_frames and pace"):
        loop_points([0, 2, 2], num_frames=3)
    assert loop_points([], num_frames=3, pace=2).tolist() == []
    # without the sampling, only backward steps are seen
    assert loop_points([6, 9, 2, 5, 8]).tolist() == [2] and loop_points([0, 2, 2]).tolist() == []


def test_third_pace_has_no_float_drift():
    idx = sample_indices(10_000, 3000, Fraction(1, 3), start=0)
    assert idx[-1] == 999 and (np.bincount(idx) == 3).all()


def test_presets_and_labels():
    relative = PaceSet.from_spec("relative")
    assert list(relative) == [1, 2, 3, 4] and len(relative) == 4
    absolute = PaceSet.from_spec("absolute")
    assert absolute.labels == ["super slow", "slow", "normal", "fast", "super fast"]
    assert absolute.label_of("1/3") == 0 and absolute.pace_of(4) == 3
    custom = PaceSet.from_spec("1,2,5")
    assert custom.label_of(5) == 2
    assert PaceSet.from_spec([0.5, 1]).paces == (Fraction(1, 2), Fraction(1))


@pytest.mark.parametrize("bad", ["fastest", "0", "-1", "one"])
def test_bad_pace_specs_say_what_was_expected(bad):
    with pytest.raises(ValueError):
        PaceSet.from_spec(bad) if not bad.lstrip("-").isdigit() else pace.as_pace(bad)


def test_float_paces_snap_to_exact_fractions():
    assert pace.as_pace(0.3333333) == Fraction(1, 3)
    with pytest.raises(ValueError):
        PaceSet.from_spec([1, 1.0])


def test_clip_span():
    assert clip_span(16, 4) == 61
    assert clip_span(16, Fraction(1, 2)) == 8
    assert clip_span(5, 3) == 13


def test_fit_policy_never_loops_when_the_span_fits():
    rng = np.random.default_rng(0)
    starts = [sample_start(70, 16, 4, "fit", rng) for _ in range(2000)]
    assert min(starts) == 0 and max(starts) == 70 - 61  # every fitting start is reachable
    for s in starts[:200]:
        assert len(loop_points(sample_indices(70, 16, 4, s), 70, 4)) == 0


def test_fit_policy_on_a_video_shorter_than_the_span_starts_at_zero():
    rng = np.random.default_rng(0)
    assert sample_start(30, 16, 4, "fit", rng) == 0


def test_any_policy_covers_the_whole_video_and_loops():
    rng = np.random.default_rng(1)
    starts = np.array([sample_start(70, 16, 4, "any", rng) for _ in range(5000)])
    assert starts.min() == 0 and starts.max() == 69
    looped = np.mean([len(loop_points(sample_indices(70, 16, 4, s), 70, 4)) > 0 for s in starts])
    assert looped == pytest.approx(jump_cut_probability(70, 16, 4, "any"), abs=0.03)


def test_jump_cut_probability_is_exact():
    # starts 10..69 of 70 loop for a 61-frame span: 60 of 70
    assert jump_cut_probability(70, 16, 4, "any") == pytest.approx(60 / 70)
    assert jump_cut_probability(70, 16, 4, "fit") == 0.0
    assert jump_cut_probability(40, 16, 4, "fit") == 1.0
    exact = np.mean([len(loop_points(sample_indices(70, 16, 4, s), 70, 4)) > 0 for s in range(70)])
    assert exact == pytest.approx(60 / 70)


def test_jump_cuts_of_the_any_policy_on_ucf101_split1(shared_data):
    # The authors' list gives each video's frame count; 'any' loops ~41% of p=4 16-frame clips.
    lines = (shared_data / "splits" / "ucf101" / "video-pace_train_ucf101_split1.list").read_text().split("\n")
    frames = [int(line.split()[2]) for line in lines if line.strip()]
    assert len(frames) == 9537
    rate = np.mean([jump_cut_probability(n, 16, 4, "any") for n in frames])
    assert rate == pytest.approx(0.407, abs=0.005)
    # 'fit' loops only the videos shorter than the 61-frame span
    short = np.mean([n < 61 for n in frames])
    assert np.mean([jump_cut_probability(n, 16, 4, "fit") for n in frames]) == pytest.approx(short)
    assert short < 0.02


def test_interpolation_plan_blends_neighbours_for_slow_paces():
    lo, hi, w = pace.interpolation_plan(25, 5, "1/2", start=0)
    assert lo.tolist() == [0, 0, 1, 1, 2] and hi.tolist() == [1, 1, 2, 2, 3]
    assert w.tolist() == [0.0, 0.5, 0.0, 0.5, 0.0]
    # at the last start 'fit' allows, the final frame holds the video's last frame (no blend with frame 0)
    lo, hi, w = pace.interpolation_plan(100, 16, "1/2", start=92)
    assert lo[-1] == 99 and hi[-1] == 99 and not (hi == 0).any()
    lo, _, w = pace.interpolation_plan(25, 5, 2, start=3)
    assert lo.tolist() == sample_indices(25, 5, 2, 3).tolist() and not w.any()


def test_sample_pace_clip_round_trips_pace_and_label():
    rng = np.random.default_rng(3)
    ps = PaceSet.from_spec("absolute")
    for _ in range(50):
        clip = pace.sample_pace_clip(100, 16, ps, rng)
        assert ps.pace_of(clip.label) == clip.pace
        assert clip.indices.tolist() == sample_indices(100, 16, clip.pace, clip.start).tolist()
        assert clip.loops.tolist() == loop_points(clip.indices, 100, clip.pace).tolist()


# The paper's paces plus any small fraction; short videos often, since a video no longer than one
# step of the pace is where a wrap can hide (see the pinned cases above).
paces = st.one_of(
    st.sampled_from([Fraction(1, 3), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(3), Fraction(4),
                     Fraction(5, 2)]),
    st.fractions(min_value=Fraction(1, 8), max_value=8, max_denominator=8),
)
frame_counts = st.one_of(st.integers(1, 8), st.integers(1, 400))
wraps = st.sampled_from(["modulo", "restart"])


def pace_steps(clip_len, p):
    """How far the pace moves between consecutive clip frames: floor((i + 1) p) - floor(i p)."""
    return [math.floor((i + 1) * p) - math.floor(i * p) for i in range(clip_len - 1)]


@settings(max_examples=300, deadline=None)
@given(num_frames=frame_counts, clip_len=st.integers(1, 64), p=paces, start=st.integers(0, 10_000), wrap=wraps)
def test_indices_in_range_with_clip_len_frames(num_frames, clip_len, p, start, wrap):
    idx = sample_indices(num_frames, clip_len, p, start, wrap)
    assert idx.shape == (clip_len,) and idx.dtype == np.int64
    assert ((idx >= 0) & (idx < num_frames)).all()
    assert idx[0] == start % num_frames


@settings(max_examples=300, deadline=None)
@given(num_frames=frame_counts, clip_len=st.integers(2, 64), p=paces, start=st.integers(0, 399))
def test_indices_follow_the_pace_between_loop_points(num_frames, clip_len, p, start):
    # Modulo wrap: a step that is not the pace's step is a loop, and every loop is such a step (it moved
    # a whole number of videos less), whatever the frame numbers do.
    idx = sample_indices(num_frames, clip_len, p, start)
    loops = loop_points(idx, num_frames, p)
    off_pace = [i + 1 for i, (step, d) in enumerate(zip(np.diff(idx), pace_steps(clip_len, p))) if step != d]
    assert loops.tolist() == off_pace
    assert all((step - d) % num_frames == 0 for step, d in zip(np.diff(idx), pace_steps(clip_len, p)))
    # The clip passes the end (start + span - 1) // num_frames times; a step longer than the video
    # passes it more than once between two frames, which is still one jump cut.
    passes = (start % num_frames + clip_span(clip_len, p) - 1) // num_frames
    assert (len(loops) > 0) == (passes > 0) and len(loops) <= passes
    if max(pace_steps(clip_len, p)) <= num_frames:
        assert len(loops) == passes
    if p >= 1:
        assert (np.delete(np.diff(idx), loops - 1) > 0).all()  # fast and normal paces never repeat a frame


@settings(max_examples=300, deadline=None)
@given(num_frames=frame_counts, clip_len=st.integers(2, 64), p=paces, start=st.integers(0, 399))
def test_restart_wrap_plays_fresh_clips_from_frame_zero_between_loop_points(num_frames, clip_len, p, start):
    idx = sample_indices(num_frames, clip_len, p, start, "restart")
    loops = loop_points(idx, num_frames, p, "restart")
    assert idx.max() < num_frames  # so no piece below ran on past the end without restarting
    pieces = np.split(idx, loops)
    for k, piece in enumerate(pieces):
        origin = start % num_frames if k == 0 else 0
        steps = [math.floor(i * p) for i in range(len(piece))]
        assert piece.tolist() == [origin + s for s in steps]  # a plain clip at pace p from its origin
        if k < len(pieces) - 1:  # it restarted because the next frame was past the end
            assert origin + math.floor(len(piece) * p) > num_frames - 1
    # It restarts exactly where the modulo clip first wraps.
    first_wrap = loop_points(sample_indices(num_frames, clip_len, p, start), num_frames, p)[:1]
    assert loops[:1].tolist() == first_wrap.tolist()


@settings(max_examples=200, deadline=None)
@given(num_frames=frame_counts, clip_len=st.integers(1, 32), p=paces, wrap=wraps)
def test_jump_cut_probability_counts_the_looping_starts(num_frames, clip_len, p, wrap):
    looped = [len(loop_points(sample_indices(num_frames, clip_len, p, s, wrap), num_frames, p, wrap)) > 0
              for s in range(num_frames)]
    assert jump_cut_probability(num_frames, clip_len, p, "any") == pytest.approx(np.mean(looped))
    fitting = range(num_frames - clip_span(clip_len, p) + 1)
    fit_rate = np.mean([looped[s] for s in fitting]) if len(fitting) else float(looped[0])  # 'fit' then starts at 0
    assert jump_cut_probability(num_frames, clip_len, p, "fit") == pytest.approx(fit_rate)


@settings(max_examples=200, deadline=None)
@given(ps=st.lists(paces, min_size=1, max_size=6, unique=True), data=st.data())
def test_pace_and_label_round_trip(ps, data):
    pace_set = PaceSet(tuple(ps))
    label = data.draw(st.integers(0, len(ps) - 1))
    assert pace_set.label_of(pace_set.pace_of(label)) == label

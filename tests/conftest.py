import os
import random
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")  # tests only; package code never picks a backend
os.environ.setdefault("PACEKIT_FAST", "1")
sys.path.insert(0, str(Path(__file__).parent))

from helpers import SHARED_DATA, build_tiny_flow, make_ucf_layout, make_ucf_with_broken_videos  # noqa: E402

# Hypothesis profiles. CI replays the same examples on every run (derandomize, no example database), so
# a red build is reproducible and a green one is not luck; print_blob prints the failing example as a
# @reproduce_failure line, and the timing-based too_slow check is off on shared CI machines. Locally each
# run draws new examples: that is how the property tests find cases nobody thought of. Both profiles
# start from Hypothesis' defaults, not from the active profile, which newer Hypothesis versions already
# switch to their own "ci" when CI is set. The choice is made here, before any test module builds its
# @settings (they inherit the profile loaded then); `pytest --hypothesis-profile=NAME` overrides it.
settings.register_profile(
    "ci",
    settings.get_profile("default"),
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", settings.get_profile("default"), deadline=None, print_blob=True)
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
settings.load_profile("ci" if IN_CI else "dev")

@pytest.fixture(autouse=True)
def _seed_global_random_generators():
    """Seed Python's, NumPy's and torch's global generators before every test.

    Tests that draw inputs without a generator of their own (``torch.randn(4, 3)``) then see the same
    numbers on every run and in any test order, so a rare unlucky draw cannot make them flaky.
    """
    random.seed(0)
    np.random.seed(0)
    torch = sys.modules.get("torch")  # seed it only if some test imported it: importing torch is slow
    if torch is not None:
        torch.manual_seed(0)


@pytest.fixture(scope="session")
def ucf_root(tmp_path_factory):
    """A small UCF101-layout dataset of numbered videos (3 classes x 4 videos, 40-46 frames)."""
    return make_ucf_layout(tmp_path_factory.mktemp("ucf"))


@pytest.fixture
def shared_data():
    """The real clips and split files beside the repository; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("real dataset samples (../shared/data) are not present in this checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def broken_ucf_root(tmp_path_factory):
    """:func:`helpers.make_ucf_with_broken_videos`: ``ucf_root``'s layout with one test and one train video
    (:data:`helpers.BROKEN_TEST`, :data:`helpers.BROKEN_TRAIN`) overwritten by undecodable bytes."""
    return make_ucf_with_broken_videos(tmp_path_factory.mktemp("broken_ucf"))


@pytest.fixture(scope="session")
def flow(tmp_path_factory):
    """:func:`helpers.build_tiny_flow`: a tiny synthetic set with pretraining and fine-tuning checkpoints,
    built once per session. Tests read it and write their own runs elsewhere (``tmp_path``)."""
    return build_tiny_flow(tmp_path_factory.mktemp("flow"))

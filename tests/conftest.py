import os
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # tests only; package code never picks a backend
os.environ.setdefault("PACEKIT_FAST", "1")
sys.path.insert(0, str(Path(__file__).parent))

from helpers import SHARED_DATA, make_ucf_layout  # noqa: E402


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

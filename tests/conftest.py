import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])  # the same examples on every run
settings.register_profile("thorough", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory) -> Path:
    """A fresh processed-dataset cache ($GRAPHCON_CACHE) for one test module, so no test reads another's files."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("cache")
        patch.setenv("GRAPHCON_CACHE", str(cache))
        yield cache


@pytest.fixture
def data_root() -> Path:
    """The offline dataset root: $GRAPHCON_DATA, else ../shared/data beside the project."""
    return Path(os.environ.get("GRAPHCON_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

"""The data root of the node-level experiment tests (modules that read other sets override ``root``)."""

import pytest


@pytest.fixture
def root(data_root):
    if not (data_root / "Cora" / "raw").is_dir() or not (data_root / "texas" / "raw").is_dir():
        pytest.skip(f"offline data root {data_root} lacks Cora/texas raw files (set GRAPHCON_DATA)")
    return str(data_root)

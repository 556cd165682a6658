from __future__ import annotations

from pathlib import Path

import pytest

from jobs.infra import paths

SHARED = paths.PROJECT_ROOT.parent / "shared"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: CI and fresh clones must pass without it."""
    data = SHARED / "data"
    if not (data / "corpora").is_dir():
        pytest.skip("needs ../shared/data (the full corpora), absent here")
    return data

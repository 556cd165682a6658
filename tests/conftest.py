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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every Spark test is a slow one (a JVM, often a nightly on it): `make test-quick` leaves them out."""
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.slow)

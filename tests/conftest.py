"""Generic fixtures shared by the test files."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.paths import SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real test data folder (../shared/data from the repository root); skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA}")
    return SHARED_DATA

"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = (REPO_ROOT / ".." / "shared" / "data" / "real").resolve()
VALIDATION_CASES = ("Brats18_2013_20_1", "Brats18_CBICA_AME_1", "Brats18_TCIA10_628_1")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of real BraTS 2018 cases; tests that need it skip when it is absent."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real BraTS cases not available: {REAL_DATA_DIR} does not exist")
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def real_case_dir(real_data_dir: Path) -> Path:
    """One real case folder (a validation case, so nothing here is ever trained on)."""
    path = real_data_dir / "Brats18_CBICA_AME_1"
    if not path.is_dir():
        pytest.skip(f"real case missing: {path}")
    return path

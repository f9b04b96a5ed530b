"""Fixtures the agency-report corpus shares (test_reports_*.py); a module may define its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.reports_helpers import open_warehouse


@pytest.fixture
def con(data_root, dti_catalogue):
    with open_warehouse() as connection:
        yield connection


@pytest.fixture
def inbox(data_root) -> Path:
    return data_root / "inbox"

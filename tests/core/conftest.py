"""Fixtures of the core tests (the real sandbox comes from tests/conftest.py)."""

import pytest

from moments_desktop.core.journal import Journal


@pytest.fixture
def journal(tmp_path):
    """A fresh journal file of the test's own, closed after it."""
    with Journal(tmp_path / "journal.sqlite3") as j:
        yield j

"""A claim made with the ``moments`` command line is in the history the window reads: the same journal file
(MOMENTS_DESKTOP_HOME), opened here with the window's own HistoryService and HistoryModel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moments_desktop.core.journal import Journal
from moments_desktop.core.startup import journal_location
from moments_desktop.ui.history_model import HistoryModel
from moments_desktop.ui.history_service import HistoryService

pytestmark = pytest.mark.gui

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_cli_claim_appears_in_the_windows_history_with_its_reward_url(loop, in_loop, until):
    # The home is this test's own (tests/ui/conftest.py sets MOMENTS_DESKTOP_HOME); the CLI gets the same one.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-m", "moments_desktop.cli", "claim", "--profile", "Sandbox demo",
                           "--sandbox", "--yes", "--json"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["reward_url"].startswith("http://127.0.0.1:")
    journal = Journal(journal_location())
    found = {}

    async def scenario():
        service = HistoryService(journal)
        model = HistoryModel(service)
        try:
            model.reload()
            await until(lambda: model.loaded_once and not model.loading)
            rows = [model.history_row(r) for r in range(model.rowCount())]
            found["rows"] = rows
        finally:
            await service.aclose()

    try:
        in_loop(scenario)
    finally:
        journal.close()
    [row] = [r for r in found["rows"] if r.entry.endpoint == "GetReward"]
    assert row.entry.id == printed["journal_id"]
    assert (row.endpoint, row.outcome, row.profile) == ("getReward", "Success", "Sandbox demo")
    assert row.entry.reward_url == printed["reward_url"]
    assert printed["reward_url"] in row.summary

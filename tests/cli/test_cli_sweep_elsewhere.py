"""``moments sweep --baseline`` with a baseline another profile (or endpoint) saved: the summary says so,
naming both, so a difference is not read as a change of the campaign."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.secret_service


def test_a_baseline_saved_by_another_profile_is_noted_in_the_summary(run_cli, sandbox_profile, sandbox, tmp_path):
    saved_by, compared_by = sandbox_profile("Yesterday QA"), sandbox_profile("Today QA")
    baseline = tmp_path / "baseline.json"
    fields = ("--field", "deviceType=Android,iOS")
    first = run_cli("sweep", "--profile", saved_by.name, *fields, "--save-baseline", str(baseline))
    assert first.returncode == 0, first.stderr
    same = run_cli("sweep", "--profile", saved_by.name, *fields, "--baseline", str(baseline))
    assert same.returncode == 0, same.stderr
    assert "The baseline is of another" not in same.stdout
    other = run_cli("sweep", "--profile", compared_by.name, *fields, "--baseline", str(baseline))
    assert other.returncode == 0, other.stderr
    [note] = [line for line in other.stdout.splitlines() if "The baseline is of another" in line]
    assert note.startswith("The baseline is of another profile:")
    assert "“Yesterday QA”" in note and "“Today QA”" in note
    assert sandbox.admin.ledger() == []

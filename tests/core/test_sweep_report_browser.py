"""The HTML report of a real sweep of the real sandbox (faults mixed in, compared with a baseline), opened in a
real headless browser - Debian's Chromium - and its screenshot checked: a real render (many colours, each
status colour, the changed marker), so the page's own style passed its Content-Security-Policy and its
embedded images drew. A copy of the screenshot is kept for a person to look at.

Chromium is a required tool, like the Secret Service: missing, the test skips on a developer's machine and
fails under CI=true (.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from secret_service import in_ci
from session_helpers import run_session

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.profiles import DEMO_PROFILE_ID
from moments_desktop.core.sweep import SweepRun, SweepStatus
from moments_desktop.core.sweep_report import STATUS_COLOURS, SweepReportFormat

GET_REWARD_INFO = Endpoint.GET_REWARD_INFO.value
CHANGED_COLOUR = "#8250df"
# Where a person finds the last screenshot (the step's shared folder when it is there, else nowhere).
SHOTS = Path(os.environ.get("MOMENTS_REPORT_SHOTS", "/work/step12/shots"))


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Debian's chromium is not installed (apt-get install chromium)"
    if in_ci():
        pytest.fail(reason + "; .ci/run installs it, so CI must not skip this test")
    pytest.skip(reason)


def screenshot(page: Path, shot: Path, profile: Path, size=(1280, 1800)) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}",
               f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page.as_uri()]
    if os.name == "posix" and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(profile)})


def colours_of(png: Path) -> tuple[tuple[int, int], Counter]:
    """(width, height) and how often each colour ('#rrggbb') occurs, every 2nd pixel of every 2nd row."""
    from PySide6.QtGui import QImage  # decodes a PNG without an application; the report itself is Qt-free

    image = QImage(str(png))
    assert not image.isNull(), f"{png} is not an image"
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = bytes(image.constBits())
    counts: Counter = Counter()
    for y in range(0, height, 2):
        row = data[y * stride: y * stride + width * 3]
        for x in range(0, width * 3, 6):
            counts["#%02x%02x%02x" % (row[x], row[x + 1], row[x + 2])] += 1
    return (width, height), counts


async def sweep(session):
    plan = session.plan_sweep(DEMO_PROFILE_ID, {"campaignId": ["DEMOCAMP1", "LIVECAMP1"],
                                                "rewardGroupId": ["US", "JP", "DE", "XX"]})
    return await session.run_sweep(SweepRun(plan))


def test_the_html_report_of_a_real_sweep_renders_in_chromium(sandbox, tmp_path):
    chromium()  # skip (or fail in CI) before sweeping anything
    report = tmp_path / "report" / "sweep.html"

    async def scenario(s):
        yesterday = await sweep(s)
        baseline = await s.save_baseline(yesterday, tmp_path / "baseline.json")
        # Today: one group declines, one answer is broken.
        sandbox.admin.add_fault(GET_REWARD_INFO, "status", status=403,
                                match={"campaignId": "LIVECAMP1", "rewardGroupId": "JP"})
        sandbox.admin.add_fault(GET_REWARD_INFO, "truncated", match={"campaignId": "DEMOCAMP1", "rewardGroupId": "DE"})
        today = await sweep(s)
        diff = s.compare_sweep(today, await s.load_baseline(tmp_path / "baseline.json"))

        await s.write_sweep_report(today, diff, report, SweepReportFormat.HTML)
        return baseline, today, diff

    baseline, today, diff = run_session(sandbox, tmp_path, scenario)
    statuses = {c.status for c in today.cards}
    assert statuses == set(SweepStatus), statuses  # every colour has a card to show it
    assert diff.changed_count == 2
    assert sandbox.admin.ledger() == []  # the sweeps sent getRewardInfo only

    shot = tmp_path / "report.png"
    ran = screenshot(report, shot, tmp_path / "chromium-profile")
    assert ran.returncode == 0 and shot.exists(), ran.stderr[-2000:]
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        shutil.copyfile(shot, SHOTS / "report.png")
    (width, height), colours = colours_of(shot)
    assert (width, height) == (1280, 1800)
    assert len(colours) > 200, len(colours)  # text, photos, badges: not a blank or unstyled page
    background = colours.most_common(1)[0]
    assert background[1] < 0.9 * sum(colours.values())  # not one colour over nearly everything
    for status, colour in STATUS_COLOURS.items():
        assert colours[colour] > 100, (status, colour, colours[colour])  # the style applied: CSP let it in
    assert colours[CHANGED_COLOUR] > 100

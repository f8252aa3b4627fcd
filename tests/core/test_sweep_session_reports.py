"""The Session's baseline and report use cases over a real sweep of the real sandbox: save a baseline, sweep
again with a fault mixed in, compare, write the three reports; bad files and folders give MomentsErrors that
name the path; the sandbox ledger stays empty."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from read_only_folder import make_unwritable
from session_helpers import run_session

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.errors import MomentsError, UnexpectedError
from moments_desktop.core.images import CachedImage, ImageFetchError
from moments_desktop.core.profiles import DEMO_PROFILE_ID
from moments_desktop.core.render import Renderer
from moments_desktop.core.sweep import SweepRun, SweepStatus
from moments_desktop.core.sweep_baseline import BaselineError, ChangeKind
from moments_desktop.core.sweep_report import SweepReportError, SweepReportFormat

GET_REWARD_INFO = Endpoint.GET_REWARD_INFO.value
REWARDS = Path(__file__).resolve().parents[2] / "resources" / "rewards"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


async def sweep(session, groups=("US", "JP", "XX")):
    plan = session.plan_sweep(DEMO_PROFILE_ID, {"rewardGroupId": list(groups), "deviceType": ["Android", "iOS"]})
    return await session.run_sweep(SweepRun(plan))


def test_a_baseline_saved_then_a_changed_sweep_compared(sandbox, tmp_path):
    path = tmp_path / "baselines" / "demo.json"

    async def scenario(s):
        first = await sweep(s)
        saved = await s.save_baseline(first, path)
        loaded = await s.load_baseline(path)
        # The next day: JP declines on iOS.
        sandbox.admin.add_fault(GET_REWARD_INFO, "status", status=403, times=100,
                                match={"rewardGroupId": "JP", "deviceType": "iOS"})
        second = await sweep(s)
        return first, saved, loaded, second, s.compare_sweep(second, loaded), s.compare_sweep(first, loaded)

    first, saved, loaded, second, diff, same = run_session(sandbox, tmp_path, scenario)
    assert loaded == saved and len(loaded.entries) == 6
    assert {e.status for e in loaded.entries.values()} == {SweepStatus.REWARD, SweepStatus.NO_REWARD}
    assert same.changes == {} and same.gone == ()
    assert diff.gone == () and diff.changed_count == 1
    (key, changes), = diff.changes.items()
    assert json.loads(key)["rewardGroupId"] == "JP" and json.loads(key)["deviceType"] == "iOS"
    assert [(c.kind, c.before, c.after) for c in changes] == [(ChangeKind.STATUS, "reward", "declined")]
    assert sandbox.demo_key not in path.read_text(encoding="utf-8")
    assert sandbox.admin.ledger() == []


def test_loading_a_bad_baseline_is_a_baseline_error_not_an_unexpected_one(sandbox, tmp_path):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": "world"}', encoding="utf-8")

    async def scenario(s):
        errors = []
        for path in (bad, tmp_path / "missing.json"):
            with pytest.raises(BaselineError) as caught:
                await s.load_baseline(path)
            errors.append(caught.value)
        return errors

    not_baseline, missing = run_session(sandbox, tmp_path, scenario)
    assert str(bad) in not_baseline.message and "not a sweep baseline" in not_baseline.message
    assert str(tmp_path / "missing.json") in missing.message


def test_saving_a_baseline_into_a_folder_that_refuses_it(sandbox, tmp_path):
    folder = tmp_path / "locked"
    undo = make_unwritable(folder)

    async def scenario(s):
        result = await sweep(s, groups=("US",))
        with pytest.raises(BaselineError) as caught:
            await s.save_baseline(result, folder / "b.json")
        return caught.value

    try:
        error = run_session(sandbox, tmp_path, scenario)
    finally:
        undo()
    assert not isinstance(error, UnexpectedError)
    assert str(folder / "b.json") in error.message and error.message.startswith("The baseline could not be saved")


def test_a_cancelled_sweep_is_refused_as_a_baseline_and_nothing_is_written(sandbox, tmp_path):
    from dataclasses import replace

    from moments_desktop.core.sweep_baseline import IncompleteBaselineError

    path = tmp_path / "partial.json"

    async def scenario(s):
        whole = await sweep(s, groups=("US",))
        with pytest.raises(IncompleteBaselineError) as caught:
            await s.save_baseline(replace(whole, cards=whole.cards[:1], cancelled=True), path)
        return caught.value

    error = run_session(sandbox, tmp_path, scenario)
    assert isinstance(error, BaselineError) and not isinstance(error, UnexpectedError)
    assert error.message.startswith("A sweep that did not finish is not saved as a baseline")
    assert "1 of 2 combinations" in error.message and str(path) in error.message
    assert not path.exists()


def png(name: str) -> CachedImage:
    path = REWARDS / name
    return CachedImage(url=f"cached:{name}", path=path, content_type="image/png", size=path.stat().st_size)


def test_the_three_reports_of_a_real_sweep(sandbox, tmp_path):
    sandbox.admin.add_fault(GET_REWARD_INFO, "status", status=403, times=100, match={"rewardGroupId": "JP",
                                                                                    "deviceType": "iOS"})
    asked = []
    refused = set()

    async def scenario(s):
        result = await sweep(s)
        urls = sorted({c.image_url for c in result.cards if c.image_url})
        refused.add(urls[-1])

        async def sweep_image(profile_id, url):  # stands in for the image cache, to count what is asked
            asked.append((profile_id, url))
            if url in refused:
                raise ImageFetchError("the server answered 404")
            return png("headphones.png")

        s.sweep_image = sweep_image
        for fmt, name in ((SweepReportFormat.HTML, "r.html"), (SweepReportFormat.CSV, "r.csv"),
                          (SweepReportFormat.JUNIT, "r.xml")):
            await s.write_sweep_report(result, None, tmp_path / "out" / name, fmt)
        return result, urls

    result, urls = run_session(sandbox, tmp_path, scenario)
    rewards = [c for c in result.cards if c.status is SweepStatus.REWARD]
    assert len(urls) >= 2 and len(rewards) > len(urls)  # several cards share an image
    assert sorted(url for _profile, url in asked) == urls  # once per distinct URL, not once per card
    assert {profile for profile, _url in asked} == {DEMO_PROFILE_ID}
    page = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1  # the refused one is a placeholder
    assert "Image not available" in page and page.count('class="card ') == 6

    raw_csv = (tmp_path / "out" / "r.csv").read_bytes()
    assert raw_csv.startswith(b"\xef\xbb\xbf")  # how a spreadsheet knows it is UTF-8
    rows = list(csv.DictReader(io.StringIO(raw_csv.decode("utf-8-sig"), newline="")))
    assert len(rows) == 6 and sorted(r["status"] for r in rows).count("declined") == 1

    suite = ET.parse(tmp_path / "out" / "r.xml").getroot().find("testsuite")
    assert suite.get("tests") == "6"
    assert suite.get("failures") == str(sum(c.status is not SweepStatus.REWARD for c in result.cards))
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []  # no temp file left
    assert sandbox.admin.ledger() == []


def test_a_report_written_in_presenter_mode_is_masked(sandbox, tmp_path):
    async def scenario(s):
        result = await sweep(s, groups=("US",))
        s.renderer = Renderer(masked=True)
        for fmt in SweepReportFormat:
            await s.write_sweep_report(result, None, tmp_path / f"r.{fmt.value}", fmt)
        return result

    async def no_image(profile_id, url):
        raise ImageFetchError("not in this test")

    def with_no_images(s):
        s.sweep_image = no_image
        return scenario(s)

    result = run_session(sandbox, tmp_path, with_no_images)
    fields = result.cards[0].combination.fields()
    for fmt in SweepReportFormat:
        text = (tmp_path / f"r.{fmt.value}").read_text(encoding="utf-8-sig")
        for name in ("appId", "momentId", "campaignId"):
            assert fields[name] not in text, (fmt, name)
        assert "Android" in text


def test_a_report_into_a_folder_that_refuses_it_names_the_path(sandbox, tmp_path):
    folder = tmp_path / "locked"
    undo = make_unwritable(folder)

    async def scenario(s):
        result = await sweep(s, groups=("XX",))  # no reward: no image to fetch
        errors = []
        for fmt in SweepReportFormat:
            with pytest.raises(MomentsError) as caught:
                await s.write_sweep_report(result, None, folder / f"r.{fmt.value}", fmt)
            errors.append(caught.value)
        return errors

    try:
        errors = run_session(sandbox, tmp_path, scenario)
    finally:
        undo()
    for error, fmt in zip(errors, SweepReportFormat, strict=True):
        assert isinstance(error, SweepReportError), error
        assert str(folder / f"r.{fmt.value}") in error.message
        assert error.message.startswith("The report could not be written")

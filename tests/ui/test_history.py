"""The History tab over a real journal: rows written through the Journal API and by real
previews and claims against the sandbox; filters, search, details, copy, export, unresolved
claims and the start-up banner, and responsiveness with 100,000 rows."""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView
from synthetic_journal import fill_journal  # tests/synthetic_journal.py

from moments_desktop.core.exchange import REDACTED
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import Profile
from moments_desktop.ui.history_format import local_time
from moments_desktop.ui.history_model import MAX_CACHED_PAGES, PAGE_SIZE, PLACEHOLDER, UNRESOLVED_BACKGROUND_ROLE
from moments_desktop.ui.theme import current as current_theme
from moments_desktop.ui.history_service import HistoryService

pytestmark = pytest.mark.gui

KEY = "sk-live-HISTORY-SECRET-0123456789"
BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android",
        "campaignId": "DEMOCAMP1", "rewardGroupId": "US"}
BASE_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OUTCOMES = ("success", "no_reward", "error", "not_sent", "success", "unknown")


def sample_rows(n: int = 36, start: datetime = BASE_TIME) -> list[dict]:
    """n exchanges, one every 7 hours, newest last; three profiles; every 5th a claim."""
    rows = []
    for i in range(n):
        claim = i % 5 == 0
        endpoint = "GetReward" if claim else "GetRewardInfo"
        outcome = OUTCOMES[i % len(OUTCOMES)]
        rows.append(dict(
            endpoint=endpoint, url=f"http://127.0.0.1:9/{endpoint}",
            headers={"x-api-key": KEY, "Content-Type": "application/json"},
            body={**BODY, "campaignId": f"CAMP{i:03d}"},
            status=None if outcome in ("not_sent", "unknown") else (403 if outcome == "error" else 200),
            response_headers={"content-type": "application/json"},
            response_body=json.dumps({"rewardNotificationText": f"Reward number {i}"}) if outcome == "success"
            else ("[]" if outcome == "no_reward" else None),
            duration_ms=float(10 + i), outcome=outcome,
            error_message="The API key was refused" if outcome == "error" else None,
            reward_url=f"https://rewards.example/r/{i}" if claim and outcome == "success" else None,
            profile_id=("p-one", "p-two", "p-three")[i % 3], profile_name=("One", "Two", "Three")[i % 3],
            time=start + timedelta(hours=7 * i), secrets=[KEY]))
    return rows


def view_of(harness):
    return harness.window.history_view


async def open_history(harness, until):
    w = harness.window
    w.tabs.setCurrentWidget(w.history_view)
    await settled(harness, until)


async def settled(harness, until):
    model = view_of(harness).model
    await until(lambda: model.loaded_once and not model.loading)


def shown_rows(view):
    model = view.model
    rows = [model.history_row(r) for r in range(model.rowCount())]
    assert None not in rows, "every row of a small result is in the first page"
    return rows


async def choose(harness, until, combo, data):
    view = view_of(harness)
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)
    await until(lambda: view.model.filters == view.current_filter() and not view.model.loading)


def test_lists_rows_newest_first_with_words_and_counts(harness, in_loop, until):
    harness.journal.record_many(sample_rows())
    view = view_of(harness)
    reads_on_ui_thread = []
    for name in ("count", "query", "profiles"):
        original = getattr(harness.journal, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            if threading.current_thread() is threading.main_thread():
                reads_on_ui_thread.append(_name)
            return _original(*args, **kwargs)

        setattr(harness.journal, name, spy)

    async def scenario():
        await open_history(harness, until)
        await until(lambda: view.profile_combo.count() == 4)

    in_loop(scenario)
    assert reads_on_ui_thread == []
    rows = shown_rows(view)
    assert len(rows) == 36 and view.count_label.text() == "36 entries"
    assert [r.entry.id for r in rows] == sorted((r.entry.id for r in rows), reverse=True)
    newest = rows[0]
    assert newest.time == local_time(newest.entry.time)
    assert (newest.profile, newest.endpoint, newest.outcome) == ("Three", "getReward", "Outcome unknown")
    assert {r.outcome for r in rows} == {"Success", "No reward", "Error", "Not sent", "Outcome unknown"}
    model = view.model
    assert model.data(model.index(0, 3), Qt.ItemDataRole.BackgroundRole).color().name() == \
        getattr(current_theme().palette, UNRESOLVED_BACKGROUND_ROLE)
    assert model.data(model.index(1, 3), Qt.ItemDataRole.BackgroundRole) is None
    assert "Reward number 34" in model.data(model.index(1, 4))
    assert [view.profile_combo.itemText(i) for i in range(view.profile_combo.count())] == \
        ["All profiles", "One", "Three", "Two"]


def test_filters_by_profile_endpoint_outcome_and_date(harness, in_loop, until):
    harness.journal.record_many(sample_rows())
    view = view_of(harness)
    days = {}

    async def scenario():
        await open_history(harness, until)
        await until(lambda: view.profile_combo.count() == 4)
        await choose(harness, until, view.profile_combo, "p-two")
        days["profile"] = shown_rows(view)
        await choose(harness, until, view.endpoint_combo, "GetReward")
        days["profile+claims"] = shown_rows(view)
        await choose(harness, until, view.profile_combo, None)
        await choose(harness, until, view.outcome_combo, "no_reward")
        days["claims+no_reward"] = shown_rows(view)
        await choose(harness, until, view.endpoint_combo, None)
        await choose(harness, until, view.outcome_combo, None)
        # Local days 2 to 4 of the rows (whatever this computer's time zone is).
        first_local = datetime.fromisoformat(shown_rows(view)[-1].entry.time).astimezone().date()
        start, end = first_local + timedelta(days=2), first_local + timedelta(days=4)
        view.from_date.setDate(QDate(start.year, start.month, start.day))
        view.to_date.setDate(QDate(end.year, end.month, end.day))
        await until(lambda: view.model.filters == view.current_filter() and not view.model.loading)
        days["range"] = (start, end, shown_rows(view))
        view.reset_filters()
        await until(lambda: view.model.filters == view.current_filter() and not view.model.loading)

    in_loop(scenario)
    assert len(days["profile"]) == 12 and {r.profile for r in days["profile"]} == {"Two"}
    assert view.count_label.text() == "36 entries"
    claims = days["profile+claims"]
    assert claims and {(r.profile, r.endpoint) for r in claims} == {("Two", "getReward")}
    assert len(claims) == harness.journal.count({"profile_id": "p-two", "endpoint": "GetReward"})
    no_reward = days["claims+no_reward"]
    assert {(r.endpoint, r.outcome) for r in no_reward} == {("getReward", "No reward")}
    assert len(no_reward) == harness.journal.count({"endpoint": "GetReward", "outcome": "no_reward"})
    start, end, in_range = days["range"]
    local_days = [datetime.fromisoformat(r.entry.time).astimezone().date() for r in in_range]
    assert in_range and all(start <= d <= end for d in local_days)
    everything = harness.journal.query(None, 0, 100)
    expected = [e.id for e in everything if start <= datetime.fromisoformat(e.time).astimezone().date() <= end]
    assert [r.entry.id for r in in_range] == expected
    assert len(shown_rows(view)) == 36


def test_text_search_is_debounced_and_finds_bodies_and_reward_urls(qtbot, harness, in_loop, until):
    harness.journal.record_many(sample_rows())
    view = view_of(harness)
    found = {}

    async def scenario():
        await open_history(harness, until)
        qtbot.keyClicks(view.search_edit, "CAMP01")
        assert view.model.filters.text is None  # nothing read per keystroke
        await until(lambda: view.model.filters.text == "CAMP01" and not view.model.loading, 3000)
        found["camp"] = shown_rows(view)
        view.search_edit.setText("rewards.example/r/30")
        await until(lambda: view.model.filters.text == "rewards.example/r/30" and not view.model.loading, 3000)
        found["url"] = shown_rows(view)
        view.search_edit.setText("nothing-like-this")
        await until(lambda: view.model.filters.text == "nothing-like-this" and not view.model.loading, 3000)

    in_loop(scenario)
    assert sorted(r.entry.request_body["campaignId"] for r in found["camp"]) == [f"CAMP{i:03d}" for i in range(10, 20)]
    assert [r.entry.reward_url for r in found["url"]] == ["https://rewards.example/r/30"]
    assert view.model.rowCount() == 0 and view.count_label.text() == "0 of 36 entries"


def test_real_preview_appears_and_details_show_the_request_without_the_key(qtbot, harness, in_loop, until,
                                                                              sandbox):
    profile = harness.profiles.add(Profile(name="Local QA", base_url=sandbox.base_url, **sandbox.demo_body))
    harness.credentials.set_key(profile.id, sandbox.demo_key)
    w = harness.window
    view = view_of(harness)

    async def scenario():
        await open_history(harness, until)
        assert view.model.rowCount() == 0
        qtbot.mouseClick(w.preview_button, Qt.MouseButton.LeftButton)  # the demo profile
        assert w.tabs.currentWidget() is w.preview_panel  # the answer is shown, not hidden behind History
        w.tabs.setCurrentWidget(view)
        await until(lambda: view.model.rowCount() == 1 and not view.model.loading)
        w.profile_combo.addItem(profile.name, profile.id)
        w.profile_combo.setCurrentIndex(w.profile_combo.count() - 1)
        qtbot.mouseClick(w.preview_button, Qt.MouseButton.LeftButton)
        w.tabs.setCurrentWidget(view)
        await until(lambda: view.model.rowCount() == 2 and not view.model.loading)
        view.select_row(0)

    in_loop(scenario)
    details = view.detail.text.toPlainText()
    assert f"POST {sandbox.base_url}/GetRewardInfo" in details
    assert f"x-api-key: {REDACTED}" in details
    assert '"campaignId": "DEMOCAMP1"' in details and "HTTP 200" in details
    assert "Profile: Local QA" in details and "Wireless Headphones" in details
    assert not view.detail.copy_reward_button.isEnabled()  # a preview has no reward URL
    view.detail.copy_details_button.click()
    assert QGuiApplication.clipboard().text() == details
    for row in range(2):
        view.select_row(row)
        everything = view.detail.text.toPlainText() + view.detail.title.text() + view.model.data(
            view.model.index(row, 4))
        assert sandbox.demo_key not in everything
    assert [r.profile for r in shown_rows(view)] == ["Local QA", "Sandbox demo"]


def test_claim_appears_and_its_reward_url_is_copied(qtbot, harness, in_loop, until, sandbox):
    w = harness.window
    view = view_of(harness)

    async def scenario():
        await open_history(harness, until)
        qtbot.mouseClick(w.claim_button, Qt.MouseButton.LeftButton)  # the demo profile: the sandbox
        qtbot.mouseClick(w.claim_flow.dialog.confirm_button, Qt.MouseButton.LeftButton)
        await until(lambda: not harness.bridge.busy)
        assert w.tabs.currentWidget() is w.preview_panel  # the claim's result is shown there
        w.tabs.setCurrentWidget(view)
        # No refresh asked for: the controller's journal_changed marked the history stale.
        await until(lambda: view.model.rowCount() == 1 and not view.model.loading)
        view.select_row(0)

    in_loop(scenario)
    [claim] = harness.journal.query({"endpoint": "GetReward"})
    assert len(sandbox.admin.ledger()) == 1
    assert claim.reward_url and claim.reward_url.startswith("http")
    row = shown_rows(view)[0]
    assert (row.endpoint, row.outcome, row.entry.reward_url) == ("getReward", "Success", claim.reward_url)
    assert claim.reward_url in row.summary
    assert f"Reward URL: {claim.reward_url}" in view.detail.text.toPlainText()
    assert sandbox.demo_key not in view.detail.text.toPlainText()
    assert view.detail.copy_reward_button.isEnabled()
    QGuiApplication.clipboard().clear()
    view.detail.copy_reward_button.click()
    assert QGuiApplication.clipboard().text() == claim.reward_url


def test_export_csv_and_json_write_the_filtered_rows(harness, in_loop, until, tmp_path):
    harness.journal.record_many(sample_rows())
    view = view_of(harness)
    targets = {"csv": tmp_path / "out" / "history.csv", "json": tmp_path / "out" / "history.json"}
    (tmp_path / "out").mkdir()
    view.choose_export_path = lambda kind: str(targets[kind])
    errors, messages = [], []
    view.show_error = errors.append

    async def scenario():
        await open_history(harness, until)
        await until(lambda: view.profile_combo.count() == 4)
        await choose(harness, until, view.profile_combo, "p-one")
        view.search_edit.setText("CAMP01")  # still waiting for its debounce when Export is chosen
        view.export_csv_action.trigger()
        await until(lambda: view.message_label.text().startswith("Exported"))
        view.export_json_action.trigger()
        await until(lambda: "history.json" in view.message_label.text()
                    and view.message_label.text().startswith("Exported"))
        messages.append(view.message_label.text())
        (tmp_path / "not-a-folder").write_text("a file where a folder should be")
        targets["csv"] = tmp_path / "not-a-folder" / "x.csv"
        view.export_csv_action.trigger()
        await until(lambda: bool(errors))

    in_loop(scenario)
    expected = harness.journal.count({"profile_id": "p-one", "text": "CAMP01"})
    assert 0 < expected < 36
    with (tmp_path / "out" / "history.csv").open(encoding="utf-8-sig", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    data = json.loads((tmp_path / "out" / "history.json").read_text(encoding="utf-8"))
    assert len(csv_rows) == len(data) == expected
    assert {r["profile_id"] for r in csv_rows} == {d["profile_id"] for d in data} == {"p-one"}
    assert all(d["request_body"]["campaignId"].startswith("CAMP01") for d in data)
    for path in ("history.csv", "history.json"):
        assert KEY not in (tmp_path / "out" / path).read_text(encoding="utf-8-sig")
    assert messages == [f"Exported {expected} entries to {tmp_path / 'out' / 'history.json'}."]
    assert "could not be exported" in errors[0] and "not-a-folder" in errors[0]
    assert "Traceback" not in errors[0]
    assert view.export_button.isEnabled()


def _leave_open_claims(path, count: int) -> list[int]:
    """Claims whose answer never came: an earlier run sent them and stopped (its Journal is gone)."""
    with Journal(path) as earlier_run:
        return [earlier_run.begin_intent("p-one", "One", "GetReward", "http://127.0.0.1:9/GetReward",
                                         {"x-api-key": KEY}, {**BODY, "campaignId": f"LOST{i}"}, secrets=[KEY])
                for i in range(count)]


def test_unresolved_banner_at_startup_review_and_resolve_with_note(make_harness, tmp_path, in_loop, until):
    journal_path = tmp_path / "journal.sqlite3"
    with Journal(journal_path) as j:
        j.record_many(sample_rows(5)[:4])  # no unknown among these
    lost = _leave_open_claims(journal_path, 2)
    harness = make_harness()
    w = harness.window
    view = view_of(harness)
    banner = w.unresolved_banner
    notes = []

    def answer(entry):
        notes.append(entry.id)
        return "  Ledger shows one reward consumed  "

    view.ask_resolution_note = answer
    seen = {}

    async def scenario():
        await until(lambda: banner.isVisible())
        seen["banner"] = banner.label.text()
        assert [harness.journal.get(i).outcome for i in lost] == ["unknown", "unknown"]
        banner.review_button.click()
        assert w.tabs.currentWidget() is view
        await settled(harness, until)
        seen["rows"] = shown_rows(view)
        seen["filter"] = view.outcome_combo.currentText()
        view.select_row(0)
        assert view.detail.resolve_button.isEnabled()
        view.detail.resolve_button.click()
        await until(lambda: banner.label.text().startswith("<b>1 claim has"))
        await until(lambda: view.model.rowCount() == 1 and not view.model.loading)
        view.select_row(0)
        view.detail.resolve_button.click()
        await until(lambda: not banner.isVisible())
        await until(lambda: view.model.rowCount() == 0 and not view.model.loading)
        view.reset_filters()
        await until(lambda: view.model.rowCount() == 6 and not view.model.loading)

    in_loop(scenario)
    assert seen["banner"].startswith("<b>2 claims have an unknown outcome</b>")
    assert "sandbox ledger" in seen["banner"]
    assert sorted(r.entry.id for r in seen["rows"]) == lost
    assert all(r.outcome == "Outcome unknown" and r.unresolved for r in seen["rows"])
    assert seen["filter"] == "Unresolved claims"
    assert sorted(notes) == lost
    for entry_id in lost:
        entry = harness.journal.get(entry_id)
        assert (entry.outcome, entry.resolved_note) == ("unknown", "Ledger shows one reward consumed")
    # Resolved rows stay in the history, no longer highlighted, with the note in their details.
    model = view.model
    row = model.row_of(lost[0])
    assert model.data(model.index(row, 0), Qt.ItemDataRole.BackgroundRole) is None
    view.select_row(row)
    assert "Resolution (" in view.detail.text.toPlainText()
    assert "Ledger shows one reward consumed" in view.detail.text.toPlainText()
    assert not view.detail.resolve_button.isEnabled()


def test_cancelled_note_resolves_nothing(make_harness, tmp_path, in_loop, until):
    lost = _leave_open_claims(tmp_path / "journal.sqlite3", 1)
    harness = make_harness()
    view = view_of(harness)
    view.ask_resolution_note = lambda entry: None

    async def scenario():
        await until(lambda: harness.window.unresolved_banner.isVisible())
        harness.window.review_unresolved()
        await settled(harness, until)
        view.select_row(0)
        view.detail.resolve_button.click()

    in_loop(scenario)
    assert harness.journal.get(lost[0]).resolved_note is None
    assert harness.window.unresolved_banner.isVisible()


def test_no_banner_without_unknown_outcomes(harness, in_loop, until):
    async def scenario():
        await until(lambda: harness.window.history_service.unresolved_count is not None)

    in_loop(scenario)
    assert harness.window.history_service.unresolved_count == 0
    assert not harness.window.unresolved_banner.isVisible()


def test_new_rows_arrive_on_top_and_keep_the_selection(harness, in_loop, until):
    harness.journal.record_many(sample_rows())
    view = view_of(harness)
    chosen = {}

    async def scenario():
        await open_history(harness, until)
        view.select_row(5)
        chosen["id"] = view.detail.entry.id
        harness.journal.record_many(sample_rows(3, start=BASE_TIME + timedelta(days=30)))
        harness.window.history_service.notify_changed()
        await until(lambda: view.model.rowCount() == 39 and not view.model.loading)

    in_loop(scenario)
    assert view.selected_row() == 8
    assert view.model.entry(8).id == chosen["id"] == view.detail.entry.id
    assert view.count_label.text() == "39 entries"


# --- 100,000 rows ------------------------------------------------------------------------

BIG = 100_000


@pytest.fixture(scope="session")
def big_journal(tmp_path_factory):
    """A 100,000-row journal, written once per session; tests copy it."""
    path = tmp_path_factory.mktemp("big-journal") / "journal.sqlite3"
    fill_journal(path, BIG, api_key=KEY)
    return path


class Heartbeat:
    """A 20 ms timer on the UI thread: the longest gap between its ticks is how long the UI froze."""

    def __init__(self, parent):
        self.ticks: list[float] = []
        self.timer = QTimer(parent)  # destroyed with the window, on the UI thread
        self.timer.setInterval(20)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self):
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self.ticks.append(time.perf_counter())
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))


@pytest.mark.slow
def test_100k_rows_open_and_scroll_stay_responsive(big_journal, make_harness, tmp_path, in_loop, until):
    shutil.copyfile(big_journal, tmp_path / "journal.sqlite3")
    harness = make_harness()
    view = view_of(harness)
    model = view.model
    table = view.table
    heartbeat = Heartbeat(view)
    seen = {}
    view.choose_export_path = lambda kind: str(tmp_path / f"profile-3.{kind}")

    def loaded(row: int) -> bool:
        return model.is_loaded(row)

    async def scenario():
        await until(lambda: harness.window.history_service.unresolved_count is not None)
        heartbeat.start()
        harness.window.tabs.setCurrentWidget(view)
        await until(lambda: model.loaded_once and loaded(0), 5000)
        seen["count"] = view.count_label.text()
        table.scrollToBottom()
        await until(lambda: loaded(BIG - 1), 5000)
        table.scrollTo(model.index(BIG // 2, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        await until(lambda: loaded(BIG // 2), 5000)
        table.setFocus()
        table.setCurrentIndex(model.index(BIG // 2, 0))
        for _ in range(20):  # page downs, each into rows not read yet
            table.verticalScrollBar().setValue(table.verticalScrollBar().value() + 300)
            await until(lambda: loaded(table.rowAt(0)), 5000)
        view.search_edit.setText("CAMP0042")
        await until(lambda: model.filters.text == "CAMP0042" and not model.loading, 5000)
        seen["search"] = model.rowCount()
        table.scrollToBottom()
        await until(lambda: loaded(model.rowCount() - 1), 5000)
        seen["last"] = model.data(model.index(model.rowCount() - 1, 0))
        seen["cached"] = len(model._rows)
        view.search_edit.setText("r/")  # too short for the trigram index: a scan of every row
        await until(lambda: model.filters.text == "r/" and not model.loading, 5000)
        view.reset_filters()
        await choose(harness, until, view.profile_combo, "profile-3")
        view.export_csv_action.trigger()  # 5,000 rows written while the table keeps scrolling
        while not view.message_label.text().startswith("Exported"):
            table.verticalScrollBar().setValue(table.verticalScrollBar().value() + 300)
            await asyncio.sleep(0.05)
        seen["gap"] = heartbeat.stop()

    in_loop(scenario)
    assert seen["count"] == f"{BIG:,} entries"
    assert seen["search"] == harness.journal.count({"text": "CAMP0042"}) > 0
    assert seen["cached"] <= (MAX_CACHED_PAGES + 2) * PAGE_SIZE  # never the whole journal
    assert seen["last"] not in (PLACEHOLDER, None)
    assert (tmp_path / "profile-3.csv").read_text(encoding="utf-8-sig").count("profile-3,") == BIG // 20
    assert seen["gap"] < 0.5, f"the UI froze for {seen['gap'] * 1000:.0f} ms"


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")  # offscreen popups
def test_date_filter_starts_at_any_and_its_calendar_opens_on_this_month(qtbot, harness, in_loop, until):
    view = view_of(harness)
    in_loop(lambda: open_history(harness, until))  # showing the tab reads the journal: on the loop
    assert view.from_date.text() == "Any" and view.current_filter().since is None
    edit = view.from_date
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton, pos=QPoint(edit.width() - 6, edit.height() // 2))  # the arrow
    calendar = view.from_date.calendarWidget()
    today = QDate.currentDate()
    assert calendar.isVisible()
    assert (calendar.yearShown(), calendar.monthShown()) == (today.year(), today.month())
    calendar.window().hide()
    assert view.from_date.text() == "Any"


def test_history_service_starts_work_only_on_the_running_loop(loop, tmp_path):
    """A task on a loop that is set but not running would take its steps in whatever Qt event
    processing comes next, outside asyncio, owned by nobody: the service (its task owner) binds to the
    running loop, so it cannot be built before the loop runs."""
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        with pytest.raises(RuntimeError, match="running event loop"):
            HistoryService(journal)

        async def scenario():
            service = HistoryService(journal)
            try:
                return await service.start(service.profiles())
            finally:
                await service.aclose()

        assert loop.run_until_complete(scenario()) == []
    finally:
        journal.close()


def test_history_service_aclose_waits_for_a_read_still_running_in_its_thread(loop, tmp_path):
    """Cancelling a task does not stop its worker thread: aclose() returns only once the read has
    ended, so the owner may close the journal right after."""
    journal = Journal(tmp_path / "journal.sqlite3")
    started, release, ended = threading.Event(), threading.Event(), threading.Event()
    real_count = journal.count

    def slow_count(*args, **kwargs):
        started.set()
        release.wait(10)
        try:
            return real_count(*args, **kwargs)
        finally:
            ended.set()

    journal.count = slow_count

    async def scenario():
        service = HistoryService(journal)
        service.check_unresolved()
        await asyncio.to_thread(started.wait, 10)
        closing = asyncio.ensure_future(service.aclose())
        await asyncio.sleep(0.1)  # time enough for aclose() to return if it did not wait for the thread
        assert not closing.done() and not ended.is_set()
        release.set()
        await closing
        assert ended.is_set()

    try:
        loop.run_until_complete(scenario())
    finally:
        release.set()
        journal.close()

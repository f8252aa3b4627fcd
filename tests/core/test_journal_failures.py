"""The journal failing under a claim or a preview, with real faults: a second process holding
BEGIN EXCLUSIVE on the file, SQLite's own "disk full" and "read-only" refusals, the file deleted or
replaced under the app; and the sandbox's ledger (and its fault counters) telling what went out.

Root note: these tests run as root here, where a chmod'ed folder does not stop a write, so the lock of
a second process is the main fault; "disk full" is SQLite's own (PRAGMA max_page_count) and "read-only"
SQLite's own (PRAGMA query_only) on the journal's connection, the same errors a full disk or a read-only
mount give."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import stat

import httpx
import pytest
from client_helpers import Sleeps, demo_request, live_request
from journal_lock import JournalLock  # tests/journal_lock.py
from memory_keyring import MemoryKeyring  # tests/memory_keyring.py

from moments_desktop.core.client import MomentsClient
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.exchange import Outcome
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import (
    CANCELLED_PREVIEW,
    UNKNOWN_AFTER_RESTART,
    Journal,
    JournalError,
    JournalReplacedError,
)
from moments_desktop.core.operations import IntentNotWrittenError, Operations, ProfileRef
from moments_desktop.core.profiles import DEMO_PROFILE_ID, ProfileStore
from moments_desktop.core.rescue import rescue_path_for
from moments_desktop.core.session import EmbeddedSandbox, Session

PROFILE = ProfileRef("p1", "QA live")
LOCKED = "the history file is locked by another program"
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


async def _ops(journal, fn, **client_kw):
    async with httpx.AsyncClient() as http:
        return await fn(Operations(MomentsClient(http, **client_kw), journal))


def _claim(sandbox, journal, **changes):
    return asyncio.run(_ops(journal, lambda o: o.claim(PROFILE, live_request(sandbox, **changes), sandbox.demo_key)))


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def run_session(sandbox, tmp_path, scenario):
    async def main():
        journal = Journal(tmp_path / "journal.sqlite3")
        session = Session(ProfileStore(tmp_path / "profiles.json"), CredentialStore(MemoryKeyring()), journal,
                          make_client(), sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key))
        try:
            return await scenario(session)
        finally:
            await session.aclose()

    return asyncio.run(main())


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


# --- not sent means not sent ------------------------------------------------------------------------


def test_a_claim_whose_intent_meets_another_process_lock_is_not_sent(sandbox, journal):
    with JournalLock(journal.path):
        result = _claim(sandbox, journal)
    assert sandbox.admin.ledger() == []  # the before_send hook raising stopped the request
    assert result.call.outcome is Outcome.NOT_SENT and result.journal_id is None and result.reward_url is None
    error = result.call.error
    assert isinstance(error, IntentNotWrittenError) and error.reason == LOCKED
    assert error.advice.startswith("Nothing was sent and nothing was spent.")
    assert "locked" in result.call.exchange.error_message
    assert journal.count() == 0
    again = _claim(sandbox, journal)  # the lock gone, the same claim goes through
    assert again.reward_url == sandbox.admin.ledger()[0]["reward_url"]


def _fill_up(journal) -> None:
    """SQLite's own "database or disk is full": no page may be added, and the last ones are filled."""
    pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
    journal._conn.execute(f"PRAGMA max_page_count={pages + 8}")
    for size in (4000, 500, 60, 1):
        with contextlib.suppress(JournalError):
            for _ in range(1000):
                journal.record(endpoint="GetRewardInfo", url="http://x", outcome="success", response_body="f" * size)


def _read_only(journal) -> None:
    journal._conn.execute("PRAGMA query_only=ON")  # SQLite's own "attempt to write a readonly database"


@pytest.mark.parametrize("fault, reason", [
    (_fill_up, "the disk is full"),
    (_read_only, "the history file or its folder is read-only"),
])
def test_a_claim_whose_intent_meets_a_full_disk_or_read_only_file_is_not_sent(sandbox, journal, fault, reason):
    fault(journal)
    result = _claim(sandbox, journal)
    assert sandbox.admin.ledger() == []
    assert result.call.outcome is Outcome.NOT_SENT
    assert isinstance(result.call.error, IntentNotWrittenError) and result.call.error.reason == reason


def test_a_claim_not_sent_for_the_journal_does_not_count_as_sent(sandbox, tmp_path):
    async def scenario(s):
        await s.preview(DEMO_PROFILE_ID)
        await s.catalog(sandbox.base_url)
        plan = s.plan_claim(DEMO_PROFILE_ID)
        with JournalLock(s.journal.path):
            result = await s.claim(plan)
        assert result.call.outcome is Outcome.NOT_SENT
        assert s.plan_claim(DEMO_PROFILE_ID).claims_since_preview == 0
        assert s.cached_catalog(sandbox.base_url)[0]  # nothing was spent: the stock shown is still right
        assert not s.claim_in_flight

    run_session(sandbox, tmp_path, scenario)
    assert sandbox.admin.ledger() == []


# --- the URL survives the journal ---------------------------------------------------------------------


def _lock_at_complete(journal, monkeypatch, lock):
    """Another program takes the lock after the intent was committed, while the claim is on the wire."""
    real = journal.complete

    def complete(*args, **kwargs):
        if not lock.held:
            lock.acquire()
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, "complete", complete)


def test_an_answer_the_locked_journal_cannot_take_is_returned_rescued_and_merged_at_the_next_open(
        sandbox, journal, monkeypatch):
    lock = JournalLock(journal.path)
    _lock_at_complete(journal, monkeypatch, lock)
    try:
        result = _claim(sandbox, journal)
        [pending] = journal.query()
    finally:
        lock.release()
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1 and ledger[0]["reward_url"]
    url = ledger[0]["reward_url"]
    assert result.reward_url == url and result.call.outcome is Outcome.SUCCESS
    assert url in result.call.exchange.response_body  # the Raw tab has the answer
    assert result.journal_id is None and result.journal_error.reason == LOCKED
    assert pending.outcome == "pending" and pending.reward_url is None
    rescue = rescue_path_for(journal.path)
    assert result.rescue_path == rescue and rescue.name == "journal-rescue.jsonl"
    text = rescue.read_text()
    assert url in text and sandbox.demo_key not in text and "[redacted]" in text
    [record] = [json.loads(line) for line in text.splitlines()]
    assert record["intent_id"] == pending.id and "locked" in record["journal_failure"]
    if os.name == "posix":
        assert _mode(rescue) == 0o600

    with Journal(journal.path) as reopened:  # the next start
        assert [(e.id, e.outcome, e.reward_url) for e in reopened.rescued] == [(pending.id, "success", url)]
        [row] = reopened.query()
        assert (row.id, row.outcome, row.status, row.reward_url) == (pending.id, "success", 200, url)
        assert url in row.response_body and row.summary.endswith(f"200 success {url}")
    assert not rescue.exists()
    with Journal(journal.path) as again:
        assert again.rescued == [] and again.count() == 1


def test_merging_the_same_rescue_file_twice_adds_nothing(sandbox, journal, monkeypatch):
    lock = JournalLock(journal.path)
    _lock_at_complete(journal, monkeypatch, lock)
    try:
        result = _claim(sandbox, journal)
    finally:
        lock.release()
    kept = result.rescue_path.read_bytes()
    with Journal(journal.path) as first:
        assert len(first.rescued) == 1
    # The app stopped after the merge committed and before the file was removed: the same file again.
    result.rescue_path.write_bytes(kept)
    with Journal(journal.path) as second:
        assert second.rescued == [] and second.count() == 1
        assert second.get(first.rescued[0].id).reward_url == result.reward_url
    assert not result.rescue_path.exists()


def test_a_rescue_file_that_cannot_be_merged_yet_is_kept_for_the_next_start(sandbox, journal, monkeypatch):
    lock = JournalLock(journal.path)
    _lock_at_complete(journal, monkeypatch, lock)
    with Journal(journal.path) as second_instance:  # e.g. a second window of the app, open before
        try:
            result = _claim(sandbox, journal)
            with pytest.raises(JournalError, match="locked"):  # the other program still holds the lock
                second_instance.merge_rescue()
            assert result.reward_url in result.rescue_path.read_text()
        finally:
            lock.release()
        assert [e.reward_url for e in second_instance.merge_rescue()] == [result.reward_url]
    assert not result.rescue_path.exists()


def test_the_next_claim_that_is_journaled_brings_in_the_rescued_one(sandbox, journal, monkeypatch):
    lock = JournalLock(journal.path)
    _lock_at_complete(journal, monkeypatch, lock)
    try:
        first = _claim(sandbox, journal)
    finally:
        lock.release()
    monkeypatch.delattr(journal, "complete")  # the journal's own complete again
    second = _claim(sandbox, journal)  # the lock is gone: this one is journaled, and the first with it
    assert second.journal_id is not None and not first.rescue_path.exists()
    rows = sorted(journal.query(), key=lambda e: e.id)
    assert [(r.outcome, r.reward_url) for r in rows] == [("success", first.reward_url), ("success", second.reward_url)]
    assert [r["reward_url"] for r in sandbox.admin.ledger()] == [first.reward_url, second.reward_url]


def test_a_damaged_line_in_the_rescue_file_does_not_lose_the_rest(tmp_path, journal):
    path = rescue_path_for(journal.path)
    good = {"rescue_id": "r1", "intent_id": None, "row": {
        "time": "2031-01-01T00:00:00.000000Z", "endpoint": "GetReward", "request_url": "http://x/GetReward",
        "status": 200, "outcome": "success", "reward_url": "https://r/kept", "owner": "h:1:x"}}
    path.write_text(json.dumps(good) + "\n" + '{"rescue_id": "r2", "row": {"reward_url": "https://r/to')
    with Journal(journal.path) as reopened:
        assert [e.reward_url for e in reopened.rescued] == ["https://r/kept"]
    assert not path.exists()
    [aside] = list(tmp_path.glob("journal-rescue.jsonl.damaged-*"))
    assert "https://r/to" in aside.read_text()  # a person can still read what it holds


def test_a_journal_replaced_before_the_answer_rescues_it_into_the_new_file(sandbox, journal, monkeypatch):
    real = journal.complete
    replacement = journal.path.with_name("other.sqlite3")

    def complete_after_replace(*args, **kwargs):
        Journal(replacement).close()
        os.replace(replacement, journal.path)  # e.g. a sync tool put another copy in its place
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, "complete", complete_after_replace)
    result = _claim(sandbox, journal)
    url = sandbox.admin.ledger()[0]["reward_url"]
    assert result.reward_url == url
    assert isinstance(result.journal_error, JournalReplacedError)
    with Journal(journal.path) as new:
        [row] = new.query()  # the new file never had the intent: the answer is a row of its own
        assert (row.outcome, row.reward_url, row.endpoint) == ("success", url, "GetReward")
        assert row.request_body == live_request(sandbox).validated().body()


# --- a journal replaced or deleted under the app ---------------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_journal_deleted_or_replaced_under_the_app_is_noticed_at_the_next_write(tmp_path, journal, how):
    journal.record(endpoint="GetRewardInfo", url="http://x", outcome="success")
    if how == "deleted":
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{journal.path}{suffix}")
    else:
        shutil.copy(journal.path, tmp_path / "copy.sqlite3")
        os.replace(tmp_path / "copy.sqlite3", journal.path)
    with pytest.raises(JournalReplacedError) as raised:
        journal.record(endpoint="GetRewardInfo", url="http://x", outcome="success")
    assert raised.value.message.startswith("The history file was moved or deleted while the app was running")
    assert isinstance(raised.value, JournalError)


def test_a_claim_on_a_deleted_journal_is_not_sent(sandbox, journal):
    os.unlink(journal.path)
    result = _claim(sandbox, journal)
    assert sandbox.admin.ledger() == []
    assert result.call.outcome is Outcome.NOT_SENT
    assert "moved or deleted" in result.call.error.reason


# --- every request that went out is journaled -------------------------------------------------------


def _requests_seen(admin, counter_id: str, faulted: int) -> int:
    """GetRewardInfo requests that reached the sandbox: the faults it applied (each removed once used up)
    plus the catch-all counting fault's own count."""
    [counter] = [f for f in admin.faults() if f["id"] == counter_id]
    return faulted + counter["applied"]


def test_every_preview_attempt_that_reached_the_sandbox_is_a_journal_row(sandbox, journal):
    sandbox.admin.add_fault("GetRewardInfo", "status", status=502, times=1)
    sandbox.admin.add_fault("GetRewardInfo", "status", status=429, times=1, body={"message": "Too Many Requests"})
    counter = sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=0)  # counts, changes nothing

    async def two_previews(ops):
        first = await ops.preview(PROFILE, demo_request(sandbox), sandbox.demo_key)
        second = await ops.preview(PROFILE, demo_request(sandbox), sandbox.demo_key)
        return first, second

    first, second = asyncio.run(_ops(journal, two_previews, sleep=Sleeps()))
    assert first.ok and second.ok and first.exchange.attempts == 3
    seen = _requests_seen(sandbox.admin, counter["id"], faulted=2)
    assert seen == 4 and journal.count() == seen
    rows = sorted(journal.query(), key=lambda e: e.id)
    assert [(r.status, r.outcome) for r in rows] == [(502, "error"), (429, "error"), (200, "success"),
                                                     (200, "success")]
    assert all("Retried automatically" in r.error_message for r in rows[:2])


def test_a_preview_cancelled_after_it_was_sent_is_journaled_as_cancelled(sandbox, journal):
    counter = sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=5)

    async def cancel_after_send(ops):
        preview = asyncio.ensure_future(ops.preview(PROFILE, demo_request(sandbox), sandbox.demo_key))
        while await asyncio.to_thread(_requests_seen, sandbox.admin, counter["id"], 0) < 1:
            await asyncio.sleep(0.02)  # polls the sandbox until the request has arrived
        preview.cancel()
        with pytest.raises(asyncio.CancelledError):
            await preview

    asyncio.run(_ops(journal, cancel_after_send))
    [row] = journal.query()
    assert (row.endpoint, row.outcome, row.status) == ("GetRewardInfo", "error", None)
    assert row.error_message == CANCELLED_PREVIEW
    assert row.summary.endswith("- cancelled")


def test_a_recovered_claim_says_unknown_in_its_row_and_exports(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        first.begin_intent("p1", "Demo", "GetReward", "http://x/GetReward", {}, {"appId": "DEMO1"})
    monkeypatch.setattr("moments_desktop.core.journal._pid_alive", lambda pid: False)  # that run is gone
    with Journal(path, recover=True) as second:
        [row] = second.recovered
        assert row.outcome == "unknown" and row.error_message == UNKNOWN_AFTER_RESTART
        assert row.summary.endswith("- unknown") and "pending" not in row.summary
        second.export_csv(tmp_path / "out.csv")
        second.export_json(tmp_path / "out.json")
    assert "pending" not in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    [exported] = json.loads((tmp_path / "out.json").read_text())
    assert exported["summary"].endswith("- unknown")


def test_a_journal_recovered_by_an_older_version_gets_its_summaries_fixed_at_open(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as old:
        entry_id = old.begin_intent("p1", "Demo", "GetReward", "http://x/GetReward", {}, {"appId": "DEMO1"})
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE exchanges SET outcome='unknown' WHERE id=?", (entry_id,))  # what recover() did
    raw.close()
    with Journal(path) as reopened:
        assert reopened.get(entry_id).summary.endswith("- unknown")


# --- permissions ---------------------------------------------------------------------------------------


@posix_only
def test_the_journal_its_sidecars_its_folder_and_the_rescue_file_are_owner_only(tmp_path, monkeypatch):
    with Journal() as journal:  # the app's default place, under MOMENTS_DESKTOP_HOME
        journal.record(endpoint="GetRewardInfo", url="http://x", outcome="success")
        assert journal.path == tmp_path / "home" / "data" / "journal.sqlite3"
        assert _mode(journal.path.parent) == 0o700
        for suffix in ("", "-wal", "-shm"):
            assert _mode(f"{journal.path}{suffix}") == 0o600, suffix
        rescued = journal.rescue_answer(None, demo_request_exchange(), profile_id=None, profile_name=None,
                                        reward_url="https://r/x", failure="database is locked")
        assert _mode(rescued) == 0o600


@posix_only
def test_a_journal_an_older_version_left_world_readable_is_tightened(tmp_path):
    data = tmp_path / "home" / "data"
    data.mkdir(parents=True)
    os.chmod(data, 0o755)
    Journal(data / "journal.sqlite3").close()
    os.chmod(data / "journal.sqlite3", 0o644)
    with Journal():
        pass
    assert _mode(data) == 0o700 and _mode(data / "journal.sqlite3") == 0o600


def demo_request_exchange():
    from moments_desktop.api_schema import Endpoint
    from moments_desktop.core.exchange import Exchange

    return Exchange(endpoint=Endpoint.GET_REWARD, url="http://x/GetReward", request_headers={"x-api-key": "k"},
                    request_body={"appId": "DEMO1"}, status=200, outcome=Outcome.SUCCESS)


# --- when even the rescue file cannot be written or read ---------------------------------------------


def test_an_answer_with_no_journal_and_no_rescue_file_is_still_returned_and_says_so(sandbox, journal, monkeypatch):
    rescue_path_for(journal.path).mkdir()  # not writable as a file, whoever we are (root included)
    lock = JournalLock(journal.path)
    _lock_at_complete(journal, monkeypatch, lock)
    try:
        result = _claim(sandbox, journal)
    finally:
        lock.release()
    assert result.reward_url == sandbox.admin.ledger()[0]["reward_url"]
    assert result.rescue_path is None and result.rescue_error
    from moments_desktop.ui.claim_result import present_result  # the words the window shows

    shown = present_result(result)
    assert shown.reward_url == result.reward_url
    assert "could not be written either" in shown.detail and "only while the app runs" in shown.detail


def test_a_rescue_file_that_cannot_be_read_does_not_stop_the_journal_opening(tmp_path):
    rescue_path_for(tmp_path / "journal.sqlite3").mkdir()
    with Journal(tmp_path / "journal.sqlite3") as journal:
        assert journal.rescued == [] and isinstance(journal.rescue_error, JournalError)
        journal.record(endpoint="GetRewardInfo", url="http://x", outcome="success")

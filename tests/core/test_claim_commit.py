"""Committing a claim's answer when the journal fails: how often it is tried and how long it waits,
what the user is told when the intent could not be written, that what went wrong is logged, and that a
claim cancelled while its answer is being committed does not end before the commit did. Real sandbox,
real journal file; the journal's failures are raised at its own methods."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from client_helpers import Sleeps, live_request

from moments_desktop.api_schema import Outcome
from moments_desktop.core import errorlog
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.journal import JournalError, JournalReplacedError
from moments_desktop.core.operations import COMMIT_PAUSES_S, COMMIT_TRIES, IntentNotWrittenError, Operations, ProfileRef

PROFILE = ProfileRef("p1", "QA live")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def claim(sandbox, journal, sleep=None):
    async def main():
        async with httpx.AsyncClient() as http:
            ops = Operations(MomentsClient(http), journal, **({"sleep": sleep} if sleep else {}))
            return await ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key)
    return asyncio.run(main())


def failing(journal, monkeypatch, name, error):
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        raise error
    monkeypatch.setattr(journal, name, fail)
    return calls


def log_text() -> str:
    path = errorlog.log_path()
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_a_failing_commit_is_tried_three_times_with_growing_pauses_then_rescued(sandbox, journal, monkeypatch):
    calls = failing(journal, monkeypatch, "complete", JournalError("database is locked"))
    sleeps = Sleeps()
    result = claim(sandbox, journal, sleeps)
    assert len(calls) == COMMIT_TRIES == 3
    assert sleeps.delays == list(COMMIT_PAUSES_S) == [0.2, 0.5]
    assert result.rescue_path is not None and result.reward_url == sandbox.admin.ledger()[0]["reward_url"]


def test_a_journal_replaced_under_the_app_is_not_tried_again(sandbox, journal, monkeypatch):
    calls = failing(journal, monkeypatch, "complete", JournalReplacedError("the file was replaced"))
    sleeps = Sleeps()
    result = claim(sandbox, journal, sleeps)
    assert len(calls) == 1 and sleeps.delays == []
    assert result.rescue_path is not None and result.reward_url


def test_an_unexpected_error_while_committing_is_logged_and_the_answer_still_rescued(sandbox, journal, monkeypatch):
    failing(journal, monkeypatch, "complete", RuntimeError("a bug in the journal"))
    result = claim(sandbox, journal, Sleeps())
    assert result.reward_url and result.rescue_path is not None
    assert "claim: committing the answer" in log_text() and "a bug in the journal" in log_text()


def test_a_rescue_file_that_cannot_be_merged_after_a_good_write_is_logged(sandbox, journal, monkeypatch):
    journal.rescue.append({"rescue_id": "r1", "intent_id": None, "row": {}})  # something is waiting
    failing(journal, monkeypatch, "merge_rescue", JournalError("database is locked"))
    result = claim(sandbox, journal)
    assert result.journal_id is not None and result.reward_url  # the claim itself was journaled
    assert "journal: merging the rescue file" in log_text()


@pytest.mark.parametrize(("error", "advice"), [
    (JournalReplacedError("the file was replaced"), "Restart the app"),
    (JournalError("database is locked"), "Close the other program"),
    (JournalError("database or disk is full"), "Free some disk space"),
    (JournalError("attempt to write a readonly database"), "Make the data folder writable"),
    (JournalError("disk I/O error"), "Check the data folder"),
])
def test_an_intent_that_could_not_be_written_says_what_to_do(sandbox, journal, monkeypatch, error, advice):
    failing(journal, monkeypatch, "begin_intent", error)
    result = claim(sandbox, journal)
    assert result.call.outcome is Outcome.NOT_SENT and sandbox.admin.ledger() == []
    assert isinstance(result.call.error, IntentNotWrittenError)
    assert result.call.error.advice.startswith("Nothing was sent and nothing was spent.")
    assert advice in result.call.error.advice


def test_a_claim_cancelled_while_its_answer_is_committed_ends_only_after_the_commit(sandbox, journal, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real = journal.complete

    def slow_complete(*args, **kwargs):
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(journal, "complete", slow_complete)

    async def main():
        async with httpx.AsyncClient() as http:
            ops = Operations(MomentsClient(http), journal)
            task = asyncio.ensure_future(ops.claim(PROFILE, live_request(sandbox), sandbox.demo_key))
            while not entered.is_set():
                await asyncio.sleep(0.01)
            task.cancel()
            # The commit is still running in its thread: the claim must not end before it (nothing proves
            # an ending sooner than "never"; 0.3 s is ample for a claim that wrongly gives up at once).
            done, _ = await asyncio.wait({task}, timeout=0.3)
            ended_early = bool(done)
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            return ended_early

    assert asyncio.run(main()) is False
    [row] = journal.query()
    assert row.outcome == "success" and row.reward_url == sandbox.admin.ledger()[0]["reward_url"]

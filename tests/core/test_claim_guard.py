"""One claim per profile in flight across processes (issue 14): the journal's cross-process guard.

A second window, or the ``moments`` command, is a second process on the same journal file. While one of
them has a getReward for a profile in flight (intent committed, answer not yet in), a claim for the same
profile from any other process is refused before anything is sent, with its own words; a claim for
another profile goes through; a process that died mid-claim blocks nothing.

The two-process tests use real processes (tests/claim_holder.py) on one real journal file under one
MOMENTS_DESKTOP_HOME, and the real sandbox: a latency fault holds the other process's claim in flight.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from memory_keyring import MemoryKeyring

from moments_desktop.api_schema import Outcome
from moments_desktop.core import paths
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import ClaimInFlightElsewhereError, Journal, JournalError
from moments_desktop.core.profiles import DEMO_PROFILE_ID, ProfileStore
from moments_desktop.core.session import EmbeddedSandbox, Session

HOLDER = Path(__file__).resolve().parents[1] / "claim_holder.py"
URL = "http://127.0.0.1:9/GetReward"
BODY = {"appId": "DEMO1"}
TITLE = "A claim for this profile is already in progress in another window or process"
ADVICE = "Nothing was sent and nothing was spent. Wait for its outcome (see History), then claim again."
# How long the sandbox holds the other process's claim: far longer than any machine needs to claim
# meanwhile. No test waits it out: once this process's claim has returned, the holder is ended (killed),
# so a fast machine is fast and a slow one still correct.
HOLD_S = 60.0


@pytest.fixture
def home(tmp_path, monkeypatch):
    """One MOMENTS_DESKTOP_HOME for this process and the holders it starts: the same journal file."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv(paths.HOME_ENV, str(folder))
    return folder


class Holder:
    """tests/claim_holder.py in a process of its own (see its docstring for what it says)."""

    def __init__(self, home: Path, *args: str):
        self.stderr_path = home / f"holder-{time.monotonic_ns()}.err"
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - closed in finish()
        self.proc = subprocess.Popen([sys.executable, str(HOLDER), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     env={**os.environ, paths.HOME_ENV: str(home)})
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def expect(self, word: str, timeout: float = 60.0, *, skipping: tuple[str, ...] = ()) -> str:
        """The rest of the next line (lines starting with a word of ``skipping`` aside), which must start
        with ``word``."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the holder said nothing for {timeout} s (waiting for {word!r})") from None
            if line is None:
                self.proc.wait(timeout=30)
                raise AssertionError(f"the holder ended (waiting for {word!r}): {self.stderr_path.read_text()}")
            head, _, rest = line.partition(" ")
            if head not in skipping:
                break
        assert head == word, f"the holder said {line!r}, not {word!r}"
        return rest

    def next_line(self, timeout: float = 60.0) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the holder said nothing for {timeout} s") from None
        assert line is not None, f"the holder ended: {self.stderr_path.read_text()}"
        return line

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def result(self) -> dict:
        return json.loads(self.expect("result", skipping=("in-flight",)))

    def finish(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._reader.join(timeout=30)
        self.proc.stdout.close()
        self._stderr.close()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def holders():
    started: list[Holder] = []
    yield started
    for holder in started:
        if holder.running:
            holder.proc.kill()
        holder.finish()


def start_holder(holders: list[Holder], home: Path, *args: str) -> Holder:
    holder = Holder(home, *args)
    holders.append(holder)
    return holder


def in_session(sandbox, scenario):
    """``await scenario(session)`` with a real Session of this process on the home's files (as a window)."""
    async def main():
        http = make_client()
        session = Session(ProfileStore(paths.profiles_path()), CredentialStore(MemoryKeyring()),
                          Journal(paths.journal_path()), http,
                          sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key))
        try:
            return await scenario(session)
        finally:
            await session.aclose()

    return asyncio.run(main())


async def claim(session: Session, profile_id: str):
    return await session.claim(session.plan_claim(profile_id))


def claim_in_flight_elsewhere(sandbox, home, holders, hold_s: float) -> tuple[Holder, int]:
    """A holder process with a claim for the demo profile held in flight by a latency fault."""
    sandbox.admin.add_fault("GetReward", "latency", seconds=hold_s, times=1)
    holder = start_holder(holders, home, "claim", sandbox.base_url, DEMO_PROFILE_ID)
    holder.expect("ready")
    holder.send("go")
    entry_id = int(holder.expect("in-flight"))
    wait_for_ledger(sandbox, 1)  # its request is at the sandbox, which holds the answer back
    return holder, entry_id


def wait_for_ledger(sandbox, count: int, timeout: float = 30.0) -> None:
    """Until the sandbox has recorded ``count`` claims (it records a claim before a latency fault's delay)."""
    ends = time.monotonic() + timeout
    while len(sandbox.admin.ledger()) < count:
        assert time.monotonic() < ends, f"the sandbox did not record {count} claim(s) in {timeout} s"
        time.sleep(0.02)


# --- two real processes on one journal -------------------------------------------------------------

def test_a_claim_for_a_profile_in_flight_in_another_process_is_refused_and_not_sent(sandbox, home, holders):
    holder, holder_entry = claim_in_flight_elsewhere(sandbox, home, holders, HOLD_S)

    async def scenario(session):
        refused = await claim(session, DEMO_PROFILE_ID)
        return refused, session.journal.get(refused.journal_id), session.journal.get(holder_entry)

    refused, row, holder_row = in_session(sandbox, scenario)
    assert holder.running, "the holder's claim ended before this one was tried: the test proves nothing"

    error = refused.call.error
    assert isinstance(error, ClaimInFlightElsewhereError), error
    assert refused.call.outcome is Outcome.NOT_SENT and refused.reward_url is None
    assert (error.pid, error.host, error.entry_id, error.profile_id) == (
        holder.pid, socket.gethostname(), holder_entry, DEMO_PROFILE_ID)
    assert error.since == holder_row.time
    assert error.title == TITLE and error.advice == ADVICE
    assert f"process {holder.pid} on this computer has been waiting for its answer since " in error.message
    assert "history could not record" not in error.message  # not the journal-failure words
    # Nothing reached the server but the holder's claim (the sandbox records it before its delay).
    assert len(sandbox.admin.ledger()) == 1
    # The refusal is history, as a claim refused before sending is; the holder's row is untouched.
    assert (row.outcome, row.profile_id, row.endpoint, row.status) == (Outcome.NOT_SENT, DEMO_PROFILE_ID,
                                                                       "GetReward", None)
    assert row.error_message == error.message
    assert holder_row.outcome is Outcome.PENDING
    from moments_desktop.ui.claim_result import NOT_SENT_TITLE, ClaimKind, present_result  # the window's words

    shown = present_result(refused)
    assert (shown.kind, shown.title, shown.detail) == (ClaimKind.NOT_SENT, NOT_SENT_TITLE, ADVICE)
    assert shown.message == f"{TITLE}: {error.detail}."

    holder.kill()  # its work is done: end the hold
    assert len(sandbox.admin.ledger()) == 1


def test_a_claim_for_another_profile_goes_through_meanwhile(sandbox, home, holders):
    holder, _ = claim_in_flight_elsewhere(sandbox, home, holders, HOLD_S)

    async def scenario(session):
        copy, _ = await session.duplicate_profile(DEMO_PROFILE_ID, "Demo copy")
        return await claim(session, copy.id)

    other = in_session(sandbox, scenario)
    assert holder.running, "the holder's claim ended before this one was tried: the test proves nothing"
    assert other.call.error is None and other.reward_url and other.call.outcome is Outcome.SUCCESS
    assert len(sandbox.admin.ledger()) == 2  # the holder's and this one
    holder.kill()  # its work is done: end the hold


def test_once_the_other_process_has_its_answer_the_profile_can_be_claimed_again(sandbox, home, holders):
    holder, _ = claim_in_flight_elsewhere(sandbox, home, holders, 1.0)
    assert holder.result()["outcome"] == "success"  # its row is complete, whether its process runs or not

    again = in_session(sandbox, lambda session: claim(session, DEMO_PROFILE_ID))
    assert again.call.error is None and again.reward_url
    assert len(sandbox.admin.ledger()) == 2


def test_a_pending_claim_of_a_process_that_died_blocks_nothing(sandbox, home, holders):
    # The holder is killed while its claim is in flight: its row stays pending, its owner is gone.
    holder, holder_entry = claim_in_flight_elsewhere(sandbox, home, holders, 15.0)
    holder.kill()

    async def scenario(session):
        before = session.journal.get(holder_entry)
        return before, await claim(session, DEMO_PROFILE_ID)

    before, again = in_session(sandbox, scenario)
    assert before.outcome is Outcome.PENDING  # still pending when this claim was checked against it
    assert again.call.error is None and again.reward_url
    assert len(sandbox.admin.ledger()) == 2  # the dead holder's (recorded before its delay) and this one
    # It is an orphan: the next start calls it unknown, as before.
    with Journal(paths.journal_path(), recover=True) as journal:
        assert [(e.id, e.outcome) for e in journal.recovered] == [(holder_entry, Outcome.UNKNOWN)]


def test_of_two_sessions_claiming_the_same_profile_at_once_exactly_one_is_sent(sandbox, home, holders):
    # The first claim that reaches the sandbox is held in flight; the other must be refused, not sent.
    sandbox.admin.add_fault("GetReward", "latency", seconds=HOLD_S, times=1)
    pair = [start_holder(holders, home, "claim", sandbox.base_url, DEMO_PROFILE_ID) for _ in range(2)]
    for holder in pair:
        holder.expect("ready")
    for holder in pair:  # released as close together as two writes to two pipes are
        holder.send("go")
    # Each says one thing first: the one sent "in-flight" (then it waits, held), the one refused its "result".
    first = [holder.next_line() for holder in pair]
    assert sorted(line.partition(" ")[0] for line in first) == ["in-flight", "result"], first
    winner, loser = pair if first[0].startswith("in-flight") else pair[::-1]
    refused = json.loads(first[pair.index(loser)].partition(" ")[2])
    assert refused["outcome"] == "not_sent"
    assert refused["error"] == "ClaimInFlightElsewhereError" and refused["other_pid"] == winner.pid
    assert refused["message"].startswith(TITLE)
    wait_for_ledger(sandbox, 1)
    winner.kill()  # the hold's work is done
    assert len(sandbox.admin.ledger()) == 1
    with Journal(paths.journal_path()) as journal:
        rows = journal.query()
    assert sorted(r.outcome.value for r in rows) == ["not_sent", "pending"]  # the winner's, killed in flight


def test_intents_written_at_once_by_two_processes_one_of_each_pair_is_refused(home, holders):
    """The check and the insert are one transaction across processes: of two intents for the same profile
    released together, exactly one is written, round after round."""
    pair = [start_holder(holders, home, "intents", "race") for _ in range(2)]
    for holder in pair:
        holder.expect("ready")
    rounds = 40
    for number in range(rounds):
        for holder in pair:
            holder.send(f"go {number}")
        answers = []
        for holder in pair:
            line = holder._lines.get(timeout=60)
            assert line is not None, holder.stderr_path.read_text()
            answers.append(line)
        words = sorted(a.partition(" ")[0] for a in answers)
        assert words == ["ok", "refused"], (number, answers)
        winner = pair[[a.partition(" ")[0] for a in answers].index("ok")]
        refusal = next(a for a in answers if a.startswith("refused"))
        assert refusal == f"refused {winner.pid}"
    with Journal(paths.journal_path()) as journal:
        assert journal.count({"outcome": "pending"}) == rounds  # one row per profile, none refused wrote one


# --- the rule itself, on one journal (another running process stands in as pid 1, always alive) --------

def _owned_by(path: Path, entry_id: int, owner: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE exchanges SET owner=? WHERE id=?", (owner, entry_id))
    conn.close()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def other_instance(tmp_path):
    """A journal with p1's claim in flight in another running process (pid 1) of this computer."""
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as earlier:
        entry_id = earlier.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
    _owned_by(path, entry_id, f"{socket.gethostname()}:1:abcd1234")
    with Journal(path) as journal:
        yield journal, entry_id


def test_the_rule_refuses_only_the_same_profile_s_getreward_and_writes_nothing(other_instance):
    journal, entry_id = other_instance
    rows = journal.count()
    with pytest.raises(ClaimInFlightElsewhereError) as refused:
        journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
    error = refused.value
    assert (error.pid, error.entry_id, error.profile_id) == (1, entry_id, "p1")
    assert error.since == journal.get(entry_id).time
    assert not isinstance(error, JournalError)  # the journal works: callers must not treat it as a failure
    assert journal.count() == rows  # nothing written for the refused claim
    # Another profile, a claim with no profile, and an intent that is not a claim are not held back.
    assert journal.get(journal.begin_intent("p2", "Two", "GetReward", URL, {}, BODY)).outcome is Outcome.PENDING
    assert journal.begin_intent(None, None, "GetReward", URL, {}, BODY)
    assert journal.begin_intent("p1", "One", "GetRewardInfo", URL, {}, BODY)
    # Its answer in, the profile is free again.
    journal.complete(entry_id, 200, {}, "{}", 5.0, Outcome.SUCCESS, reward_url="https://r.example/1")
    assert journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)


@pytest.mark.parametrize("owner", ["{host}:{dead}:abcd1234", "elsewhere.example:1:abcd1234", None, "garbled"])
def test_pending_rows_whose_process_is_gone_or_unknown_do_not_block(tmp_path, owner):
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as earlier:
        entry_id = earlier.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
    _owned_by(path, entry_id, owner and owner.format(host=socket.gethostname(), dead=_dead_pid()))
    with Journal(path) as journal:
        assert journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
        assert [e.id for e in journal.open_intents()] == [entry_id]  # the same rule: an orphan


def test_a_row_whose_answer_waits_in_the_rescue_file_is_not_in_flight(other_instance):
    """The other process got its answer but its journal could not take it (kept in the rescue file until
    its next write): the guard merges the rescue file instead of refusing on a claim that is over."""
    journal, entry_id = other_instance
    row = journal.get(entry_id)
    exchange = type("Answered", (), dict(endpoint="GetReward", url=URL, request_headers={}, request_body=BODY,
                                         status=200, response_headers={}, response_body="{}", duration_ms=5.0,
                                         outcome=Outcome.SUCCESS, error_message=None, started_at=row.time))()
    journal.rescue_answer(entry_id, exchange, profile_id="p1", profile_name="One",
                          reward_url="https://r.example/1", failure="database is locked")
    # The rescue record names the row's owner, as the other process's own journal would have written it.
    records = [json.loads(line) for line in journal.rescue.path.read_text().splitlines()]
    records[0]["row"]["owner"] = f"{socket.gethostname()}:1:abcd1234"
    journal.rescue.path.write_text("".join(json.dumps(r) + "\n" for r in records))

    new_id = journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
    assert journal.get(entry_id).outcome is Outcome.SUCCESS and journal.get(entry_id).reward_url
    assert journal.get(new_id).outcome is Outcome.PENDING
    assert not journal.rescue.exists()


def _raising(pid):
    raise OSError("the liveness check itself failed")


def test_a_liveness_check_that_raises_counts_as_alive_refused_and_left_pending(other_instance, monkeypatch):
    """Unknown liveness is the safe side for both callers: a claim is refused (nothing sent), and the row is
    not called unknown by recover(); no exception but the guard's own leaves begin_intent."""
    from moments_desktop.core import journal as journal_module

    journal, entry_id = other_instance
    monkeypatch.setattr(journal_module, "_pid_alive", _raising)
    with pytest.raises(ClaimInFlightElsewhereError):
        journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
    assert journal.recover() == [] and journal.get(entry_id).outcome is Outcome.PENDING


def test_an_unexpected_failure_writing_the_intent_comes_out_as_a_journal_error(tmp_path, monkeypatch):
    with Journal(tmp_path / "journal.sqlite3") as journal:
        def broken(*args, **kwargs):
            raise RuntimeError("something odd")

        monkeypatch.setattr(journal, "_insert", broken)
        with pytest.raises(JournalError) as failed:
            journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
        assert "something odd" in failed.value.reason


def test_a_pending_row_whose_pid_now_belongs_to_a_later_process_blocks_nothing(tmp_path):
    """PID reuse: the owner's start time (Linux) differs from the running process's: the writer is gone.
    The same pid with its real start time, or an owner written without one, still blocks."""
    from moments_desktop.core import journal as journal_module

    start = journal_module._process_start(os.getppid())
    if start is None:
        pytest.skip("no process start times here (/proc)")
    path = tmp_path / "journal.sqlite3"
    host = socket.gethostname()
    with Journal(path) as earlier:
        entry_id = earlier.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
    with Journal(path) as journal:
        for owner, blocks in ((f"{host}:{os.getppid()}:abcd1234:{int(start) + 1}", False),
                              (f"{host}:{os.getppid()}:abcd1234:{start}", True),
                              (f"{host}:{os.getppid()}:abcd1234", True)):
            _owned_by(path, entry_id, owner)
            if blocks:
                with pytest.raises(ClaimInFlightElsewhereError):
                    journal.begin_intent("p1", "One", "GetReward", URL, {}, BODY)
            else:
                assert [e.id for e in journal.open_intents()] == [entry_id], owner  # an orphan
    assert journal_module._owner().count(":") == 3  # this process's own owner carries its start time

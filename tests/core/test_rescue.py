"""The rescue file on its own: appends that survive two processes writing at once, owner-only, and a
merge that removes only what it read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from moments_desktop.core.journal import write_failure_reason
from moments_desktop.core.rescue import RescueFile, rescue_path_for

_APPENDER = r"""
import sys
from moments_desktop.core.rescue import RescueFile
rescue = RescueFile(sys.argv[1])
for i in range(int(sys.argv[3])):
    rescue.append({"rescue_id": f"{sys.argv[2]}-{i}", "row": {"response_body": "x" * 70000}})
"""


def test_the_rescue_file_sits_next_to_the_journal(tmp_path):
    assert rescue_path_for(tmp_path / "journal.sqlite3") == tmp_path / "journal-rescue.jsonl"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_rescue_file_is_owner_only_even_when_it_was_there_before(tmp_path):
    path = tmp_path / "journal-rescue.jsonl"
    path.write_text("")
    os.chmod(path, 0o644)
    RescueFile(path).append({"rescue_id": "a"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_two_processes_appending_at_once_never_mix_their_lines(tmp_path):
    path = tmp_path / "journal-rescue.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", _APPENDER, str(path), name, "40"]) for name in ("a", "b")]
    for writer in writers:
        assert writer.wait(timeout=60) == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]  # each line is whole JSON
    assert sorted(r["rescue_id"] for r in records) == sorted(f"{n}-{i}" for n in "ab" for i in range(40))


def test_a_merge_removes_the_file_it_read(tmp_path):
    rescue = RescueFile(tmp_path / "journal-rescue.jsonl")
    rescue.append({"rescue_id": "a"})
    with rescue.reading() as records:
        assert [r["rescue_id"] for r in records] == ["a"]
        rescue.remove()
    assert not rescue.exists()
    with rescue.reading() as records:
        assert records is None


@pytest.mark.parametrize("sqlite_says, reason", [
    ("database is locked", "the history file is locked by another program"),
    ("database or disk is full", "the disk is full"),
    ("attempt to write a readonly database", "the history file or its folder is read-only"),
    ("unable to open database file", "the history file or its folder is read-only"),
    ("disk I/O error", "disk I/O error"),
])
def test_the_reason_a_write_failed_is_said_in_plain_words(sqlite_says, reason):
    assert write_failure_reason(sqlite_says) == reason


# --- merging into the journal ------------------------------------------------------------------------


def test_an_empty_rescue_file_is_removed_at_the_merge(journal):
    journal.rescue.path.write_bytes(b"")
    assert journal.merge_rescue() == []
    assert not journal.rescue.exists()


def test_a_rescued_row_with_an_unknown_outcome_is_merged_as_unknown_and_keeps_its_endpoint(journal):
    url = "https://www.amazon.com/moments/redeem/ODD-1"
    journal.rescue.append({"rescue_id": "odd-1", "intent_id": None,
                           "row": {"endpoint": "GetReward", "outcome": "not-an-outcome", "reward_url": url}})
    journal.rescue.append({"rescue_id": "odd-2", "intent_id": None, "row": {"outcome": "success"}})
    merged = journal.merge_rescue()
    assert [(e.endpoint, e.outcome, e.reward_url) for e in merged] == [("GetReward", "unknown", url),
                                                                         ("", "success", None)]


def test_a_short_lock_wait_for_a_claim_does_not_shorten_later_writes(journal):
    def busy_timeout_ms() -> int:
        return journal._conn.execute("PRAGMA busy_timeout").fetchone()[0]

    usual = busy_timeout_ms()
    assert usual >= 5000  # the connection's own wait for another process's lock
    journal.begin_intent("p1", "QA", "GetReward", "http://127.0.0.1:9/GetReward", {}, {}, busy_timeout_s=0.5)
    assert busy_timeout_ms() == usual

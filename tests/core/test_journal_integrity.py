"""The journal's money-safety and redaction rules at their edges: an intent cannot be "completed"
as pending, short and empty secrets, exports that redact again whatever the file holds, and time
filters that mean the same instant whatever the local time zone."""

import csv
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from moments_desktop.core import journal as journal_module
from moments_desktop.core.exchange import REDACTED, Outcome
from moments_desktop.core.journal import (
    SCHEMA_VERSION,
    UNKNOWN_AFTER_RESTART,
    Journal,
    JournalError,
    JournalFilter,
)

KEY = "sk-live-SECRET-abcdef123456"
BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android",
        "campaignId": "DEMOCAMP1", "rewardGroupId": "US"}
URL = "http://127.0.0.1:9/GetReward"


def _record(journal, **kw):
    args = dict(endpoint="GetRewardInfo", url="http://127.0.0.1:9/GetRewardInfo", headers={"x-api-key": KEY},
                body=BODY, status=200, response_headers={"content-type": "application/json"},
                response_body="{}", duration_ms=1.0, outcome="success", profile_id="p1", profile_name="Demo")
    args.update(kw)
    return journal.record(**args)


def _raw(journal, entry_id):
    conn = sqlite3.connect(journal.path)
    try:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM exchanges WHERE id=?", (entry_id,)).fetchone())
    finally:
        conn.close()


# --- an intent is completed with a final outcome, once -------------------------------------------------


@pytest.mark.parametrize("outcome", ["pending", Outcome.PENDING, "great", "SUCCESS", ""])
def test_an_intent_cannot_be_completed_with_a_non_final_outcome(journal, outcome):
    entry_id = journal.begin_intent("p1", "Demo", "GetReward", URL, {"x-api-key": KEY}, BODY)
    with pytest.raises(ValueError):
        journal.complete(entry_id, 200, {}, "{}", 1.0, outcome)
    assert journal.get(entry_id).outcome == "pending"
    assert journal.complete(entry_id, 200, {}, "{}", 1.0, Outcome.SUCCESS, reward_url="https://r/1").outcome == "success"


@pytest.mark.parametrize("outcome", ["success", "no_reward", "error", "unknown", "not_sent"])
def test_every_final_outcome_completes_an_intent(journal, outcome):
    entry_id = journal.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    done = journal.complete(entry_id, 502, {"x-amzn-requestid": "abc"}, "body", 12.5, outcome, "why")
    assert (done.outcome, done.status, done.duration_ms, done.error_message) == (outcome, 502, 12.5, "why")
    assert done.response_headers == {"x-amzn-requestid": "abc"} and done.response_body == "body"
    assert done.summary.endswith(f"502 {outcome}")


def test_a_completed_claim_cannot_be_completed_again_but_an_unknown_one_can(journal):
    entry_id = journal.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    journal.complete(entry_id, None, None, None, None, "unknown", "cancelled")
    late = journal.complete(entry_id, 200, {}, "{}", 3.0, "success", reward_url="https://r/late")
    assert late.outcome == "success" and late.reward_url == "https://r/late"
    for outcome in ("success", "error", "unknown"):
        with pytest.raises(JournalError, match="already complete"):
            journal.complete(entry_id, 200, {}, "{}", 3.0, outcome)
    assert journal.get(entry_id).reward_url == "https://r/late"


def test_completing_a_row_that_does_not_exist_fails(journal):
    with pytest.raises(JournalError, match="does not exist"):
        journal.complete(42, 200, {}, "{}", 1.0, "success")


def test_an_intent_is_pending_with_no_answer_yet(journal):
    entry = journal.get(journal.begin_intent("p1", "Demo", "GetReward", URL, {"x-api-key": KEY}, BODY,
                                             secrets=[KEY]))
    assert (entry.outcome, entry.status, entry.response_body, entry.reward_url) == ("pending", None, None, None)
    assert entry.request_body == BODY and entry.request_url == URL and entry.endpoint == "GetReward"
    assert entry.summary == "GetReward DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/US - pending"


def test_complete_scrubs_secrets_from_the_answer(journal):
    entry_id = journal.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    journal.complete(entry_id, 403, {"x-echo": KEY, "set-cookie": "session=1"}, f'{{"message": "bad {KEY}"}}', 1.0,
                     "error", f"refused {KEY}", secrets=[KEY])
    raw = _raw(journal, entry_id)
    assert not any(KEY in str(v) for v in raw.values())
    assert json.loads(raw["response_headers"]) == {"x-echo": REDACTED, "set-cookie": REDACTED}
    assert raw["error_message"] == f"refused {REDACTED}"


# --- secrets: what is scrubbed ----------------------------------------------------------------------------


def test_a_four_character_secret_is_scrubbed(journal):
    entry_id = _record(journal, response_body='{"echo": "k3Y9"}', error_message="key k3Y9 refused",
                       url="http://127.0.0.1:9/GetRewardInfo?k=k3Y9", secrets=["k3Y9"])
    raw = _raw(journal, entry_id)
    assert raw["response_body"] == f'{{"echo": "{REDACTED}"}}'
    assert raw["error_message"] == f"key {REDACTED} refused"
    assert raw["request_url"].endswith(f"k={REDACTED}")


def test_secrets_shorter_than_four_characters_are_not_scrubbed(journal):
    # A one- to three-character "secret" would shred every text it happens to occur in.
    entry_id = _record(journal, response_body='{"rewardNotificationText": "a cup"}', error_message="cup",
                       secrets=["cup", "", None])
    raw = _raw(journal, entry_id)
    assert raw["response_body"] == '{"rewardNotificationText": "a cup"}' and raw["error_message"] == "cup"


def test_every_secret_given_is_scrubbed(journal):
    entry_id = _record(journal, response_body="first-secret and second-secret", secrets=["first-secret",
                                                                                         "second-secret"])
    assert _raw(journal, entry_id)["response_body"] == f"{REDACTED} and {REDACTED}"


def test_secrets_are_scrubbed_from_request_headers_and_body_too(journal):
    entry_id = _record(journal, headers={"x-trace": f"t-{KEY}"}, body={**BODY, "appId": KEY}, secrets=[KEY])
    raw = _raw(journal, entry_id)
    assert KEY not in raw["request_headers"] and KEY not in raw["request_body"]
    assert json.loads(raw["request_headers"]) == {"x-trace": f"t-{REDACTED}"}


# --- exports redact whatever the file holds ----------------------------------------------------------------


@pytest.fixture
def unredacted_row(journal):
    """A row whose headers hold secrets, as an older version or another tool might have written them."""
    entry_id = _record(journal)
    with sqlite3.connect(journal.path) as conn:
        conn.execute("UPDATE exchanges SET request_headers=?, response_headers=? WHERE id=?",
                     (json.dumps({"x-api-key": KEY, "Accept": "application/json"}),
                      json.dumps({"Set-Cookie": f"session={KEY}", "content-type": "application/json"}), entry_id))
    conn.close()
    return entry_id


def test_json_export_redacts_request_and_response_headers_again(journal, unredacted_row, tmp_path):
    out = tmp_path / "out.json"
    assert journal.export_json(out) == 1
    assert KEY not in out.read_text(encoding="utf-8")
    [row] = json.loads(out.read_text(encoding="utf-8"))
    assert row["request_headers"] == {"x-api-key": REDACTED, "Accept": "application/json"}
    assert row["response_headers"] == {"Set-Cookie": REDACTED, "content-type": "application/json"}


def test_csv_export_redacts_request_and_response_headers_again(journal, unredacted_row, tmp_path):
    out = tmp_path / "out.csv"
    assert journal.export_csv(out) == 1
    assert KEY not in out.read_text(encoding="utf-8-sig")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert json.loads(row["request_headers"]) == {"x-api-key": REDACTED, "Accept": "application/json"}
    assert json.loads(row["response_headers"]) == {"Set-Cookie": REDACTED, "content-type": "application/json"}
    assert json.loads(row["request_body"]) == BODY


def test_exports_carry_every_column_but_the_owner(journal, tmp_path):
    entry_id = _record(journal, reward_url="https://r/1", error_message="none")
    journal.resolve(entry_id, "checked")
    journal.export_json(tmp_path / "out.json")
    journal.export_csv(tmp_path / "out.csv")
    [data] = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    expected = {"id", "time", "profile_id", "profile_name", "endpoint", "request_url", "request_headers",
                "request_body", "status", "response_headers", "response_body", "duration_ms", "outcome",
                "error_message", "reward_url", "resolved_note", "resolved_at", "summary"}
    assert set(data) == expected == set(row)
    assert (data["reward_url"], data["resolved_note"], row["resolved_note"]) == ("https://r/1", "checked", "checked")
    assert row["status"] == "200" and row["duration_ms"] == "1.0"


def test_csv_export_writes_empty_cells_for_nothing_and_escapes_formulas(journal, tmp_path):
    _record(journal, status=None, duration_ms=None, error_message="-1 rewards left", reward_url="+44 call")
    journal.export_csv(tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["status"] == "" and row["duration_ms"] == "" and row["resolved_note"] == ""
    assert row["error_message"] == "'-1 rewards left" and row["reward_url"] == "'+44 call"


def test_exports_are_oldest_first(journal, tmp_path):
    base = datetime(2026, 5, 1, tzinfo=UTC)
    for hours in (5, 1, 3):
        _record(journal, time=base + timedelta(hours=hours), error_message=f"h{hours}")
    journal.export_json(tmp_path / "out.json")
    assert [d["error_message"] for d in json.loads((tmp_path / "out.json").read_text())] == ["h1", "h3", "h5"]


# --- time filters mean the same instant whatever the local time zone ------------------------------------------


@pytest.fixture
def tokyo_time():
    """The process's local time zone is UTC+9 for the test (naive datetimes must still mean UTC)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX-only")
    old = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"  # POSIX form: needs no time zone database
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture
def hourly(journal):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    journal.record_many([dict(endpoint="GetRewardInfo", outcome="success", time=base + timedelta(hours=i),
                              error_message=f"h{i}") for i in range(48)])
    return journal


def test_naive_datetimes_are_utc_in_filters(hourly, tokyo_time):
    since = datetime(2026, 1, 1, 10)  # naive: 10:00 UTC, not 10:00 in Tokyo
    until = datetime(2026, 1, 1, 13)
    assert [e.error_message for e in hourly.query({"since": since, "until": until})] == ["h12", "h11", "h10"]
    assert hourly.count({"since": "2026-01-01T10:00:00", "until": "2026-01-01T13:00:00"}) == 3


def test_aware_datetimes_in_other_zones_are_converted(hourly, tokyo_time):
    tokyo = timezone(timedelta(hours=9))
    since = datetime(2026, 1, 1, 19, tzinfo=tokyo)  # = 10:00 UTC
    assert hourly.count({"since": since, "until": since + timedelta(hours=3)}) == 3
    assert hourly.count({"since": "2026-01-01T19:00:00+09:00", "until": "2026-01-01T13:00:00Z"}) == 3
    assert [e.error_message for e in hourly.query({"since": since}, 0, 1)] == ["h47"]


def test_since_is_inclusive_and_until_exclusive(hourly):
    at = datetime(2026, 1, 2, 0, tzinfo=UTC)  # exactly the row h24
    assert [e.error_message for e in hourly.query({"since": at, "until": at + timedelta(hours=1)})] == ["h24"]
    assert hourly.count({"until": at}) == 24 and hourly.count({"since": at}) == 24


def test_a_naive_time_given_to_record_is_stored_as_utc(journal, tokyo_time):
    entry = journal.get(_record(journal, time=datetime(2026, 3, 1, 12, 0)))
    assert entry.time == "2026-03-01T12:00:00.000000Z"
    other = journal.get(_record(journal, time=datetime(2026, 3, 1, 21, 0, tzinfo=timezone(timedelta(hours=9)))))
    assert other.time == "2026-03-01T12:00:00.000000Z"
    text = journal.get(_record(journal, time="2026-03-01T12:00:00Z"))
    assert text.time == "2026-03-01T12:00:00.000000Z"


def test_an_unparseable_time_bound_is_compared_as_text(hourly):
    assert hourly.count({"since": "2026-01-02"}) == 24  # a date alone is midnight UTC
    assert hourly.count({"since": "  2026-01-02T00:00  "}) == 24  # trimmed, then parsed
    assert hourly.count({"since": "2026-01-02 garbage"}) == 24  # kept as text: still sorts after 2026-01-01...


def test_the_time_of_a_recorded_row_defaults_to_now(journal):
    before = datetime.now(UTC)
    entry = journal.get(_record(journal))
    stamp = datetime.fromisoformat(entry.time.replace("Z", "+00:00"))
    assert before <= stamp <= datetime.now(UTC)
    assert entry.time.endswith("Z") and len(entry.time) == len("2026-03-01T12:00:00.000000Z")


# --- a file that says what it is, and intents of processes that are gone ---------------------------------------


def test_a_new_journal_records_its_schema_version(journal):
    row = journal._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert row[0] == "1" == str(SCHEMA_VERSION)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _owned_by(path, entry_id, owner):
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE exchanges SET owner=? WHERE id=?", (owner, entry_id))
    conn.close()


def test_an_intent_of_a_process_that_is_gone_is_recovered(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        entry_id = first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    _owned_by(path, entry_id, f"{socket.gethostname()}:{_dead_pid()}:abcd1234")
    with Journal(path, recover=True) as second:
        assert [(e.id, e.outcome, e.error_message) for e in second.recovered] == [
            (entry_id, "unknown", UNKNOWN_AFTER_RESTART)]
        assert second.open_intents() == []


@pytest.mark.parametrize("owner", ["other-host:1:abcd1234", None, "garbage", f"{socket.gethostname()}:x:1"])
def test_intents_of_other_hosts_or_unreadable_owners_are_recovered(tmp_path, owner):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        entry_id = first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
        _owned_by(path, entry_id, owner)
    with Journal(path) as second:
        assert [e.id for e in second.open_intents()] == [entry_id]


def test_an_intent_of_this_very_process_from_another_journal_object_is_recovered(tmp_path):
    # Same host and pid but another Journal instance: the one that wrote it is closed, so nobody waits.
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        entry_id = first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    with Journal(path, recover=True) as second:
        assert [e.id for e in second.recovered] == [entry_id]


def test_a_process_we_may_not_signal_is_alive(monkeypatch):
    def refuse(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(journal_module.os, "kill", refuse)
    assert journal_module._pid_alive(4321) is True


def test_only_pending_rows_are_recovered_and_nothing_is_deleted(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        done = first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
        first.complete(done, 200, {}, "{}", 1.0, "success", reward_url="https://r/1")
        pending = first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
        _record(first)
    with Journal(path, recover=True) as second:
        assert [e.id for e in second.recovered] == [pending]
        assert second.get(done).outcome == "success" and second.count() == 3
        assert [e.id for e in second.unresolved()] == [pending]
        assert second.count(JournalFilter()) == 3  # the default filter hides nothing, resolved or not
        second.resolve(pending, "ledger: consumed")
        assert second.count() == 3 and second.unresolved() == []


# --- the file, the connection and its threads ------------------------------------------------------------------


def test_a_journal_in_a_folder_that_does_not_exist_yet(tmp_path):
    with Journal(tmp_path / "new" / "deeper" / "journal.sqlite3") as j:
        assert j.count() == 0 and j.path.is_file()


def test_a_journal_is_used_from_other_threads(journal):
    # Operations writes off the event loop's thread (asyncio.to_thread): the connection must allow it.
    import threading

    errors = []

    def write():
        try:
            _record(journal, error_message="from a worker")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert errors == [] and [e.error_message for e in journal.query()] == ["from a worker"]


def test_a_closed_journal_refuses_to_write(tmp_path):
    with Journal(tmp_path / "j.sqlite3") as j:
        pass
    with pytest.raises(JournalError):
        _record(j)
    k = Journal(tmp_path / "k.sqlite3")
    k.close()
    with pytest.raises(JournalError):
        k.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)


def test_a_write_sqlite_refuses_is_a_journal_error(journal):
    with pytest.raises(JournalError):
        _record(journal, status={"not": "a number"})
    assert journal.count() == 0


def test_search_uses_the_full_text_index_when_sqlite_has_one(journal):
    if sqlite3.sqlite_version_info < (3, 34):
        pytest.skip("the trigram tokenizer needs SQLite 3.34")
    assert journal.fts is True


# --- what a row keeps ------------------------------------------------------------------------------------------


def test_the_summary_names_the_call_its_status_outcome_and_reward_url(journal):
    entry = journal.get(_record(journal, endpoint="GetReward", reward_url="https://r/abc"))
    assert entry.summary == "GetReward DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/US 200 success https://r/abc"
    bare = journal.get(_record(journal, body="not an object", status=None, outcome="not_sent"))
    assert bare.summary == "GetRewardInfo - not_sent"


def test_request_bodies_keep_their_field_order_and_their_text(journal):
    body = {"rewardGroupId": "US", "appId": "DEMO1", "momentId": "NIVEAU_TERMINÉ"}
    entry_id = _record(journal, body=body)
    assert list(journal.get(entry_id).request_body) == ["rewardGroupId", "appId", "momentId"]
    assert "NIVEAU_TERMINÉ" in _raw(journal, entry_id)["request_body"]  # UTF-8, not \\u escapes...
    assert journal.count({"text": "TERMINÉ"}) == 1  # ...so search finds it


def test_a_body_that_is_not_json_is_kept_as_text(journal):
    entry = journal.get(_record(journal, body="appId=DEMO1&momentId=GAME_COMPLETE", response_body=b'{"bytes": 1}'))
    assert entry.request_body == "appId=DEMO1&momentId=GAME_COMPLETE"
    assert entry.response_body == '{"bytes": 1}'  # bytes are decoded, not stored as b'...'


def test_missing_headers_read_as_empty(journal):
    entry_id = _record(journal)
    with sqlite3.connect(journal.path) as conn:
        conn.execute("UPDATE exchanges SET request_headers=NULL, response_headers=NULL, request_body=NULL "
                     "WHERE id=?", (entry_id,))
    conn.close()
    entry = journal.get(entry_id)
    assert (entry.request_headers, entry.response_headers, entry.request_body) == ({}, {}, None)


def test_record_exchange_takes_the_reward_url_given_or_the_exchanges_own(journal):
    class Answered:
        endpoint = "GetReward"
        url = URL
        request_headers = {"x-api-key": KEY}
        request_body = BODY
        started_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        duration_ms = 3.0
        status = 200
        response_headers = {}
        response_body = "{}"
        outcome = "success"
        error_message = None
        reward_url = "https://r/own"

    assert journal.get(journal.record_exchange(Answered())).reward_url == "https://r/own"
    given = journal.get(journal.record_exchange(Answered(), reward_url="https://r/given"))
    assert given.reward_url == "https://r/given"


def test_record_many_of_nothing_records_nothing(journal):
    assert journal.record_many([]) == 0 and journal.count() == 0


# --- reading ---------------------------------------------------------------------------------------------------


def test_two_character_search_finds_rows(hourly):
    _record(hourly, error_message="only US")
    assert hourly.count({"text": "US"}) == 1  # below the trigram index's three characters: LIKE


def test_query_pages_default_to_the_newest_hundred(hourly):
    hourly.record_many([dict(endpoint="GetRewardInfo", outcome="error") for _ in range(100)])
    page = hourly.query()
    assert len(page) == 100 and page == hourly.query(None, 0, 100)
    assert len(hourly.query(None, 100)) == 48


def test_query_clamps_negative_offsets_and_limits(hourly):
    assert hourly.query(None, 0, 0) == [] and hourly.query(None, 0, -5) == []
    assert [e.id for e in hourly.query(None, -5, 3)] == [e.id for e in hourly.query(None, 0, 3)]


def test_the_unresolved_list_shows_at_most_a_thousand(journal):
    journal.record_many([dict(endpoint="GetReward", outcome="unknown", error_message=f"u{i}") for i in range(1001)])
    unresolved = journal.unresolved()
    assert len(unresolved) == 1000 and unresolved[0].error_message == "u1000"


def test_profiles_are_sorted_by_name_then_id_and_a_nameless_one_by_its_id(journal):
    _record(journal, profile_id="p9", profile_name="Same")
    _record(journal, profile_id="p1", profile_name="Zed")
    _record(journal, profile_id="p2", profile_name="alpha")
    _record(journal, profile_id="p8", profile_name="Same")
    _record(journal, profile_id="m0", profile_name=None)
    assert journal.profiles() == [("p2", "alpha"), ("m0", "m0"), ("p8", "Same"), ("p9", "Same"), ("p1", "Zed")]


def test_exports_keep_non_ascii_text_as_it_is(journal, tmp_path):
    _record(journal, headers={"x-note": "café"}, response_headers={"x-where": "Zürich"},
            body={**BODY, "momentId": "NIVEAU_TERMINÉ"})
    journal.export_json(tmp_path / "out.json")
    journal.export_csv(tmp_path / "out.csv")
    for name, encoding in (("out.json", "utf-8"), ("out.csv", "utf-8-sig")):
        text = (tmp_path / name).read_text(encoding=encoding)
        assert "café" in text and "Zürich" in text and "NIVEAU_TERMINÉ" in text, name


# --- more edges: liveness, enums, one-shot iterables, bulk imports ----------------------------------------------


def test_liveness_of_processes():
    assert journal_module._pid_alive(os.getpid()) is True
    assert journal_module._pid_alive(_dead_pid()) is False


def test_an_unexpected_os_error_counts_as_gone(monkeypatch):
    # The safe side: an intent nobody can be shown to wait for is recovered, and the user asked.
    def fail(pid, sig):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(journal_module.os, "kill", fail)
    assert journal_module._pid_alive(4321) is False


def test_three_character_search_folds_case_beyond_ascii(journal):
    if not journal.fts:
        pytest.skip("needs the full-text index")
    _record(journal, error_message="une crème brûlée")
    assert journal.count({"text": "ÈME"}) == 1 and journal.count({"text": "BRÛLÉE"}) == 1


def test_any_enum_may_name_the_endpoint_and_outcome(journal):
    from enum import Enum

    class Call(Enum):
        CLAIM = "GetReward"

    class Result(Enum):
        FAILED = "error"
        WAITING = "pending"

    entry = journal.get(journal.record(endpoint=Call.CLAIM, url=URL, outcome=Result.FAILED))
    assert (entry.endpoint, entry.outcome) == ("GetReward", "error") and entry.summary == "GetReward - error"
    intent = journal.begin_intent("p1", "Demo", Call.CLAIM, URL, {}, BODY)
    with pytest.raises(ValueError):
        journal.complete(intent, None, None, None, None, Result.WAITING)
    assert journal.complete(intent, 500, {}, "", 1.0, Result.FAILED).outcome == "error"


def test_secrets_given_as_a_one_shot_iterable_are_scrubbed_from_every_field(journal):
    entry_id = journal.record(endpoint="GetReward", url=f"{URL}?k={KEY}", headers={"x-trace": KEY},
                              body={"echo": KEY}, response_headers={"x-echo": KEY}, response_body=KEY,
                              outcome="error", error_message=KEY, secrets=(s for s in [KEY]))
    assert not any(KEY in str(v) for v in _raw(journal, entry_id).values())
    intent = journal.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY, secrets=iter([KEY]))
    journal.complete(intent, 403, {"x-echo": KEY}, KEY, 1.0, "error", KEY, secrets=iter([KEY]))
    assert not any(KEY in str(v) for v in _raw(journal, intent).values())


def test_record_many_of_one_row(journal):
    assert journal.record_many([dict(endpoint="GetRewardInfo", outcome="success", error_message="lonely")]) == 1
    assert [e.error_message for e in journal.query({"text": "lonely"})] == ["lonely"]


def _check_search_index(path):
    """FTS5's own integrity check: raises if the index and the table disagree."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO exchanges_fts(exchanges_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def test_a_bulk_import_leaves_a_consistent_search_index(tmp_path):
    # Indexing a bulk import twice (by the insert trigger and by the batch) corrupts the index:
    # FTS5's own integrity check compares it with the table.
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        if not first.fts:
            pytest.skip("needs the full-text index")
        rows = [dict(endpoint="GetReward", outcome="success") for _ in range(1100)]
        rows[500] = dict(endpoint="GetReward", outcome="pending", error_message="before-restart-xyz")
        first.record_many(rows)
        _check_search_index(path)
        assert first.count({"text": "before-restart-xyz"}) == 1
    with Journal(path, recover=True) as second:
        [recovered] = second.recovered
        assert second.count({"text": "before-restart-xyz"}) == 0  # the recovered row's old text is gone
        assert [e.id for e in second.query({"text": "A reward may have been consumed"})] == [recovered.id]
        _check_search_index(path)


def test_a_negative_page_size_returns_no_rows_and_a_negative_offset_starts_at_the_newest(journal):
    # SQLite reads LIMIT -1 as "no limit": a bad page size from a caller must not load the whole journal.
    ids = [_record(journal, response_body=f'{{"n": {n}}}') for n in range(3)]
    assert journal.query(limit=-1) == []
    assert [e.id for e in journal.query(offset=-5, limit=1)] == [ids[-1]]


def test_search_works_without_full_text_search(tmp_path, monkeypatch):
    # Some SQLite builds have no FTS5 (or no trigram tokenizer): the journal falls back to LIKE.
    monkeypatch.setattr(journal_module, "_FTS_SCHEMA", "CREATE VIRTUAL TABLE nothing USING no_such_module(x);")
    with Journal(tmp_path / "journal.sqlite3") as plain:
        assert plain.fts is False
        wanted = _record(plain, response_body='{"rewardAnnouncementText": "A grape-flavoured prize"}')
        _record(plain, response_body='{"rewardAnnouncementText": "Something else"}')
        assert [e.id for e in plain.query(JournalFilter(text="grape-flavoured"))] == [wanted]
        assert plain.count(JournalFilter(text="grape-flavoured")) == 1


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_an_export_closes_the_connection_it_read_through(journal, tmp_path):
    # An export reads through a connection of its own; left open, it would hold the file (on Windows, lock it).
    _record(journal)

    def journal_handles() -> int:
        names = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                names.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
        return sum(1 for name in names if name.startswith(str(journal.path)))

    journal.export_csv(tmp_path / "warm-up.csv")  # SQLite may keep one closed handle for reuse (POSIX locks)
    before = journal_handles()
    for n in range(3):
        journal.export_csv(tmp_path / f"history-{n}.csv")
        journal.export_json(tmp_path / f"history-{n}.json")
    assert journal_handles() == before

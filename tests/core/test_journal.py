import csv
import json
import socket
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from moments_desktop.core.exchange import REDACTED, redact_headers
from moments_desktop.core.journal import Journal, JournalError, JournalFilter

KEY = "sk-live-SECRET-abcdef123456"
BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android",
        "campaignId": "DEMOCAMP1", "rewardGroupId": "US"}
URL = "http://127.0.0.1:9/GetReward"


def _preview(journal, **kw):
    args = dict(endpoint="GetRewardInfo", url="http://127.0.0.1:9/GetRewardInfo",
                headers={"x-api-key": KEY, "Accept": "application/json"}, body=BODY, status=200,
                response_headers={"content-type": "application/json"},
                response_body='{"rewardTitle": "Free coffee"}', duration_ms=12.5, outcome="success",
                profile_id="p1", profile_name="Demo")
    args.update(kw)
    return journal.record(**args)


def test_record_and_get_redacts_key(journal):
    entry = journal.get(_preview(journal))
    assert entry.request_headers["x-api-key"] == REDACTED
    assert entry.request_headers["Accept"] == "application/json"
    assert entry.request_body == BODY
    assert entry.outcome == "success"
    assert entry.time.endswith("Z")


def test_already_masked_header_is_kept():
    assert redact_headers({"X-Api-Key": "••••3456"})["X-Api-Key"] == REDACTED  # not even the last digits
    assert redact_headers({"X-Api-Key": "abc"})["X-Api-Key"] == REDACTED
    assert redact_headers({"Authorization": "Bearer x"})["Authorization"] == REDACTED


def test_secrets_are_scrubbed_everywhere(journal):
    entry_id = _preview(journal, response_body=f'{{"echo": "{KEY}"}}', error_message=f"bad {KEY}",
                        secrets=[KEY])
    raw = sqlite3.connect(journal.path).execute("SELECT * FROM exchanges WHERE id=?", (entry_id,)).fetchone()
    assert not any(KEY in str(v) for v in raw)


def test_intent_is_committed_before_send_and_visible_to_another_connection(journal):
    entry_id = journal.begin_intent("p1", "Demo", "GetReward", URL, {"x-api-key": KEY}, BODY)
    # A separate connection (as a crashed process's successor would) sees the pending row.
    row = sqlite3.connect(journal.path).execute("SELECT outcome, request_headers FROM exchanges WHERE id=?",
                                                (entry_id,)).fetchone()
    assert row[0] == "pending"
    assert KEY not in row[1]
    # This instance's own in-flight intent is not an orphan.
    assert journal.open_intents() == []
    done = journal.complete(entry_id, 200, {}, '{"rewardUrl": "https://r/1"}', 40.0, "success",
                            reward_url="https://r/1")
    assert done.outcome == "success" and done.reward_url == "https://r/1"
    fresh = sqlite3.connect(journal.path).execute("SELECT reward_url FROM exchanges WHERE id=?",
                                                  (entry_id,)).fetchone()
    assert fresh[0] == "https://r/1"
    with pytest.raises(JournalError):
        journal.complete(entry_id, 200, {}, "", 1.0, "success")


def test_synchronous_full_and_wal(journal):
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_recover_marks_pending_unknown_in_fresh_instance(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite3"
    first = Journal(path)
    entry_id = first.begin_intent("p1", "Demo", "GetReward", URL, {"x-api-key": KEY}, BODY)
    first.close()  # "crash": the answer never came
    # The previous owner is this very test process, so pretend it is gone.
    monkeypatch.setattr("moments_desktop.core.journal._pid_alive", lambda pid: False)
    second = Journal(path)
    assert [e.id for e in second.open_intents()] == [entry_id]
    recovered = second.recover()
    assert [(e.id, e.outcome) for e in recovered] == [(entry_id, "unknown")]
    assert "may have been consumed" in recovered[0].error_message
    assert second.open_intents() == []
    assert second.count() == 1  # never deleted
    assert [e.id for e in second.unresolved()] == [entry_id]
    resolved = second.resolve(entry_id, "Ledger shows one reward consumed")
    assert resolved.resolved_note == "Ledger shows one reward consumed" and resolved.outcome == "unknown"
    assert second.unresolved() == []
    second.close()
    third = Journal(path, recover=True)
    assert third.recovered == []
    third.close()


def test_recover_on_open(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    monkeypatch.setattr("moments_desktop.core.journal._pid_alive", lambda pid: False)
    with Journal(path, recover=True) as second:
        assert [e.outcome for e in second.recovered] == ["unknown"]


def test_intent_of_a_live_other_instance_is_left_alone(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        entry_id = first.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    # Owned by another process on this host that is still running (pid 1 always is).
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE exchanges SET owner=? WHERE id=?", (f"{socket.gethostname()}:1:abcd", entry_id))
    with Journal(path) as second:
        assert second.open_intents() == []
        assert second.recover() == []
        assert second.get(entry_id).outcome == "pending"


def test_late_answer_completes_an_unknown_row(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    entry_id = j.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    monkeypatch.setattr("moments_desktop.core.journal._pid_alive", lambda pid: False)
    with Journal(path) as other:
        other.recover()
    assert j.complete(entry_id, 200, {}, "{}", 5.0, "success", reward_url="https://r/2").outcome == "success"
    j.close()


def test_invalid_outcome_rejected(journal):
    with pytest.raises(ValueError):
        _preview(journal, outcome="great")


@pytest.fixture
def filled(journal):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(250):
        rows.append(dict(
            endpoint="GetReward" if i % 5 == 0 else "GetRewardInfo",
            url=f"http://127.0.0.1:9/{'GetReward' if i % 5 == 0 else 'GetRewardInfo'}",
            headers={"x-api-key": KEY}, body={**BODY, "campaignId": f"CAMP{i:03d}"},
            status=200 if i % 3 else 404, response_body=f'{{"n": {i}}}', duration_ms=float(i),
            outcome="success" if i % 3 else "no_reward", profile_id="p1" if i % 2 else "p2",
            profile_name="One" if i % 2 else "Two", time=base + timedelta(hours=i),
            reward_url=f"https://reward.example/{i}" if i % 5 == 0 and i % 3 else None))
    journal.record_many(rows)
    return journal


def test_filters_count_and_paging(filled):
    assert filled.count() == 250
    assert filled.count({"profile_id": "p1"}) == 125
    assert filled.count(JournalFilter(endpoint="GetReward")) == 50
    assert filled.count({"outcome": "no_reward"}) == 84
    assert filled.count({"outcome": ["no_reward", "success"]}) == 250
    since = datetime(2026, 1, 2, tzinfo=UTC)
    assert filled.count({"since": since, "until": since + timedelta(hours=10)}) == 10
    assert filled.count({"since": "2026-01-02T00:00:00+00:00"}) == 250 - 24
    page1 = filled.query(None, 0, 100)
    page3 = filled.query(None, 200, 100)
    assert len(page1) == 100 and len(page3) == 50
    assert page1[0].id > page1[-1].id  # newest first
    assert {e.id for e in page1}.isdisjoint({e.id for e in page3})


def test_text_search(filled):
    assert filled.count({"text": "CAMP007"}) == 1
    assert filled.count({"text": "camp007"}) == 1  # case-insensitive
    assert filled.count({"text": "reward.example/25"}) == 1
    assert filled.count({"text": "CAMP0"}) == 100
    assert filled.count({"text": "n\": 24}"}) == 1  # response body
    assert filled.count({"text": "1%"}) == 0  # LIKE wildcards are literal
    assert filled.count({"text": "ab"}) == 0  # short: LIKE path
    assert filled.count({"text": "One", "endpoint": "GetReward"}) == 25
    assert [e.profile_name for e in filled.query({"text": "CAMP012"})] == ["Two"]


def test_text_search_like_fallback(filled):
    filled.fts = False
    assert filled.count({"text": "CAMP007"}) == 1
    assert filled.count({"text": "CAMP0"}) == 100


def test_search_sees_completed_answers(journal):
    entry_id = journal.begin_intent("p1", "Demo", "GetReward", URL, {}, BODY)
    assert journal.count({"text": "unique-reward-xyz"}) == 0
    journal.complete(entry_id, 200, {}, "{}", 3.0, "success", reward_url="https://r/unique-reward-xyz")
    assert journal.count({"text": "unique-reward-xyz"}) == 1


def test_exports_stream_filtered_rows_without_key(filled, tmp_path):
    out_csv = tmp_path / "out.csv"
    out_json = tmp_path / "out.json"
    assert filled.export_csv(out_csv, {"profile_id": "p2"}) == 125
    assert filled.export_json(out_json, {"endpoint": "GetReward"}) == 50
    for path in (out_csv, out_json):
        assert KEY not in path.read_text(encoding="utf-8-sig")
    with out_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 125 and {r["profile_id"] for r in rows} == {"p2"}
    assert json.loads(rows[0]["request_headers"])["x-api-key"] == REDACTED
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert len(data) == 50 and all(d["endpoint"] == "GetReward" for d in data)
    assert "owner" not in data[0]
    assert filled.export_json(tmp_path / "empty.json", {"profile_id": "nobody"}) == 0
    assert json.loads((tmp_path / "empty.json").read_text()) == []


def test_csv_export_neutralises_formulas(journal, tmp_path):
    _preview(journal, response_body='=HYPERLINK("http://evil")')
    journal.export_csv(tmp_path / "x.csv")
    with (tmp_path / "x.csv").open(encoding="utf-8-sig", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["response_body"].startswith("'=")


def test_record_exchange_duck_typed(journal):
    class FakeExchange:
        endpoint = "GetRewardInfo"
        url = "http://127.0.0.1:9/GetRewardInfo"
        request_headers = {"x-api-key": KEY}
        request_body = BODY
        started_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        duration_ms = 3.0
        status = 403
        response_headers = {}
        response_body = '{"message": "Forbidden"}'
        outcome = "error"
        error_message = "The API key was refused"

    entry = journal.get(journal.record_exchange(FakeExchange(), profile_id="p1", profile_name="Demo"))
    assert entry.time.startswith("2026-03-01T12:00:00")
    assert entry.status == 403 and entry.request_headers["x-api-key"] == REDACTED


def test_record_real_exchange_and_enum_outcomes(journal):
    from moments_desktop.core.exchange import Exchange, Outcome
    from moments_desktop.core.request import Endpoint

    exchange = Exchange(endpoint=Endpoint.GET_REWARD_INFO, url="http://127.0.0.1:9/GetRewardInfo",
                        request_headers={"x-api-key": KEY}, request_body=BODY, duration_ms=4.0, status=200,
                        response_body="[]", outcome=Outcome.NO_REWARD)
    entry = journal.get(journal.record_exchange(exchange, profile_id="p1", profile_name="Demo", secrets=[KEY]))
    assert (entry.endpoint, entry.outcome) == ("GetRewardInfo", "no_reward")
    assert KEY not in json.dumps(entry.to_dict())
    intent = journal.begin_intent("p1", "Demo", Endpoint.GET_REWARD, URL, {"x-api-key": KEY}, BODY)
    done = journal.complete(intent, None, None, None, None, Outcome.UNKNOWN, "cancelled after send")
    assert done.outcome == "unknown" and done.endpoint == "GetReward"


def _bulk(n, **extra):
    return [dict(endpoint="GetRewardInfo", url="http://127.0.0.1:9/GetRewardInfo", outcome="success",
                 body={**BODY, "campaignId": f"BULK{i:05d}"}, headers={"x-api-key": KEY}, secrets=[KEY], **extra)
            for i in range(n)]


def test_bulk_record_many_indexes_for_search_and_keeps_the_trigger(journal):
    _preview(journal)
    assert journal.record_many(_bulk(1500)) == 1500  # over the bulk threshold: indexed in one statement
    assert journal.count() == 1501
    assert journal.count({"text": "BULK01234"}) == 1
    assert journal.count({"text": "BULK010"}) == 100
    assert journal.count({"text": "Free coffee"}) == 1  # rows from before the batch are still found
    triggers = {r[0] for r in journal._conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert triggers == {"exchanges_ai", "exchanges_ad", "exchanges_au"}
    later = _preview(journal, response_body='{"rewardTitle": "after-the-bulk"}')  # the trigger works again
    assert [e.id for e in journal.query({"text": "after-the-bulk"})] == [later]
    raw = sqlite3.connect(journal.path).execute("SELECT group_concat(request_headers) FROM exchanges").fetchone()[0]
    assert KEY not in raw


def test_failed_bulk_record_many_leaves_nothing_behind(journal):
    rows = _bulk(1200)
    rows[700]["status"] = {"not": "a number"}  # SQLite cannot bind this: the batch fails half-way
    with pytest.raises(JournalError):
        journal.record_many(rows)
    assert journal.count() == 0
    triggers = {r[0] for r in journal._conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert "exchanges_ai" in triggers
    entry_id = _preview(journal, response_body='{"rewardTitle": "still-indexed"}')
    assert [e.id for e in journal.query({"text": "still-indexed"})] == [entry_id]


def test_profiles_lists_each_profile_once_with_its_latest_name(journal):
    _preview(journal, profile_id="p1", profile_name="Old name")
    _preview(journal, profile_id="p2", profile_name="beta")
    _preview(journal, profile_id="p1", profile_name="Alpha")
    _preview(journal, profile_id=None, profile_name=None)
    assert journal.profiles() == [("p1", "Alpha"), ("p2", "beta")]

"""``moments history`` and ``moments history resolve``: the journal the window's History shows, for scripts.

Rows are written with the real Journal into the fresh home's journal (as the window would have written them),
then read by the CLI as a subprocess; one row comes from a real getRewardInfo against the sandbox
(``moments key test``). No output holds the API key, which was in the request's headers.
"""

from __future__ import annotations

import json

import pytest
from golden_helpers import assert_golden
from records_helpers import SECRET_MARK, cli_env, import_profiles, journal_path, moments, profile_entry

from moments_desktop.core.journal import Journal

DEMO_BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
             "rewardGroupId": "amz1yprime"}
LIVE_BODY = {**DEMO_BODY, "appId": "SHOP7", "campaignId": "SPRING24"}
KEY = f"sk-live-{SECRET_MARK}"


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    import_profiles(home, tmp_path, profile_entry("QA live", "https://moments.example.test/prod", LIVE_BODY,
                                                  live=True, profile_id="qa-live"))
    with Journal(journal_path(home)) as journal:
        journal.record(endpoint="GetRewardInfo", url="https://sandbox.test/GetRewardInfo",
                       headers={"x-api-key": KEY, "content-type": "application/json"}, body=DEMO_BODY, status=200,
                       response_body=json.dumps({"rewardNotificationText": "You earned a reward!"}),
                       duration_ms=12.5, outcome="success", profile_id="sandbox-demo", profile_name="Sandbox demo",
                       time="2026-03-01T10:00:00.000000Z", secrets=(KEY,))
        journal.record(endpoint="GetReward", url="https://moments.example.test/prod/GetReward",
                       headers={"x-api-key": KEY}, body=LIVE_BODY, status=None, duration_ms=30000.0,
                       outcome="unknown", error_message="No answer came back within 30 s: a reward may have been "
                                                        "consumed.", profile_id="qa-live", profile_name="QA live",
                       time="2026-03-02T09:00:00.000000Z", secrets=(KEY,))
        journal.record(endpoint="GetReward", url="https://moments.example.test/prod/GetReward",
                       headers={"x-api-key": KEY}, body=LIVE_BODY, status=200,
                       response_body=json.dumps({"rewardNotificationUrl": "https://rewards.example.test/r/abc"}),
                       duration_ms=210.0, outcome="success", reward_url="https://rewards.example.test/r/abc",
                       profile_id="qa-live", profile_name="QA live", time="2026-03-03T11:30:00.000000Z",
                       secrets=(KEY,))
        journal.record(endpoint="GetRewardInfo", url="https://moments.example.test/prod/GetRewardInfo",
                       headers={}, body=LIVE_BODY, status=None, outcome="not_sent",
                       error_message="No API key is stored for this profile.", profile_id="qa-live",
                       profile_name="QA live", time="2026-03-04T08:15:00.000000Z")
    return home


def run(home, *args, **kwargs):
    ran = moments(home, *args, env=cli_env(home, TZ="UTC"), **kwargs)
    assert SECRET_MARK not in ran.output
    return ran


def test_history_json_is_the_golden_document(home):
    ran = run(home, "history", "--json")
    assert ran.code == 0, ran.stderr
    document = ran.json()
    assert [e["id"] for e in document["entries"]] == [4, 3, 2, 1]  # newest first
    assert_golden("history.json", document)


def test_history_text_is_one_line_per_row_with_a_header(home):
    ran = run(home, "history")
    assert ran.code == 0 and ran.stderr == ""
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "PROFILE", "ENDPOINT", "OUTCOME", "STATUS", "SUMMARY"]
    assert len(lines) == 5
    assert lines[1].startswith("4 ") and "2026-03-04 08:15:00" in lines[1] and "not_sent" in lines[1]
    assert "unknown (unresolved)" in lines[3] and "QA live" in lines[3] and "getReward " in lines[3]
    assert "https://rewards.example.test/r/abc" in lines[2] and " 200 " in lines[2]
    assert "DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/amz1yprime" in lines[4]
    # the columns line up under the header: each row's outcome and summary start where their titles do
    outcome_at, summary_at = lines[0].index("OUTCOME"), lines[0].index("SUMMARY")
    assert [line[outcome_at:].split("  ")[0] for line in lines[1:]] == [
        "not_sent", "success", "unknown (unresolved)", "success"]
    assert all(line[summary_at - 2:summary_at] == "  " and line[summary_at] != " " for line in lines[1:])


@pytest.mark.parametrize(("args", "ids"), [
    (["--profile", "QA live"], [4, 3, 2]),
    (["--profile", "qa live"], [4, 3, 2]),  # as find_profile: case ignored when only one matches
    (["--profile", "Sandbox demo"], [1]),
    (["--endpoint", "reward"], [3, 2]),
    (["--endpoint", "info"], [4, 1]),
    (["--outcome", "success"], [3, 1]),
    (["--outcome", "unknown"], [2]),
    (["--unresolved"], [2]),
    (["--since", "2026-03-03"], [4, 3]),
    (["--since", "2026-03-03T11:30:00Z"], [4, 3]),
    (["--since", "2026-03-03T12:30:00+01:00"], [4, 3]),
    (["--since", "2026-03-03T11:30:01"], [4]),  # no offset: the computer's time zone (UTC here)
    (["--limit", "2"], [4, 3]),
    (["--endpoint", "reward", "--outcome", "success", "--profile", "QA live"], [3]),
])
def test_history_filters(home, args, ids):
    ran = run(home, "history", "--json", *args)
    assert ran.code == 0, ran.stderr
    assert [e["id"] for e in ran.json()["entries"]] == ids


@pytest.mark.parametrize(("args", "words"), [
    (["--since", "yesterday"], "--since 'yesterday' is not a date"),
    (["--since", "2026-02-30"], "--since '2026-02-30' is not a date"),
    (["--outcome", "won"], "--outcome 'won' is not an outcome: use one of success, no_reward, error, unknown"),
    (["--limit", "0"], "--limit must be 1 or more"),
    (["--limit", "many"], "invalid int value"),
    (["--endpoint", "claim"], "invalid choice"),
    (["--profile", "Nobody"], "no profile named 'Nobody' (profiles: "),
    (["--unresolved", "--outcome", "success"], "--unresolved lists unknown outcomes only"),
])
def test_history_refuses_bad_arguments_with_one_line(home, args, words):
    ran = run(home, "history", *args)
    assert ran.code == 2 and ran.stdout == ""
    assert ran.stderr.count("\n") == 1 and ran.stderr.startswith("moments: ") and words in ran.stderr, ran.stderr


def test_history_of_an_empty_journal_prints_nothing(tmp_path):
    ran = moments(tmp_path, "history")
    assert (ran.code, ran.stdout, ran.stderr) == (0, "", "")
    assert moments(tmp_path, "history", "--json").json() == {"schema": 1, "command": "history", "entries": []}
    assert moments(tmp_path, "history", "--sandbox").code == 0  # accepted like info's and claim's --sandbox


def test_resolve_an_unknown_outcome_then_it_is_no_longer_unresolved(home):
    ran = run(home, "history", "resolve", "2", "--note", "  The ledger shows one reward consumed.  ")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == "Entry 2 is marked resolved: The ledger shows one reward consumed.\n"
    assert run(home, "history", "--json", "--unresolved").json()["entries"] == []
    entry = run(home, "history", "--json", "--outcome", "unknown").json()["entries"][0]
    assert (entry["resolved_note"], entry["unresolved"]) == ("The ledger shows one reward consumed.", False)
    assert entry["resolved_at"]
    line = run(home, "history", "--outcome", "unknown").stdout.splitlines()[1]
    assert "unknown (resolved)" in line and "resolved: The ledger shows one reward consumed." in line
    # the window reads the same file: the note is in its journal
    with Journal(journal_path(home)) as journal:
        assert journal.get(2).resolved_note == "The ledger shows one reward consumed."


def test_resolve_json(home):
    ran = run(home, "history", "resolve", "2", "--note", "checked", "--json")
    assert ran.code == 0, ran.stderr
    document = ran.json()
    assert (document["schema"], document["command"]) == (1, "history resolve")
    assert (document["entry"]["id"], document["entry"]["resolved_note"]) == (2, "checked")


@pytest.mark.parametrize(("entry_id", "words"), [
    ("99", "There is no such history entry: entry 99 is not in the history."),
    ("3", "cannot be marked resolved: entry 3's outcome is success, not unknown"),
    ("1", "cannot be marked resolved: entry 1's outcome is success, not unknown"),
])
def test_resolve_refuses_a_row_that_takes_no_note(home, entry_id, words):
    ran = run(home, "history", "resolve", entry_id, "--note", "x")
    assert ran.code == 2 and ran.stdout == "" and words in ran.stderr, ran.stderr


def test_resolve_keeps_the_first_note(home):
    assert run(home, "history", "resolve", "2", "--note", "first").code == 0
    ran = run(home, "history", "resolve", "2", "--note", "second")
    assert ran.code == 2 and "already resolved (first)" in ran.stderr and "The first note is kept" in ran.stderr
    with Journal(journal_path(home)) as journal:
        assert journal.get(2).resolved_note == "first"


def test_resolve_refuses_an_empty_note(home):
    ran = run(home, "history", "resolve", "2", "--note", "   ")
    assert ran.code == 2 and "--note is empty" in ran.stderr
    with Journal(journal_path(home)) as journal:
        assert journal.get(2).resolved_note is None


def test_no_history_output_holds_the_key_that_was_in_the_headers(home):
    """The journal stored the key redacted; the document has no headers at all, and the raw bytes neither."""
    for args in (["history"], ["history", "--json"], ["history", "--json", "--limit", "1"]):
        ran = run(home, *args)
        assert ran.code == 0 and KEY not in ran.output and "sk-live" not in ran.output
    assert KEY.encode() not in journal_path(home).read_bytes()

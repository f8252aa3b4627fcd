"""Sweep baselines: the file round trip, every kind of change, what is gone, and bad files that each say
what is wrong with which file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sweep_report_builders import IMAGE_A, IMAGE_B, card_of, four_statuses, plan_of, result_of

from moments_desktop.core.sweep import SweepStatus
from moments_desktop.core.sweep_baseline import (
    BASELINE_SCHEMA,
    Baseline,
    BaselineError,
    Change,
    ChangeKind,
    baseline_of,
    compare,
    read_baseline,
    write_baseline,
)


def saved(tmp_path: Path, result) -> Baseline:
    path = tmp_path / "baseline.json"
    write_baseline(path, baseline_of(result))
    return read_baseline(path)


def test_round_trip_keeps_every_entry(tmp_path):
    result = four_statuses()
    made = baseline_of(result)
    path = tmp_path / "sub" / "baseline.json"
    write_baseline(path, made)
    back = read_baseline(path)
    assert back == made
    assert len(back.entries) == 4
    assert set(back.entries) == {card.combination.key for card in result.cards}
    reward = back.entries[result.cards[0].combination.key]
    assert (reward.status, reward.notification_text, reward.image_url, reward.remaining_count) == (
        SweepStatus.REWARD, "You won headphones!", IMAGE_A, 10)
    assert reward.fields == result.cards[0].combination.fields()
    assert back.profile_name == "Spring QA" and back.base_url == "https://api.moments-staging.test/prod"
    assert back.saved_at.endswith("Z") and back.swept_at == "2026-03-04T10:00:00Z"
    assert back.complete is True
    assert [p.name for p in path.parent.iterdir()] == ["baseline.json"]  # no temp file left


def test_the_file_is_the_documented_json_and_holds_no_key(tmp_path):
    path = tmp_path / "b.json"
    write_baseline(path, baseline_of(four_statuses(plan_of(base_url="https://user:s3cretpass@api.test/prod"))))
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema"] == BASELINE_SCHEMA == 1
    assert document["profile"] == "Spring QA"
    assert "s3cretpass" not in path.read_text(encoding="utf-8")  # credentials in an endpoint never reach a file
    assert len(document["combinations"]) == 4
    entry = document["combinations"][0]
    assert set(entry) == {"fields", "status", "announcement", "image_url", "remaining_count"}
    assert "key" not in entry and not any("key" in name.lower() for name in document)


def test_unicode_texts_survive(tmp_path):
    plan = plan_of()
    texts = ["مبروك! ربحت سماعات", "恭喜！你赢了耳机 🎧", 'quote " back\\slash\n<b>&amp;', "\u202eRTL override"]
    cards = [card_of(plan, i, text=t) for i, t in enumerate(texts)]
    back = saved(tmp_path, result_of(plan, cards))
    assert [e.notification_text for e in back.entries.values()] == texts


def test_a_cancelled_sweep_saves_what_came_back_and_says_so(tmp_path):
    plan = plan_of()
    back = saved(tmp_path, result_of(plan, [card_of(plan, 0)], cancelled=True))
    assert len(back.entries) == 1 and back.complete is False


# --- compare ---------------------------------------------------------------------------------------

def test_the_same_sweep_has_no_change():
    result = four_statuses()
    diff = compare(result, baseline_of(result))
    assert diff.changes == {} and diff.gone == () and diff.changed_count == 0


@pytest.mark.parametrize("now, kind, before, after", [
    (dict(text="You won a voucher!"), ChangeKind.TEXT, "You won headphones!", "You won a voucher!"),
    (dict(image=IMAGE_B), ChangeKind.IMAGE, IMAGE_A, IMAGE_B),
    (dict(count=7), ChangeKind.COUNT, 10, 7),
    (dict(count=None), ChangeKind.COUNT, 10, None),
    (dict(text=None), ChangeKind.TEXT, "You won headphones!", None),
])
def test_each_field_change_of_a_reward(now, kind, before, after):
    plan = plan_of()
    yesterday = result_of(plan, [card_of(plan, 0), card_of(plan, 1)])
    today = result_of(plan, [card_of(plan, 0, **now), card_of(plan, 1)])
    diff = compare(today, baseline_of(yesterday))
    assert diff.changes == {today.cards[0].combination.key: (Change(kind, before, after),)}
    assert diff.of(today.cards[0]) == (Change(kind, before, after),)
    assert diff.of(today.cards[1]) == ()


def test_several_changes_of_one_combination_in_a_fixed_order():
    plan = plan_of()
    yesterday = result_of(plan, [card_of(plan, 0)])
    today = result_of(plan, [card_of(plan, 0, text="New", image=IMAGE_B, count=3)])
    assert [c.kind for c in compare(today, baseline_of(yesterday)).of(today.cards[0])] == [
        ChangeKind.TEXT, ChangeKind.IMAGE, ChangeKind.COUNT]


def test_a_status_change_is_the_change_not_every_field_it_empties():
    plan = plan_of()
    yesterday = result_of(plan, [card_of(plan, 0)])
    today = result_of(plan, [card_of(plan, 0, SweepStatus.NO_REWARD)])
    assert compare(today, baseline_of(yesterday)).of(today.cards[0]) == (
        Change(ChangeKind.STATUS, "reward", "no_reward"),)


def test_count_delta():
    assert Change(ChangeKind.COUNT, 10, 7).delta == -3
    assert Change(ChangeKind.COUNT, 0, 5).delta == 5
    assert Change(ChangeKind.COUNT, None, 5).delta is None
    assert Change(ChangeKind.COUNT, 5, None).delta is None
    assert Change(ChangeKind.TEXT, "a", "b").delta is None


def test_new_and_gone_when_the_plan_changed():
    yesterday_plan = plan_of({"rewardGroupId": ("GROUPONE11", "GROUPOLD00")})
    yesterday = result_of(yesterday_plan, [card_of(yesterday_plan, i) for i in range(4)])
    today_plan = plan_of({"rewardGroupId": ("GROUPONE11", "GROUPTWO22")})
    today = result_of(today_plan, [card_of(today_plan, i) for i in range(4)])
    diff = compare(today, baseline_of(yesterday))
    new = {key for key, changes in diff.changes.items() if changes == (Change(ChangeKind.NEW, None, "reward"),)}
    assert new == {c.combination.key for c in today.cards if c.combination.fields()["rewardGroupId"] == "GROUPTWO22"}
    assert len(diff.changes) == 2
    assert sorted(e.fields["deviceType"] for e in diff.gone) == ["Android", "iOS"]
    assert {e.fields["rewardGroupId"] for e in diff.gone} == {"GROUPOLD00"}


def test_a_cancelled_sweeps_unreached_combinations_are_neither_changed_nor_gone():
    plan = plan_of()
    yesterday = result_of(plan, [card_of(plan, i) for i in range(4)])
    today = result_of(plan, [card_of(plan, 0), card_of(plan, 1, count=4)], cancelled=True)
    diff = compare(today, baseline_of(yesterday))
    assert diff.gone == ()  # combinations 2 and 3 are still in the plan: not gone, just not reached
    assert diff.changes == {today.cards[1].combination.key: (Change(ChangeKind.COUNT, 10, 4),)}


def test_a_combination_a_partial_baseline_never_reached_is_not_new(tmp_path):
    plan = plan_of()
    partial = saved(tmp_path, result_of(plan, [card_of(plan, 0), card_of(plan, 1)], cancelled=True))
    assert partial.complete is False
    today = result_of(plan, [card_of(plan, 0), card_of(plan, 1, count=4), card_of(plan, 2), card_of(plan, 3)])
    diff = compare(today, partial)
    # 2 and 3 are missing from the baseline because its sweep was stopped before them: not known, not new.
    assert diff.changes == {today.cards[1].combination.key: (Change(ChangeKind.COUNT, 10, 4),)}
    assert diff.gone == ()
    # From a complete baseline the same combinations missing are new.
    complete = compare(today, baseline_of(result_of(plan, [card_of(plan, 0), card_of(plan, 1)])))
    assert {changes for key, changes in complete.changes.items() if key != today.cards[1].combination.key} \
        == {(Change(ChangeKind.NEW, None, "reward"),)}
    assert len(complete.changes) == 3


def test_a_field_value_that_json_would_escape_still_matches(tmp_path):
    plan = plan_of({"appId": ('APP"QUOTE\\', "APP\u00e9\u0301"), "deviceType": ("Android",),
                    "rewardGroupId": ("G1",)})
    result = result_of(plan, [card_of(plan, 0), card_of(plan, 1)])
    assert compare(result, saved(tmp_path, result)).changes == {}


# --- bad files -------------------------------------------------------------------------------------

def good_document(tmp_path) -> dict:
    path = tmp_path / "good.json"
    write_baseline(path, baseline_of(four_statuses()))
    return json.loads(path.read_text(encoding="utf-8"))


def with_entry(document: dict, **changes) -> dict:
    entry = {**document["combinations"][0], **changes}
    return {**document, "combinations": [entry, *document["combinations"][1:]]}


BAD_DOCUMENTS = {
    "not an object": (lambda d: [1, 2], "is JSON but not a sweep baseline"),
    "no schema": (lambda d: {k: v for k, v in d.items() if k != "schema"}, "is JSON but not a sweep baseline"),
    "other schema": (lambda d: {**d, "schema": 2}, "has schema 2, and this version of the app reads schema 1"),
    "schema true": (lambda d: {**d, "schema": True}, "has schema true"),
    "no profile": (lambda d: {k: v for k, v in d.items() if k != "profile"}, '"profile" is missing or not text'),
    "no combinations": (lambda d: {**d, "combinations": {}}, '"combinations" is missing or not a list'),
    "entry not an object": (lambda d: {**d, "combinations": ["x"]}, "combination 1 is not an object"),
    "entry without fields": (lambda d: with_entry(d, fields=None), 'combination 1 has no "fields"'),
    "a field missing": (lambda d: with_entry(d, fields={**d["combinations"][0]["fields"], "momentId": 3}),
                        "combination 1: the field momentId is missing or not text"),
    "unknown status": (lambda d: with_entry(d, status="great"), 'the status "great" is not one of reward'),
    "count not a number": (lambda d: with_entry(d, remaining_count="10"), '"remaining_count" is not a whole number'),
    "count a boolean": (lambda d: with_entry(d, remaining_count=True), '"remaining_count" is not a whole number'),
    "text not text": (lambda d: with_entry(d, announcement=["x"]), '"announcement" is not text'),
    "repeated": (lambda d: {**d, "combinations": d["combinations"][:1] * 2},
                 "combination 2 repeats an earlier one (APPALPHA91/LEVEL_FINISHED/Android"),
}


@pytest.mark.parametrize("name", list(BAD_DOCUMENTS))
def test_a_malformed_document_names_the_file_and_the_problem(tmp_path, name):
    change, words = BAD_DOCUMENTS[name]
    path = tmp_path / "bad baseline.json"
    path.write_text(json.dumps(change(good_document(tmp_path))), encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        read_baseline(path)
    message = caught.value.message
    assert str(path) in message and words in message, message
    assert message.startswith("The baseline could not be used: ")


@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"{not json", "is not JSON (line 1, column 2:"),
    (b"\xff\xfe\x00garbage", "is not a text file (not UTF-8)"),
    (b"[" * 100_000, "is not a sweep baseline"),  # nested too deeply, or not JSON: never a RecursionError
])
def test_a_file_that_is_not_json_names_the_file(tmp_path, content, words):
    path = tmp_path / "b.json"
    path.write_bytes(content)
    with pytest.raises(BaselineError) as caught:
        read_baseline(path)
    assert str(path) in caught.value.message and words in caught.value.message, caught.value.message


def test_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(BaselineError, match=r"there is no file .*nowhere\.json"):
        read_baseline(tmp_path / "nowhere.json")
    with pytest.raises(BaselineError, match="is a folder, not a baseline file"):
        read_baseline(tmp_path)


def test_a_file_that_cannot_be_opened_says_why(tmp_path):
    # A path through a file (not a folder): open() fails with an OSError that is neither "missing" nor
    # "a folder" - as an unreadable network share would - even for root, whom no permission stops.
    (tmp_path / "file").write_text("x", encoding="utf-8")
    path = tmp_path / "file" / "b.json"
    with pytest.raises(BaselineError, match=r"b\.json cannot be read \(Not a directory\)"):
        read_baseline(path)


def test_a_baseline_written_with_a_bom_is_read(tmp_path):
    path = tmp_path / "b.json"
    write_baseline(path, baseline_of(four_statuses()))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a text editor on Windows saved it
    assert len(read_baseline(path).entries) == 4


def test_writing_into_a_file_where_a_folder_should_be(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        write_baseline(blocker / "b.json", baseline_of(four_statuses()))
    assert str(blocker / "b.json") in caught.value.message
    assert caught.value.message.startswith("The baseline could not be saved: ")



def test_a_baseline_of_another_endpoint_or_profile_is_noted():
    here = plan_of()
    today = result_of(here, [card_of(here, i) for i in range(4)])
    assert compare(today, baseline_of(today)).baseline_elsewhere is None
    # The same endpoint spelled with a trailing slash is the same endpoint.
    slashed = plan_of(base_url=here.base_url + "/")
    assert compare(today, baseline_of(result_of(slashed, [card_of(slashed, 0)]))).baseline_elsewhere is None
    for plan, words in ((plan_of(base_url="https://api.moments.test/prod"), "endpoint"),
                        (plan_of(profile_name="Autumn QA"), "profile"),
                        (plan_of(profile_name="Autumn QA", base_url="https://api.moments.test/prod"),
                         "profile and endpoint")):
        other = result_of(plan, [card_of(plan, i) for i in range(4)])
        assert compare(today, baseline_of(other)).baseline_elsewhere == words

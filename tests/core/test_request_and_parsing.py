"""Validation and parsing, without a network."""

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moments_desktop.core import errors
from moments_desktop.core.request import DEFAULT_BASE_URL, Endpoint, RewardRequest, validate_base_url
from moments_desktop.core.reward import parse_end_date, parse_reward_payload, parse_reward_text

GOOD = dict(appId="DEMO1", momentId="GAME_COMPLETE", deviceType="Android", campaignId="DEMOCAMP1", rewardGroupId="US")


def test_valid_request_is_trimmed_and_has_exactly_five_fields():
    req = RewardRequest(base_url=DEFAULT_BASE_URL + "/", **{k: f"  {v} " for k, v in GOOD.items()}).validated()
    assert req.body() == GOOD
    assert req.url(Endpoint.GET_REWARD) == DEFAULT_BASE_URL + "/GetReward"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("appId", "", "required"),
        ("momentId", "   ", "required"),
        ("campaignId", "x" * 257, "At most 256"),
        ("rewardGroupId", "US\u200b", "invisible"),
        ("deviceType", "And\nroid", "control"),
    ],
)
def test_field_errors_name_the_field(field, value, fragment):
    with pytest.raises(errors.ValidationError) as info:
        RewardRequest(base_url=DEFAULT_BASE_URL, **{**GOOD, field: value}).validated()
    assert list(info.value.field_errors) == [field]
    assert fragment in info.value.field_errors[field]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/prod", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:1", True),
        ("http://[::1]:8080", True),
        ("http://example.com/prod", False),
        ("ftp://example.com", False),
        ("example.com", False),
        ("https://", False),
        ("https://host/prod?x=1", False),
        ("https://ho st", False),
        ("", False),
        ("http://127.0.0.1:99999", False),
    ],
)
def test_base_url_rules(url, ok):
    assert (validate_base_url(url) is None) is ok


def test_insecure_override_allows_remote_http():
    assert validate_base_url("http://replica.internal/prod", allow_insecure=True) is None


def test_parse_keeps_unknown_fields_and_reads_types():
    info = parse_reward_text(json.dumps({
        "rewardNotificationText": "Hi", "rewardImageUrl": "https://x/i.png", "remainingRewardCount": "7",
        "campaignEndDate": "2030-12-31", "brandNew": {"nested": [1]},
    }))
    assert info.remaining_count == 7 and info.campaign_end == date(2030, 12, 31)
    assert info.extra == {"brandNew": {"nested": [1]}}


def test_empty_list_is_no_reward():
    with pytest.raises(errors.NoRewardError):
        parse_reward_text("[]")


@pytest.mark.parametrize("text", ["<html>oops</html>", "{", "[1]", "3", '{"remainingRewardCount": true}',
                                  '{"rewardNotificationText": 5}', '{"remainingRewardCount": "many"}'])
def test_bad_payloads_are_invalid_response(text):
    with pytest.raises(errors.InvalidResponseError):
        parse_reward_text(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1924991999, datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (1924991999000, datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("1924991999", datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2030-12-31T10:00:00Z", datetime(2030, 12, 31, 10, tzinfo=UTC)),
        ("next tuesday", None),
        (None, None),
        (True, None),
        (1e300, None),
    ],
)
def test_end_date_forms(raw, expected):
    assert parse_end_date(raw) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)
known_keys = st.sampled_from(["rewardNotificationText", "rewardNotificationUrl", "rewardImageUrl",
                              "remainingRewardCount", "campaignEndDate"])


@given(json_values)
def test_parsing_any_json_raises_only_our_errors(value):
    try:
        parse_reward_payload(value)
    except errors.MomentsError:
        pass


@given(st.dictionaries(known_keys | st.text(max_size=10), json_values, max_size=6))
def test_parsing_any_object_raises_only_our_errors(value):
    try:
        info = parse_reward_payload(value)
    except errors.MomentsError:
        return
    assert info.raw == value and set(info.extra) <= set(value)
    info.campaign_end_text  # noqa: B018 - must never raise


@given(st.text())
def test_parsing_any_text_raises_only_our_errors(text):
    try:
        parse_reward_text(text)
    except errors.MomentsError:
        pass

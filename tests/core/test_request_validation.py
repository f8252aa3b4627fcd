"""Request validation at its edges: what validated() refuses (a base URL that would carry the key
in the clear included), which keys an HTTP header can carry, and the exact length limits."""

import dataclasses

import pytest

from moments_desktop.core import errors
from moments_desktop.core.request import (
    BODY_FIELDS,
    DEFAULT_BASE_URL,
    Endpoint,
    RewardRequest,
    is_loopback_host,
    is_loopback_url,
    is_sendable_key,
    validate_base_url,
    validate_field,
)

GOOD = dict(appId="DEMO1", momentId="GAME_COMPLETE", deviceType="Android", campaignId="DEMOCAMP1", rewardGroupId="US")


def request(base_url=DEFAULT_BASE_URL, **changes) -> RewardRequest:
    return RewardRequest(base_url=base_url, **{**GOOD, **changes})


# --- validated() -------------------------------------------------------------------------------------


@pytest.mark.parametrize("base_url", ["http://moments.example.com/prod", "http://10.0.0.5/prod",
                                      "ftp://example.com/prod", "https://example.com/prod?stage=1", ""])
def test_validated_refuses_a_bad_base_url(base_url):
    with pytest.raises(errors.ValidationError) as info:
        request(base_url).validated()
    assert list(info.value.field_errors) == ["base_url"]
    assert info.value.field_errors["base_url"] == validate_base_url(base_url)


def test_validated_allows_remote_http_only_when_the_profile_says_so():
    insecure = RewardRequest(base_url="http://replica.internal/prod", allow_insecure=True, **GOOD).validated()
    assert insecure.url(Endpoint.GET_REWARD_INFO) == "http://replica.internal/prod/GetRewardInfo"
    assert insecure.allow_insecure is True


def test_validated_lists_every_bad_field_in_form_order():
    bad = request("http://example.com", appId="", campaignId="x" * 300, rewardGroupId="U\u2028S")
    assert list(bad.field_errors()) == ["base_url", "appId", "campaignId", "rewardGroupId"]
    with pytest.raises(errors.ValidationError) as info:
        bad.validated()
    assert info.value.field_errors == bad.field_errors()
    assert "appId: appId is required." in info.value.message


def test_a_valid_request_has_no_field_errors_and_validates_to_a_trimmed_copy():
    padded = request(f"  {DEFAULT_BASE_URL}///  ", **{name: f"\t{value} " for name, value in GOOD.items()})
    assert padded.field_errors() == {}
    valid = padded.validated()
    assert valid.base_url == DEFAULT_BASE_URL and valid.body() == GOOD
    assert padded.body() != GOOD  # the original is left as it was (frozen, replaced)


def test_body_is_the_five_fields_in_the_documented_order():
    assert list(request().body()) == list(BODY_FIELDS) == ["appId", "momentId", "deviceType", "campaignId",
                                                           "rewardGroupId"]


def test_urls_of_both_endpoints():
    req = request("https://example.com/prod/")
    assert req.url(Endpoint.GET_REWARD_INFO) == "https://example.com/prod/GetRewardInfo"
    assert req.url(Endpoint.GET_REWARD) == "https://example.com/prod/GetReward"
    assert Endpoint.GET_REWARD.billed and not Endpoint.GET_REWARD_INFO.billed


def test_a_request_cannot_be_changed_after_it_was_built():
    # A ClaimPlan shows the request it will send; nothing may alter it between the confirmation and the send.
    confirmed = request().validated()
    with pytest.raises(dataclasses.FrozenInstanceError):
        confirmed.campaignId = "another-campaign"


def test_target_names_the_same_reward_for_the_same_parameters():
    assert request("https://example.com/prod").target() == request("https://example.com/prod/").target()
    assert request().target() != request(campaignId="LIVECAMP1").target()
    assert request().target() != request("https://other.example.com/prod").target()
    assert request().target() == (DEFAULT_BASE_URL + "/GetReward", tuple(GOOD.items()))
    hash(request().target())


# --- keys an HTTP header can carry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "sendable"),
    [
        ("sandbox-demo-key-0001", True),
        (" !~", True),  # 32 and 126: the ends of printable ASCII
        ("abc\x7f", False),  # DEL
        ("abc\x1f", False),
        ("\x00abc", False),
        ("ab\tc", False),
        ("ab\nc", False),
        ("key\u2013dash", False),  # a typographic dash pasted from a document
        ("clé", False),
        ("", True),  # nothing to refuse here; the client refuses an empty key before asking
    ],
)
def test_is_sendable_key(key, sendable):
    assert is_sendable_key(key) is sendable


# --- field and URL rules at their exact limits ----------------------------------------------------------


def test_field_length_limit_is_256_after_trimming():
    assert validate_field("campaignId", "x" * 256) is None
    assert validate_field("campaignId", "  " + "x" * 256 + "  ") is None
    assert validate_field("campaignId", "x" * 257) == "At most 256 characters (257 given)."


def test_url_length_limit_is_2048():
    base = "https://example.com/"
    assert validate_base_url(base + "p" * (2048 - len(base))) is None
    assert validate_base_url(base + "p" * (2049 - len(base))) == "The URL is longer than 2048 characters."


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "appId is required."),
        (" \t ", "appId is required."),
        ("A\x00B", "control"),
        ("A\u200bB", "invisible"),  # Cf: zero-width space
        ("A\u2028B", "control"),  # Zl: line separator
        ("A\u2029B", "control"),  # Zp: paragraph separator
        ("A\x85B", "control"),  # Cc: next line
    ],
)
def test_field_problems(value, fragment):
    assert fragment in validate_field("appId", value)


def test_a_field_that_is_not_text():
    assert validate_field("appId", 5) == "Must be text."
    assert validate_field("appId", None) == "Must be text."


@pytest.mark.parametrize("value", ["DEMO1", "  DEMO1  ", "ゲーム完了", "a b c", "x"])
def test_good_fields(value):
    assert validate_field("momentId", value) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the endpoint's base URL."),
        ("   ", "Enter the endpoint's base URL."),
        ("https://exa mple.com", "The URL contains spaces or control characters."),
        ("https://exa\u200bmple.com", "The URL contains spaces or control characters."),
        ("https://example.com/\x00", "The URL contains spaces or control characters."),
        ("https://example.com:99999", "The URL is not valid."),
        ("https://[::1", "The URL is not valid."),
        ("mailto:someone@example.com", "The URL must start with https:// (or http:// for a local sandbox)."),
        ("https:///prod", "The URL has no host name."),
        ("https://example.com/prod#top", "The base URL must not contain ?query or #fragment; "
                                         "the app adds /GetRewardInfo itself."),
        ("https://example.com/prod?", None),  # an empty query is no query
    ],
)
def test_base_url_messages(url, message):
    assert validate_base_url(url) == message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1/prod", "http://LOCALHOST",
                                 "http://localhost.localdomain", "http://[::1]:8080", "http://127.1.2.3",
                                 " http://127.0.0.1:5 "])
def test_plain_http_is_allowed_on_this_machine(url):
    assert validate_base_url(url) is None


def test_plain_http_to_another_host_is_refused_unless_allowed():
    message = validate_base_url("http://moments.example.com")
    assert message.startswith("Plain http is only allowed for a sandbox on this computer")
    assert validate_base_url("http://moments.example.com", allow_insecure=True) is None
    assert validate_base_url("https://moments.example.com", allow_insecure=False) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("LocalHost", True), ("127.0.0.1", True), ("127.255.0.9", True), ("::1", True),
     ("[::1]", True), ("localhost.localdomain", True), ("10.0.0.1", False), ("example.com", False),
     ("", False), ("localhost.example.com", False)],
)
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "loopback"),
    [("http://127.0.0.1:5/x", True), ("https://localhost", True), (" http://[::1]:9 ", True),
     ("https://example.com", False), ("not a url", False), ("http://[::1", False)],
)
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback

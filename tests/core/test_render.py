"""The one renderer: identifiers, URLs, keys and exchanges as text, plain or masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from moments_desktop.api_schema import Endpoint, Outcome
from moments_desktop.core.exchange import Exchange, redact_headers
from moments_desktop.core.journal import Journal
from moments_desktop.core.render import (
    KEY_PLACEHOLDER,
    MASK_CHAR,
    PLAIN,
    Renderer,
    mask_text,
    record_of_entry,
    record_of_exchange,
)

BODY = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
        "rewardGroupId": "US"}
MASKED = Renderer(masked=True)


def exchange() -> Exchange:
    ex = Exchange(endpoint=Endpoint.GET_REWARD, url="https://api.example.com/prod/GetReward",
                  request_headers=redact_headers({"x-api-key": "secret-key-123", "Accept": "application/json"}),
                  request_body=dict(BODY), started_at=datetime(2026, 1, 2, tzinfo=UTC))
    ex.status = 200
    ex.duration_ms = 42.4
    ex.response_headers = {"content-type": "application/json"}
    ex.response_body = json.dumps({"rewardNotificationText": "Enjoy!",
                                   "rewardNotificationUrl": "https://redeem.example.com/r/ABC123XYZ"})
    ex.outcome = Outcome.SUCCESS
    return ex


def test_plain_shows_values_as_they_are():
    assert PLAIN.identifier("DEMOCAMP1") == "DEMOCAMP1"
    assert PLAIN.url("https://redeem.example.com/r/ABC") == "https://redeem.example.com/r/ABC"
    assert PLAIN.target(BODY) == "DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/US"
    assert PLAIN.fields(BODY)[0] == ("appId", "DEMO1")


def test_masked_keeps_shape_and_only_the_last_characters():
    assert mask_text("DEMOCAMP1") == MASK_CHAR * 6 + "MP1"  # a third of it, from the end
    assert mask_text("US") == MASK_CHAR * 2  # short values masked whole
    assert mask_text("DEMO") == MASK_CHAR * 4
    assert mask_text("DEMO1") == MASK_CHAR * 4 + "1"
    assert mask_text("A" * 40 + "WXYZ") == MASK_CHAR * 40 + "WXYZ"  # never more than 4 characters
    assert mask_text("DEMOCAMP1", keep=0) == MASK_CHAR * 9
    assert mask_text("DEMOCAMP1", keep=8) == MASK_CHAR * 6 + "MP1"  # never more than the rule allows
    for length in range(0, 60):
        value = "x" * length
        shown = mask_text(value)
        assert len(shown) == length and shown.count("x") <= length // 3
    assert MASKED.identifier("DEMOCAMP1") == MASK_CHAR * 6 + "MP1"
    assert MASKED.field_value("deviceType", "Android") == "Android"  # an API enum, not an identifier
    assert "DEMOCAMP1" not in MASKED.target(BODY) and "Android" in MASKED.target(BODY)


def test_masked_url_keeps_scheme_loopback_and_api_words():
    shown = MASKED.url("https://redeem.example.com/r/ABC123XYZ?code=SECRET")
    assert shown.startswith("https://") and "redeem.example.com" not in shown
    assert "ABC123XYZ" not in shown and "SECRET" not in shown
    assert MASKED.url("http://127.0.0.1:5000/GetReward") == "http://127.0.0.1:5000/GetReward"
    assert MASKED.url("https://redeem.example.com/r/ABC123XYZ") == \
        "https://" + MASK_CHAR * 14 + ".com/" + MASK_CHAR + "/" + MASK_CHAR * 9  # the host's last characters


def test_a_revealed_url_is_in_clear_without_credentials():
    assert MASKED.revealed_url("https://redeem.example.com/r/ABC") == "https://redeem.example.com/r/ABC"
    shown = MASKED.revealed_url("https://u:pw@redeem.example.com/r/ABC")
    assert "pw" not in shown and shown.endswith("redeem.example.com/r/ABC")
    assert MASKED.revealed_url(None) == ""


def test_a_key_is_never_rendered():
    assert PLAIN.key("secret-key-123") == KEY_PLACEHOLDER == MASKED.key("secret-key-123")


def test_exchange_text_has_request_and_answer_and_no_key():
    text = PLAIN.exchange(record_of_exchange(exchange()))
    assert text.startswith("\u2500\u2500 Request \u2500")
    assert "\nPOST https://api.example.com/prod/GetReward\n" in text and "\u2500\u2500 Response \u2500" in text
    assert "x-api-key: [redacted]" in text and "secret-key-123" not in text
    assert '"campaignId": "DEMOCAMP1"' in text and "HTTP 200" in text and "Duration: 42 ms" in text
    assert "https://redeem.example.com/r/ABC123XYZ" in text


def test_masked_exchange_hides_identifiers_and_the_reward_url():
    text = MASKED.exchange(record_of_exchange(exchange()))
    for secret in ("DEMOCAMP1", "DEMO1", "ABC123XYZ", "api.example.com", "redeem.example.com"):
        assert secret not in text, secret
    assert "Enjoy!" in text  # the customer's message is what a presenter shows


def test_live_exchange_and_its_journal_row_render_the_same(tmp_path):
    ex = exchange()
    with Journal(tmp_path / "journal.sqlite3") as journal:
        entry = journal.get(journal.record_exchange(ex, profile_id="p", profile_name="P",
                                                    secrets=("secret-key-123",)))
    live = PLAIN.exchange(record_of_exchange(ex))
    stored = PLAIN.exchange(record_of_entry(entry))
    assert live == stored


def test_no_response_says_why():
    ex = exchange()
    ex.status = None
    ex.error_message = "connection refused"
    ex.response_body = ""
    text = PLAIN.exchange(record_of_exchange(ex))
    assert "No response (connection refused)" in text and "HTTP" not in text.split("\n", 1)[1].split("No resp")[0]


def test_journal_summary_line():
    assert PLAIN.journal_summary("GetReward", BODY, 200, "success", "https://r.example/x") == \
        "GetReward DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/US 200 success https://r.example/x"
    assert PLAIN.journal_summary("GetRewardInfo", BODY, None, "not_sent", None) == \
        "GetRewardInfo DEMO1/GAME_COMPLETE/Android/DEMOCAMP1/US - not_sent"


def test_free_text_masks_what_it_quotes_and_keeps_its_words():
    said = ("The proxy at http://proxy.corp.example:8080 refused the connection to rewards.contoso.example:443 "
            "(10.2.3.4); journal.sqlite3 and moments-desktop.log are fine, e.g. on 127.0.0.1:5000 or localhost.")
    shown = MASKED.text(said)
    for quoted in ("proxy.corp.example", "rewards.contoso.example", "10.2.3.4"):
        assert quoted not in shown
    assert shown.startswith("The proxy at http://") and ":443 (" in shown  # the words and ports stay
    for kept in ("refused the connection to", "journal.sqlite3", "moments-desktop.log", "e.g.", "127.0.0.1:5000",
                 "localhost"):
        assert kept in shown
    assert "•mple:443" in shown  # masked as identifiers are: only the last characters
    assert Renderer().text(said) == said


def test_free_text_masks_the_identifiers_it_is_given():
    assert MASKED.text("Campaign DEMOCAMP1 in US is over", ["DEMOCAMP1", "US"]) == "Campaign ••••••MP1 in US is over"
    assert Renderer().text("Campaign DEMOCAMP1", ["DEMOCAMP1"]) == "Campaign DEMOCAMP1"
    assert MASKED.text(None) == "" and MASKED.text("") == ""

"""Inputs that cannot be sent are refused at validation, with a message on the field:

- a value that does not encode as UTF-8 (a lone surrogate, ``"DEMO\\ud800"``: half of an emoji, or a
  ``\\ud800`` escape in an import file), which used to pass validation and then raise
  UnicodeEncodeError inside the claim (after its intent was written) and inside ``apply_import``;
- an endpoint carrying ``user:password@``, which used to be accepted, so the password reached the
  journal, the status bar, profiles.json and exports.

The Session runs over the real sandbox; its ledger shows that nothing was sent.
"""

import asyncio
import json

import pytest
from session_helpers import run_session as run

from moments_desktop.api_schema import BODY_FIELDS, Outcome
from moments_desktop.core.errors import ValidationError
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile, ProfileStore, parse_profile
from moments_desktop.core.render import Renderer, record_of_exchange
from moments_desktop.core.request import (
    CREDENTIALS_IN_URL_MESSAGE,
    UNENCODABLE_MESSAGE,
    RewardRequest,
    validate_base_url,
)
from moments_desktop.core.session import Session

BROKEN = "DEMO\ud800"  # a lone surrogate: a str Python holds, but no UTF-8 encoder writes
PASSWORD = "hunter2-secret"
CREDENTIAL_URL = f"https://qa-user:{PASSWORD}@moments.example.com/prod"

GOOD = dict(appId="DEMO1", momentId="GAME_COMPLETE", deviceType="Android", campaignId="DEMOCAMP1",
            rewardGroupId="US")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def journal_bytes(tmp_path) -> bytes:
    """Every byte of the journal as it lies on disk (the database and any write-ahead log)."""
    return b"".join(path.read_bytes() for path in sorted(tmp_path.glob("journal.sqlite3*")))


# --- values that cannot be encoded ------------------------------------------------------------------


@pytest.mark.parametrize("name", BODY_FIELDS)
def test_a_lone_surrogate_in_a_body_field_is_refused_on_that_field(name):
    request = RewardRequest(base_url="https://moments.example.com/prod", **{**GOOD, name: BROKEN})
    assert request.field_errors() == {name: UNENCODABLE_MESSAGE}
    with pytest.raises(ValidationError) as refused:
        request.validated()
    assert refused.value.field_errors == {name: UNENCODABLE_MESSAGE}


@pytest.mark.parametrize("value", ["DEMO\ufffd", "\ufffdUS"])
def test_the_mark_of_a_broken_character_is_refused_too(value):
    """A text field (Qt) keeps a pasted lone surrogate as U+FFFD: an identifier never holds one."""
    request = RewardRequest(base_url="https://moments.example.com/prod", **{**GOOD, "appId": value})
    assert request.field_errors() == {"appId": UNENCODABLE_MESSAGE}


def test_a_lone_surrogate_in_the_endpoint_is_refused():
    assert validate_base_url("https://moments.example.com/pr\udcffod") == UNENCODABLE_MESSAGE


def test_a_claim_with_a_lone_surrogate_is_refused_before_anything_is_written_or_sent(sandbox, tmp_path):
    async def scenario(session):
        fields = {**sandbox.demo_body, "campaignId": "DEMOCAMP1\ud800"}
        with pytest.raises(ValidationError) as refused:
            session.plan_claim(DEMO_PROFILE_ID, fields=fields)
        assert refused.value.field_errors == {"campaignId": UNENCODABLE_MESSAGE}
        result = await session.preview(DEMO_PROFILE_ID, fields=fields)  # the client refuses it as well
        assert result.outcome is Outcome.NOT_SENT
        assert isinstance(result.error, ValidationError)
        return await asyncio.to_thread(session.journal.query)

    entries = run(sandbox, tmp_path, scenario)
    assert sandbox.admin.ledger() == []
    assert [e.outcome for e in entries] == [Outcome.NOT_SENT]


@pytest.mark.parametrize("field, value", [
    ("name", "Staging \ud83d"), ("notes", "half an emoji \udc00"), ("appId", BROKEN),
    ("currency", "US\ud800"), ("base_url", "https://moments.example.com/\ud800"),
])
def test_an_import_with_a_lone_surrogate_is_refused_on_that_field_and_writes_nothing(tmp_path, field, value):
    store = ProfileStore(tmp_path / "profiles.json")
    entry = {"name": "Staging", "base_url": "https://moments.example.com/prod", **GOOD, "live": True,
             "currency": "USD", "notes": "", field: value}
    source = tmp_path / "import.json"
    # ensure_ascii: the file holds the escape "\ud800", valid JSON that decodes to a lone surrogate
    source.write_text(json.dumps({"profiles": [entry]}, ensure_ascii=True), encoding="utf-8")
    report = store.parse_import(source)
    [candidate] = report.candidates
    assert not candidate.valid
    assert "broken character" in candidate.problems[field] or field == "currency"
    assert candidate.problems[field]
    assert store.apply_import(report) == []  # used to raise UnicodeEncodeError while writing profiles.json
    assert not (tmp_path / "profiles.json").exists()
    assert [p.id for p in store.profiles()] == [DEMO_PROFILE_ID]


def test_a_profile_with_a_lone_surrogate_cannot_be_added(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    with pytest.raises(ValidationError) as refused:
        store.add(Profile(name="Staging", base_url="https://moments.example.com/prod", **GOOD,
                          notes="pasted \ud800"))
    assert refused.value.field_errors == {"notes": UNENCODABLE_MESSAGE}
    assert not (tmp_path / "profiles.json").exists()


# --- user:password@ in the endpoint -------------------------------------------------------------------


@pytest.mark.parametrize("url", [CREDENTIAL_URL, "https://token@moments.example.com/prod",
                                 f"http://u:{PASSWORD}@127.0.0.1:8080", f"https://:{PASSWORD}@host.example/"])
def test_an_endpoint_with_credentials_is_refused_and_the_message_does_not_repeat_them(url):
    assert validate_base_url(url) == CREDENTIALS_IN_URL_MESSAGE
    assert validate_base_url(url, allow_insecure=True) == CREDENTIALS_IN_URL_MESSAGE
    assert "credentials belong in the API key field" in CREDENTIALS_IN_URL_MESSAGE
    assert PASSWORD not in CREDENTIALS_IN_URL_MESSAGE


def test_a_profile_or_an_import_with_credentials_in_the_endpoint_is_refused(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    with pytest.raises(ValidationError) as refused:
        store.add(Profile(name="Staging", base_url=CREDENTIAL_URL, **GOOD))
    assert refused.value.field_errors == {"base_url": CREDENTIALS_IN_URL_MESSAGE}
    profile, problems = parse_profile({"name": "Staging", "base_url": CREDENTIAL_URL, **GOOD})
    assert profile is None and problems == {"base_url": CREDENTIALS_IN_URL_MESSAGE}

    source = tmp_path / "import.json"
    source.write_text(json.dumps({"profiles": [{"name": "Staging", "base_url": CREDENTIAL_URL, **GOOD}]}))
    report = store.parse_import(source)
    assert report.valid == [] and report.candidates[0].problems == {"base_url": CREDENTIALS_IN_URL_MESSAGE}
    assert store.apply_import(report) == []
    exported = tmp_path / "export.json"
    store.export_profiles(exported)
    for written in (exported, *tmp_path.glob("profiles.json*")):
        assert PASSWORD not in written.read_text(encoding="utf-8")


def test_a_refused_endpoint_with_credentials_never_reaches_the_journal_or_the_screen(sandbox, tmp_path):
    async def scenario(session):
        result = await session.preview(DEMO_PROFILE_ID, base_url=CREDENTIAL_URL)
        assert result.outcome is Outcome.NOT_SENT
        assert result.error.field_errors == {"base_url": CREDENTIALS_IN_URL_MESSAGE}
        assert PASSWORD not in result.exchange.url and "qa-user" not in result.exchange.url
        with pytest.raises(ValidationError):
            session.plan_claim(DEMO_PROFILE_ID, base_url=CREDENTIAL_URL)
        return result

    result = run(sandbox, tmp_path, scenario)
    assert sandbox.admin.ledger() == []
    stored = journal_bytes(tmp_path)
    assert b"moments.example.com" in stored  # the row is there, the password is not
    assert PASSWORD.encode() not in stored and b"qa-user" not in stored
    for renderer in (Renderer(), Renderer(masked=True)):
        # the status bar's "Endpoint: …" and the Raw tab render URLs here
        shown = renderer.url(CREDENTIAL_URL)
        assert PASSWORD not in shown and "qa-user" not in shown
        assert PASSWORD not in renderer.exchange(record_of_exchange(result.exchange))
    assert Renderer().url(CREDENTIAL_URL) == "https://[redacted]@moments.example.com/prod"


def test_free_text_may_hold_the_replacement_mark_identifiers_may_not(tmp_path):
    """U+FFFD is a real character in notes or a name (pasted from a decoded log): only identifiers and
    the endpoint refuse it, as the sign of a broken paste; a saved profile holding it still loads."""
    store = ProfileStore(tmp_path / "profiles.json")
    kept = store.add(Profile(name="Staging \ufffd", base_url="https://moments.example.com/prod", **GOOD,
                             notes="log said: caf\ufffd"))
    assert ProfileStore(tmp_path / "profiles.json").get(kept.id).notes == "log said: caf\ufffd"
    with pytest.raises(ValidationError) as refused:
        store.add(Profile(name="Other", base_url="https://moments.example.com/prod", **{**GOOD, "appId": "A\ufffd"}))
    assert refused.value.field_errors == {"appId": UNENCODABLE_MESSAGE}

"""Exports (core/exports.py): each snippet is the client's own request, run for real.

cURL (``sh -c``), HTTPie (the real ``http`` from the venv) and the Python snippet run as subprocesses
against the real sandbox with the key in MOMENTS_API_KEY, and their answers are compared with what
MomentsClient gets for the same request; against a recording server the bytes that arrive (body,
headers, key) are compared with what the client sends. Braze tags are read back with a strict parser
and the captured body rendered with python-liquid; PowerShell, which cannot be installed here, is read
back with a tokenizer of its single-quoted strings (tests/core/snippets.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from decimal import Decimal

import pytest
from client_helpers import run
from memory_keyring import MemoryKeyring
from session_helpers import run_session
from snippets import (
    HTTPIE,
    RecordingServer,
    parse_braze,
    parse_powershell,
    ps_expression,
    ps_single_quoted_at,
    run_snippet,
)

from moments_desktop.api_schema import API_KEY_HEADER, BODY_FIELDS, Endpoint
from moments_desktop.core import exports
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.errors import MissingKeyError, ValidationError
from moments_desktop.core.exports import (
    BRAZE_ABORT_GUARD,
    BRAZE_KEY_PLACEHOLDER,
    Export,
    ExportFormat,
    ExportRefusedError,
    export_request,
    powershell_quote,
)
from moments_desktop.core.http import make_client
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile
from moments_desktop.core.render import Renderer
from moments_desktop.core.request import RewardRequest
from moments_desktop.core.wire import build_request

RUNNABLE = (ExportFormat.CURL, ExportFormat.HTTPIE, ExportFormat.PYTHON)
# Awkward values: every quote and shell-special character, separators of a form body, Liquid, scripts.
AWKWARD = {
    "appId": "it's \"quoted\" ‘typographic’ ’s",
    "momentId": "a&b=c d+e%20f",
    "deviceType": "$HOME `id` $(id) \\ \\\\ !! ${x}",
    "campaignId": "مرحبا بالعالم 😀🎉",
    "rewardGroupId": "{{ moments.x }} {% abort_message('x') %} }}%}",
}
# Printable ASCII, as is_sendable_key allows: quotes, $, backticks, backslashes and HTTPie's separators.
# (Not a backslash directly before : ; = @, which HTTPie cannot carry: see test_httpie_refuses_...)
MARK = "SECRET42"
AWKWARD_KEY = f"k'e\"y $HOME `id` \\ != @x:y;z =@ {MARK} \\"


@pytest.fixture
def recorder():
    server = RecordingServer()
    yield server
    server.close()


def request_of(base_url: str, body: dict) -> RewardRequest:
    return RewardRequest(base_url=base_url, **body).validated()


async def client_call(request: RewardRequest, endpoint: Endpoint, key: str):
    async with make_client() as http:
        client = MomentsClient(http, info_retries=0)
        if endpoint.billed:
            return await client.get_reward(request, key)
        return await client.get_reward_info(request, key)


def answer_json(result) -> object:
    return json.loads(result.stdout.decode("utf-8"))


# --- against the real sandbox --------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(Endpoint))
@pytest.mark.parametrize("fmt", RUNNABLE)
def test_each_snippet_answers_as_the_client_does(sandbox, fmt, endpoint):
    """The demo request (DEMOCAMP1 is in test mode: a GetReward consumes nothing and always returns the
    same URL): the snippet, run with the key from the environment, gets the client's answer."""
    request = request_of(sandbox.base_url, sandbox.demo_body)
    export = export_request(build_request(request, endpoint, ""), fmt)
    assert sandbox.demo_key not in export.text and not export.contains_key
    by_snippet = answer_json(run_snippet(fmt, export.text, sandbox.demo_key))
    by_client = run(client_call(request, endpoint, sandbox.demo_key))
    assert by_client.exchange.status == 200
    assert by_snippet == json.loads(by_client.exchange.response_body)
    if endpoint.billed:
        assert by_snippet["rewardNotificationUrl"]  # a real claim answer, not an error
        ledger = sandbox.admin.ledger()
        assert [e["request"] for e in ledger] == [sandbox.demo_body] * 2
        assert [e["consumed"] for e in ledger] == [False, False]


@pytest.mark.parametrize("endpoint", list(Endpoint))
@pytest.mark.parametrize("fmt", RUNNABLE)
def test_awkward_values_reach_the_sandbox_unchanged(sandbox, fmt, endpoint):
    request = request_of(sandbox.base_url, AWKWARD)
    export = export_request(build_request(request, endpoint, ""), fmt)
    by_snippet = answer_json(run_snippet(fmt, export.text, sandbox.demo_key))
    by_client = run(client_call(request, endpoint, sandbox.demo_key))
    assert by_snippet == json.loads(by_client.exchange.response_body)
    if endpoint.billed:  # the sandbox's ledger shows what arrived, field by field
        assert [e["request"] for e in sandbox.admin.ledger()] == [AWKWARD, AWKWARD]


def test_a_snippet_without_the_key_in_its_environment_is_refused_like_a_wrong_key(sandbox):
    request = request_of(sandbox.base_url, sandbox.demo_body)
    export = export_request(build_request(request, Endpoint.GET_REWARD_INFO, ""), ExportFormat.CURL)
    refused = answer_json(run_snippet(ExportFormat.CURL, export.text, "not-the-key"))
    assert refused == {"message": "Forbidden"}


# --- byte for byte, against a recording server --------------------------------------------------------


def sent_by_client(recorder, request: RewardRequest, endpoint: Endpoint, key: str):
    result = run(client_call(request, endpoint, key))
    assert result.exchange.status == 200, result.error
    return recorder.requests[-1], result


@pytest.mark.parametrize("include_key", [False, True], ids=["placeholder", "real-key"])
@pytest.mark.parametrize("fmt", RUNNABLE)
def test_the_snippet_sends_the_clients_bytes(recorder, fmt, include_key):
    """Method, path, every header the client sets (the key too) and the body's exact bytes."""
    request = request_of(recorder.base_url, AWKWARD)
    endpoint = Endpoint.GET_REWARD
    client_sent, result = sent_by_client(recorder, request, endpoint, AWKWARD_KEY)
    export = export_request(build_request(request, endpoint, AWKWARD_KEY), fmt, include_key=include_key)
    assert export.contains_key is include_key and (MARK in export.text) is include_key
    run_snippet(fmt, export.text, None if include_key else AWKWARD_KEY)
    snippet_sent = recorder.requests[-1]
    assert len(recorder.requests) == 2
    assert (snippet_sent.method, snippet_sent.path) == (client_sent.method, client_sent.path) == (
        "POST", "/GetReward")
    assert snippet_sent.body == client_sent.body
    assert json.loads(client_sent.body) == AWKWARD
    for name, value in build_request(request, endpoint, AWKWARD_KEY).headers:
        assert snippet_sent.header(name) == client_sent.header(name) == value, name


def test_powershell_reads_back_as_the_clients_request():
    """PowerShell cannot be installed here: its snippet is read back by a tokenizer of PowerShell's
    single-quoted strings (all five quote characters end one) and of [regex]::Unescape."""
    for body in (AWKWARD, {**AWKWARD, "appId": "plain"}, dict.fromkeys(BODY_FIELDS, "DEMO1")):
        request = request_of("https://moments.example/prod/x’y", body)
        for include_key in (False, True):
            wire = build_request(request, Endpoint.GET_REWARD_INFO, AWKWARD_KEY)
            text = export_request(wire, ExportFormat.POWERSHELL, include_key=include_key).text
            assert text.isascii()
            read = parse_powershell(text)
            assert read.url == wire.url
            assert read.body.encode("utf-8") == wire.body
            expected = dict(wire.headers)
            if not include_key:
                expected[API_KEY_HEADER] = "$env:MOMENTS_API_KEY"
            assert read.headers == expected


@pytest.mark.parametrize("value", ["plain", "it's", "‘a’ ‚b‛", "'''", "a\\b", "\\u0041", "مرحبا 😀 ’", ""])
def test_powershell_quoting_round_trips(value):
    assert ps_expression(powershell_quote(value)) == value


def test_the_powershell_reader_fails_on_a_typographic_quote_left_single():
    """The reader is not generous: a U+2019 written as it is (not doubled) ends the string early."""
    assert ps_single_quoted_at("'it’s'", 0) != ("it’s", 6)
    assert ps_single_quoted_at("'it’’s'", 0) == ("it’s", 7)
    assert exports._ps_single_quoted("it’s") == "'it’’s'"


def test_httpie_reads_a_real_key_back_unchanged():
    """HTTPie's own request-item parser, on the item the export writes for an awkward key."""
    from httpie.cli.argtypes import KeyValueArgType
    from httpie.cli.constants import SEPARATOR_GROUP_ALL_ITEMS

    item = KeyValueArgType(*SEPARATOR_GROUP_ALL_ITEMS)(f"{API_KEY_HEADER}:{exports.httpie_item_escape(AWKWARD_KEY)}")
    assert (item.key, item.sep, item.value) == (API_KEY_HEADER, ":", AWKWARD_KEY)
    for leading in ("=json", "@file"):  # would be read as a := or :@ item, were they not escaped
        item = KeyValueArgType(*SEPARATOR_GROUP_ALL_ITEMS)(f"{API_KEY_HEADER}:{exports.httpie_item_escape(leading)}")
        assert (item.key, item.sep, item.value) == (API_KEY_HEADER, ":", leading)
    assert HTTPIE.is_file(), f"HTTPie's http program is not next to {HTTPIE.parent}: install the test extras"


def test_httpie_refuses_a_key_it_cannot_carry():
    """HTTPie always reads a backslash before : ; = @ as an escape: such a key is refused, not mangled."""
    wire = build_request(request_of("https://x.example", dict.fromkeys(BODY_FIELDS, "a")), Endpoint.GET_REWARD_INFO,
                         "abc\\=def")
    with pytest.raises(ExportRefusedError, match="cURL or Python"):
        export_request(wire, ExportFormat.HTTPIE, include_key=True)
    assert "abc\\\\=def" in export_request(wire, ExportFormat.PYTHON, include_key=True).text


# --- Braze ------------------------------------------------------------------------------------------


def braze(body: dict, endpoint: Endpoint, *, include_key=False, cost=None, currency="USD", cache_max_age=None,
          base_url="https://dnxr7vm27d.execute-api.us-east-1.amazonaws.com/prod"):
    wire = build_request(request_of(base_url, body), endpoint, AWKWARD_KEY)
    export = export_request(wire, ExportFormat.BRAZE, include_key=include_key, cost_per_action=cost,
                            currency=currency, cache_max_age=cache_max_age)
    return wire, export, parse_braze(export.text)


DEMO = {"appId": "DEMO1", "momentId": "GAME_COMPLETE", "deviceType": "Android", "campaignId": "DEMOCAMP1",
        "rewardGroupId": "amz1yprime"}


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_braze_tag_has_every_attribute_and_a_form_body_for_plain_values(endpoint):
    wire, export, tag = braze(DEMO, endpoint)
    assert tag.url == wire.url
    assert tag.attributes == {
        "method": "post", "headers": {API_KEY_HEADER: BRAZE_KEY_PLACEHOLDER},
        "body": "appId=DEMO1&momentId=GAME_COMPLETE&deviceType=Android&campaignId=DEMOCAMP1&rewardGroupId=amz1yprime",
        "content_type": "application/json", "save": "moments"}
    assert tag.captures == {}
    assert tag.body_fields() == DEMO == wire.fields
    assert not export.contains_key


@pytest.mark.parametrize("awkward_field", BODY_FIELDS)
def test_braze_uses_a_captured_json_body_when_a_value_is_not_form_safe(awkward_field):
    body = {**DEMO, awkward_field: AWKWARD[awkward_field]}
    wire, export, tag = braze(body, Endpoint.GET_REWARD_INFO)
    assert tag.attributes["body"] == "{{moments_body}}"
    assert tag.body_fields() == body  # rendered by python-liquid: nothing in a value became Liquid


@pytest.mark.parametrize("value", ["a&b", "a=b", "a b", "a%41", "a+b", "a'b", 'a"b', "été", "{{x}}", "a%}b", "a;b"])
def test_braze_form_body_only_for_unreserved_characters(value):
    _wire, _export, tag = braze({**DEMO, "momentId": value}, Endpoint.GET_REWARD_INFO)
    assert tag.attributes["body"] == "{{moments_body}}", value
    assert tag.body_fields()["momentId"] == value


def test_braze_liquid_delimiters_in_values_never_become_liquid():
    body = {**DEMO, "momentId": "{{ 7 | plus: 1 }}", "campaignId": "{% abort_message('x') %}",
            "rewardGroupId": "}}%}{%{{"}
    _wire, export, tag = braze(body, Endpoint.GET_REWARD)
    captured = tag.captures["moments_body"]
    assert not any(d in captured for d in ("{{", "{%", "}}", "%}"))
    assert tag.body_fields() == body
    url_with_liquid = "https://moments.example/{{x}}/p%}"
    _wire, _export, tag = braze(DEMO, Endpoint.GET_REWARD_INFO, base_url=url_with_liquid)
    assert tag.url == "https://moments.example/%7B%7Bx%7D%7D/p%%7D/GetRewardInfo"


def test_braze_real_key_variant():
    _wire, export, tag = braze(DEMO, Endpoint.GET_REWARD_INFO, include_key=True)
    assert tag.attributes["headers"] == {API_KEY_HEADER: AWKWARD_KEY}
    assert export.contains_key and exports.REAL_KEY_WARNING in export.warnings
    assert BRAZE_KEY_PLACEHOLDER not in export.text


def test_braze_get_reward_info_may_carry_a_cache_time_in_bradzes_range():
    _wire, _export, tag = braze(DEMO, Endpoint.GET_REWARD_INFO, cache_max_age=900)
    assert tag.attributes["cache_max_age"] == "900"
    assert tag.trailer == ""  # no abort guard needed: GetRewardInfo consumes nothing
    for outside in (299, 14_401, 0, -5, True):
        with pytest.raises(ExportRefusedError):
            braze(DEMO, Endpoint.GET_REWARD_INFO, cache_max_age=outside)
    with pytest.raises(ExportRefusedError, match="Braze Connected Content only"):
        export_request(build_request(request_of("https://x.example", DEMO), Endpoint.GET_REWARD_INFO, ""),
                       ExportFormat.CURL, cache_max_age=900)


@pytest.mark.parametrize("body", [DEMO, AWKWARD], ids=["form", "capture"])
def test_braze_get_reward_rules(body):
    """No :retry, no :cache_max_age, the abort guard after the tag, and the duplicate-call rule with its
    cost in a Liquid comment and in the warnings."""
    wire, export, tag = braze(body, Endpoint.GET_REWARD, cost=Decimal("2.5"), currency="usd")
    assert "retry" not in tag.attributes and "cache_max_age" not in tag.attributes
    outside_comments = re.sub(r"\{% comment %\}.*?\{% endcomment %\}", "", export.text, flags=re.S)
    assert ":retry" not in outside_comments and ":cache_max_age" not in outside_comments
    assert tag.trailer == BRAZE_ABORT_GUARD
    assert tag.body_fields() == wire.fields
    rule = next(c for c in tag.comments if "more than once per recipient" in c)
    for number in ("2.50 USD per claim", "2 calls cost 5.00 USD", "3 calls cost 7.50 USD"):
        assert number in rule and number in export.warnings[0], number


def test_braze_get_reward_without_a_cost_says_it_is_not_set():
    _wire, export, tag = braze(DEMO, Endpoint.GET_REWARD, cost=None)
    assert "cost per claim is not set" in export.warnings[0]
    assert "2 calls are 2 billed claims, 3 calls are 3 billed claims" in export.warnings[0]
    assert any("cost per claim is not set" in c for c in tag.comments)


def test_braze_get_reward_refuses_a_cache_time():
    with pytest.raises(ExportRefusedError, match="never carries :cache_max_age"):
        braze(DEMO, Endpoint.GET_REWARD, cache_max_age=900)


def test_the_braze_comments_and_guard_are_valid_liquid():
    """python-liquid parses the comments and the abort guard's if (abort_message is Braze's own tag and is
    not run: the guard is rendered for an answer with a reward URL, where it outputs nothing)."""
    _wire, export, tag = braze(AWKWARD, Endpoint.GET_REWARD, cost=Decimal("0.125"))
    head = export.text[:export.text.index("{% connected_content")]
    assert liquid_render(head + "done") == "\n" * head.count("\n") + "done"
    assert "0.125 USD per claim" in export.warnings[0] and "0.250 USD" in export.warnings[0]
    guard = tag.trailer.replace("{% abort_message('no Moments reward') %}", "ABORT")
    assert liquid_render(guard, moments={"rewardNotificationUrl": "https://r.example/1"}) == ""
    assert liquid_render(guard, moments={"rewardNotificationUrl": ""}) == "ABORT"
    # (For the [] answer Braze's Ruby Liquid reads moments.rewardNotificationUrl as nil, and nil is blank
    # there; python-liquid's undefined is not equal to blank, so that case is not asserted with it.)


def liquid_render(source: str, **data) -> str:
    import liquid

    return liquid.render(source, **data)


# --- every format --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_get_reward_exports_warn_of_the_cost(fmt):
    wire = build_request(request_of("https://x.example", DEMO), Endpoint.GET_REWARD, "")
    export = export_request(wire, fmt, cost_per_action=Decimal("1.25"), currency="EUR")
    assert export.warnings and "1.25 EUR" in export.warnings[0]
    info = export_request(build_request(request_of("https://x.example", DEMO), Endpoint.GET_REWARD_INFO, ""), fmt)
    assert info.warnings == ()


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_masked_renderer_masks_the_screen_text_only(fmt):
    """Presenter mode's seam: the clipboard text is the user's data; what a screen shows is masked."""
    wire = build_request(request_of("https://moments.example/prod", DEMO), Endpoint.GET_REWARD_INFO, "")
    plain = export_request(wire, fmt)
    masked = export_request(wire, fmt, renderer=Renderer(masked=True))
    assert masked.text == plain.text == plain.screen_text
    assert "DEMOCAMP1" in plain.text and "DEMOCAMP1" not in masked.screen_text
    assert "moments.example" not in masked.screen_text and "GetRewardInfo" in masked.screen_text
    with_key = export_request(build_request(request_of("https://m.example", DEMO), Endpoint.GET_REWARD_INFO,
                                            AWKWARD_KEY), fmt, include_key=True)
    assert MARK in with_key.text and MARK not in with_key.screen_text


# --- through the Session ----------------------------------------------------------------------------------


def test_session_export_refuses_what_validation_refuses(sandbox, tmp_path):
    async def scenario(session):
        for bad in ("line\nbreak", "tab\there", "nul\x00", "bidi\u202e", ""):
            with pytest.raises(ValidationError) as caught:
                await session.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD_INFO, ExportFormat.CURL,
                                     fields={**sandbox.demo_body, "momentId": bad})
            assert set(caught.value.field_errors) == {"momentId"}, bad
        with pytest.raises(ValidationError) as caught:
            await session.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD, ExportFormat.BRAZE, base_url="ftp://x")
        assert set(caught.value.field_errors) == {"base_url"}
    run_session(sandbox, tmp_path, scenario)


def test_session_export_placeholder_and_real_key(sandbox, tmp_path):
    async def scenario(session):
        placeholder = await session.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD_INFO, ExportFormat.CURL)
        real = await session.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD_INFO, ExportFormat.CURL, include_key=True)
        return placeholder, real
    placeholder, real = run_session(sandbox, tmp_path, scenario)
    assert isinstance(placeholder, Export) and not placeholder.contains_key
    assert sandbox.demo_key not in placeholder.text and '"x-api-key: $MOMENTS_API_KEY"' in placeholder.text
    assert real.contains_key and sandbox.demo_key in real.text and exports.REAL_KEY_WARNING in real.warnings
    assert answer_json(run_snippet(ExportFormat.CURL, real.text, None)) == answer_json(
        run_snippet(ExportFormat.CURL, placeholder.text, sandbox.demo_key))


def test_session_export_with_real_key_but_no_key_stored(sandbox, tmp_path):
    async def scenario(session):
        profile = Profile(name="No key yet", base_url=sandbox.base_url, **sandbox.demo_body)
        await asyncio.to_thread(session.profiles.add, profile)
        with pytest.raises(MissingKeyError):
            await session.export(profile.id, Endpoint.GET_REWARD, ExportFormat.PYTHON, include_key=True)
        return await session.export(profile.id, Endpoint.GET_REWARD, ExportFormat.PYTHON)
    export = run_session(sandbox, tmp_path, scenario)
    assert "os.environ['MOMENTS_API_KEY']" in export.text


def test_a_real_key_export_leaves_no_key_in_logs_or_journal(sandbox, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))
    key = "sk-live-EXPORT-SECRET-0123456789"
    keyring = MemoryKeyring()

    async def scenario(session):
        profile = Profile(name="Live", base_url=sandbox.base_url, **sandbox.demo_body, cost_per_action=Decimal("3"))
        await asyncio.to_thread(session.profiles.add, profile)
        await session.store_key(profile.id, key)
        await session.preview(profile.id)  # a journaled call with the same key, for comparison
        return [await session.export(profile.id, endpoint, fmt, include_key=True)
                for endpoint in Endpoint for fmt in ExportFormat]
    with caplog.at_level(logging.DEBUG):
        made = run_session(sandbox, tmp_path, scenario, keyring_backend=keyring)
    assert all(key in e.text for e in made)
    assert key not in caplog.text
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    for path in tmp_path.glob("journal.sqlite3*"):
        assert key.encode() not in path.read_bytes(), path


def test_export_entry_is_the_journaled_request_with_the_placeholder(sandbox, tmp_path):
    async def scenario(session):
        await session.preview(DEMO_PROFILE_ID, fields=AWKWARD)
        entry = await asyncio.to_thread(lambda: session.journal.query(None, 0, 1)[0])
        live = await session.export(DEMO_PROFILE_ID, Endpoint.GET_REWARD_INFO, ExportFormat.HTTPIE, fields=AWKWARD)
        return entry, session.export_entry(entry, ExportFormat.HTTPIE), live
    entry, from_history, live = run_session(sandbox, tmp_path, scenario)
    assert entry.request_headers[API_KEY_HEADER] == "[redacted]"
    assert from_history == live and not from_history.contains_key
    assert sandbox.demo_key not in from_history.text


def test_export_entry_of_a_refused_request_is_refused_like_the_client(sandbox, tmp_path):
    async def scenario(session):
        result = await session.preview(DEMO_PROFILE_ID, fields={**sandbox.demo_body, "appId": "a\nb"})
        assert isinstance(result.error, ValidationError)
        entry = await asyncio.to_thread(lambda: session.journal.query(None, 0, 1)[0])
        with pytest.raises(ValidationError) as caught:
            session.export_entry(entry, ExportFormat.CURL)
        return caught.value
    error = run_session(sandbox, tmp_path, scenario)
    assert set(error.field_errors) == {"appId"}


def test_real_key_export_with_the_keychain_unavailable_is_refused_in_words(sandbox, tmp_path):
    import keyring.backends.fail

    from moments_desktop.core.credentials import KeyringUnavailableError

    async def scenario(session):
        profile = Profile(name="Keychain off", base_url=sandbox.base_url, **sandbox.demo_body)
        await asyncio.to_thread(session.profiles.add, profile)
        with pytest.raises(KeyringUnavailableError) as caught:
            await session.export(profile.id, Endpoint.GET_REWARD_INFO, ExportFormat.CURL, include_key=True)
        placeholder = await session.export(profile.id, Endpoint.GET_REWARD_INFO, ExportFormat.CURL)
        return caught.value, placeholder
    error, placeholder = run_session(sandbox, tmp_path, scenario, keyring_backend=keyring.backends.fail.Keyring())
    assert "keychain" in error.message.lower()
    assert not placeholder.contains_key  # the placeholder needs no keychain at all


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_no_repr_shows_the_key(fmt):
    """An Export or a WireRequest ends up in a log line or a test report by its repr: the key stays out."""
    key = "sk-REPR-SECRET-0123456789"
    wire = build_request(request_of("https://example.com/prod", DEMO), Endpoint.GET_REWARD_INFO, key)
    export = export_request(wire, fmt, include_key=True)
    assert key in export.text  # the snippet itself holds it, as asked
    assert key not in repr(export) and key not in repr(wire) and key not in str(export)

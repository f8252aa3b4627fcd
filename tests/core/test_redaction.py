"""A server that echoes the API key back (a careless gateway quoting the x-api-key in its error and in a
header) never gets the key onto the screen: the Session replaces it with the redaction marker in the
exchange and the error before anything renders them (Raw tab, its Copy, the error panel), and the
journal (history details, exports) stores the marker too. The real sandbox does the echoing
(the ``status`` fault with ``echo_key``)."""

import asyncio

import pytest
from session_helpers import run_session as run

from moments_desktop.api_schema import Endpoint, Outcome
from moments_desktop.core.exchange import REDACTED, Exchange, redact_echoed_secrets
from moments_desktop.core.profiles import DEMO_PROFILE_ID
from moments_desktop.core.render import Renderer, record_of_entry, record_of_exchange
from moments_desktop.core.session import Session


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def everything_shown(result) -> list[str]:
    """Every text a view makes of a call: the Raw tab (and its Copy, the same text), masked or not,
    and the error panel's message."""
    record = record_of_exchange(result.exchange)
    texts = [Renderer().exchange(record), Renderer(masked=True).exchange(record)]
    if result.error is not None:
        texts += [result.error.message, str(result.error)]
    return texts


def test_the_sandbox_really_echoes_the_key(sandbox):
    import httpx

    sandbox.admin.add_fault(Endpoint.GET_REWARD_INFO, "status", status=403, echo_key=True, times=1)
    with httpx.Client(base_url=sandbox.base_url) as client:
        answer = client.post(f"/{Endpoint.GET_REWARD_INFO.value}", json=sandbox.demo_body,
                             headers={"x-api-key": sandbox.demo_key})
    assert answer.status_code == 403
    assert sandbox.demo_key in answer.json()["message"] and answer.headers["x-echoed-key"] == sandbox.demo_key


def test_a_preview_answer_echoing_the_key_is_shown_and_journaled_redacted(sandbox, tmp_path):
    sandbox.admin.add_fault(Endpoint.GET_REWARD_INFO, "status", status=403, echo_key=True, times=1)

    async def scenario(session):
        result = await session.preview(DEMO_PROFILE_ID)
        entries = await asyncio.to_thread(session.journal.query)
        return result, entries

    result, entries = run(sandbox, tmp_path, scenario)
    key = sandbox.demo_key
    assert result.exchange.status == 403 and result.outcome is Outcome.ERROR
    assert REDACTED in result.exchange.response_body
    assert result.exchange.response_headers["x-echoed-key"] == REDACTED
    shown = everything_shown(result)
    assert any(REDACTED in text for text in shown)
    assert all(key not in text for text in shown), shown
    # history details render the journal's row the same way
    [entry] = entries
    history = Renderer().exchange(record_of_entry(entry))
    assert key not in history and REDACTED in history


def test_a_claim_answer_echoing_the_key_is_shown_redacted(sandbox, tmp_path):
    sandbox.admin.add_fault(Endpoint.GET_REWARD, "status", status=403, echo_key=True, times=1)

    async def scenario(session):
        plan = session.plan_claim(DEMO_PROFILE_ID)
        return await session.claim(plan)

    claimed = run(sandbox, tmp_path, scenario)
    assert claimed.call.exchange.status == 403
    assert len(sandbox.admin.ledger()) == 1  # one getReward, never re-sent
    shown = everything_shown(claimed.call)
    assert all(sandbox.demo_key not in text for text in shown), shown
    assert any(REDACTED in text for text in shown)


def test_redaction_leaves_short_secrets_and_answers_without_the_key_alone():
    exchange = Exchange(endpoint=Endpoint.GET_REWARD_INFO, url="https://h/prod/GetRewardInfo",
                        request_headers={}, request_body={}, response_body='{"message": "abc"}',
                        response_headers={"x-id": "abc"})
    redact_echoed_secrets(exchange, None, ("abc",))  # three characters: not worth garbling an answer for
    assert exchange.response_body == '{"message": "abc"}' and exchange.response_headers == {"x-id": "abc"}
    redact_echoed_secrets(exchange, None, ("sk-live-0001",))
    assert exchange.response_body == '{"message": "abc"}'

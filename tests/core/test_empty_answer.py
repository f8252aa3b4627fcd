"""``{}`` (or an object of unknown keys only) is not a reward: its own error, never a success.

Against the real sandbox: a ``status`` fault answers HTTP 200 with the given JSON body. For GetReward,
``consume`` makes the sandbox do its work first (a reward is consumed, the ledger says so) and then
answer with that body: a 200 without a URL that may well have cost a reward, so it is UNKNOWN, never
"nothing happened". ``[]`` stays the contract's "no reward"."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from client_helpers import claim, demo_request, info, live_request
from memory_keyring import MemoryKeyring

from moments_desktop.api_schema import Outcome
from moments_desktop.core import errors
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.operations import Operations, ProfileRef
from moments_desktop.core.profiles import DEMO_PROFILE_ID, ProfileStore
from moments_desktop.core.reward import parse_reward_payload
from moments_desktop.core.session import EmbeddedSandbox, Session
from moments_desktop.core.tasks import finish_async_generator_finalizers


def answer(sandbox, endpoint, body, **params):
    sandbox.admin.add_fault(endpoint, "status", status=200, body=body, times=1, **params)


def test_an_empty_object_preview_is_its_own_error(sandbox):
    answer(sandbox, "GetRewardInfo", {})
    result = info(sandbox)
    assert type(result.error) is errors.EmptyAnswerError and not result.ok and result.reward is None
    assert result.outcome is Outcome.ERROR and result.exchange.status == 200
    assert result.error.title == "The answer has no reward fields"
    assert "It is not a reward" in result.error.advice and "Raw tab" in result.error.advice
    assert "empty object" in result.error.message
    assert result.exchange.attempts == 1  # an answer, not a failure worth retrying


def test_an_object_of_unknown_keys_only_is_no_reward_either(sandbox):
    answer(sandbox, "GetRewardInfo", {"rewardTitle": "Headphones", "status": "ok"})
    result = info(sandbox)
    assert type(result.error) is errors.EmptyAnswerError
    assert "holds only rewardTitle, status" in result.error.message


@pytest.mark.parametrize("payload", [{"rewardNotificationText": None}, {"rewardImageUrl": None, "x": 1}])
def test_reward_fields_that_are_all_null_are_no_reward(payload):
    with pytest.raises(errors.EmptyAnswerError):
        parse_reward_payload(payload)


@pytest.mark.parametrize("payload", [{"remainingRewardCount": 0}, {"rewardNotificationText": ""},
                                     {"campaignEndDate": "2031-01-01", "extra": True}])
def test_one_reward_field_is_enough_to_be_a_reward(payload):
    reward = parse_reward_payload(payload)
    assert reward.raw == payload


def test_an_empty_list_stays_no_reward(sandbox):
    answer(sandbox, "GetRewardInfo", [])
    result = info(sandbox)
    assert type(result.error) is errors.NoRewardError and result.outcome is Outcome.NO_REWARD


def test_an_empty_object_preview_is_journaled_as_an_error(sandbox, journal):
    answer(sandbox, "GetRewardInfo", {})

    async def scenario():
        async with httpx.AsyncClient() as http:
            result = await Operations(MomentsClient(http), journal).preview(
                ProfileRef("p", "P"), demo_request(sandbox), sandbox.demo_key)
        await finish_async_generator_finalizers()
        return result

    asyncio.run(scenario())
    (row,) = journal.query()
    assert row.outcome is Outcome.ERROR and row.reward_url is None
    assert row.error_message.startswith("The answer has no reward fields")
    assert row.response_body == "{}"


@pytest.mark.parametrize("consume", [True, False])
def test_an_empty_object_claim_is_unknown_never_nothing_happened(sandbox, consume):
    answer(sandbox, "GetReward", {}, consume=consume)
    result = claim(sandbox, live_request(sandbox))
    assert type(result.error) is errors.EmptyAnswerError
    assert result.outcome is Outcome.UNKNOWN and not result.ok
    assert "whether a reward was consumed is unknown" in result.error.advice
    (entry,) = sandbox.admin.ledger()
    # With consume the sandbox did spend one: that is exactly the case "no reward" would hide.
    assert entry["consumed"] is consume and entry["status"] == 200


def test_a_claim_declined_with_a_text_is_still_a_decline(sandbox):
    answer(sandbox, "GetReward", {"rewardNotificationText": "This reward is sold out."})
    result = claim(sandbox)
    assert type(result.error) is errors.BusinessError and result.outcome is Outcome.NO_REWARD
    assert result.error.message == "This reward is sold out."


def test_the_claim_plan_remembers_a_preview_that_was_no_reward(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))
    answer(sandbox, "GetRewardInfo", {})

    async def main():
        http = make_client()
        session = Session(ProfileStore(tmp_path / "profiles.json"), CredentialStore(MemoryKeyring()),
                          Journal(tmp_path / "journal.sqlite3"), http,
                          sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key), clock=time.monotonic)
        try:
            result = await session.preview(DEMO_PROFILE_ID)
            return result, session.plan_claim(DEMO_PROFILE_ID)
        finally:
            await session.aclose()

    result, plan = asyncio.run(main())
    assert type(result.error) is errors.EmptyAnswerError
    last = plan.last_preview
    assert last is not None and last.reward is None and type(last.error) is errors.EmptyAnswerError

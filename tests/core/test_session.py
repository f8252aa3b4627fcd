"""The Session's rules, with no Qt: a real Session over the real sandbox on loopback.

Each test builds its Session inside the coroutine it runs (the HTTP client is made and closed on
one loop) and closes it in a ``finally``. Where a rule is about what was or was not sent, the
sandbox says so: its ledger records every GetReward that reached it, and a one-shot fault on
GetRewardInfo (a "tripwire") is used up by the first preview that arrives, so a tripwire still
listed proves that no preview reached the sandbox.
"""

import asyncio
import dataclasses
import socket
import sqlite3
import time
from decimal import Decimal

import keyring.backends.fail
import pytest
from memory_keyring import MemoryKeyring
from session_helpers import run_session as run

import moments_desktop.core.session as session_module
from moments_desktop.api_schema import BODY_FIELDS, Endpoint, Outcome
from moments_desktop.core.catalog_choices import SandboxCatalog
from moments_desktop.core.credentials import SERVICE, KeyringUnavailableError
from moments_desktop.core.errors import (
    ConnectionDroppedError,
    ForbiddenError,
    MissingKeyError,
    NoRewardError,
    NotSentError,
    SandboxNotRunningError,
)
from moments_desktop.core.journal import JournalError
from moments_desktop.core.operations import ClaimInProgressError
from moments_desktop.core.profiles import DEMO_PROFILE_ID, EMBEDDED_SANDBOX_URL, Profile, ProfileStore
from moments_desktop.core.session import (
    CATALOG_FRESH_S,
    CATALOG_RETRY_S,
    BuiltinProfileError,
    ClaimStoppedError,
    ConfirmationError,
    ProfileRules,
    ProfileTransferError,
    Session,
    confirmation_ok,
)

OTHER_ENDPOINT = "https://moments.example.test/prod"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """The error log (written for an UnexpectedError) goes to the test's folder."""
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))


def body(sandbox, **changes):
    """The demo request body with some fields changed."""
    return {**sandbox.demo_body, **changes}


def own_profile(session, sandbox, name="Mine", **changes) -> Profile:
    """A profile of the user's own (not built in) pointing at the sandbox, with no key."""
    values = {"name": name, "base_url": sandbox.base_url, **sandbox.demo_body, **changes}
    return session.profiles.add(Profile(**values))


def fields_of(profile: Profile) -> dict[str, str]:
    return {name: getattr(profile, name) for name in BODY_FIELDS}


def unused_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def tripwire(sandbox) -> str:
    """A one-shot, harmless fault on GetRewardInfo: the next preview to arrive uses it up."""
    return sandbox.admin.add_fault(Endpoint.GET_REWARD_INFO, "latency", seconds=0, times=1)["id"]


def tripped(sandbox, fault_id: str) -> bool:
    """Whether a preview reached the sandbox since ``tripwire()``."""
    return fault_id not in [f["id"] for f in sandbox.admin.faults()]


async def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fetches(monkeypatch):
    """Every catalog fetch the Session starts, by URL (the real fetch still runs)."""
    calls: list[str] = []
    original = session_module.fetch_catalog

    async def counting(http, base_url, *args, **kwargs):
        calls.append(base_url)
        return await original(http, base_url, *args, **kwargs)

    monkeypatch.setattr(session_module, "fetch_catalog", counting)
    return calls


def group_remaining(catalog: SandboxCatalog, campaign_id: str, group_id: str) -> int | None:
    return next(g.remaining for g in catalog.campaign(campaign_id).reward_groups if g.id == group_id)


# --- key resolution ------------------------------------------------------------------------------


def test_demo_preview_uses_the_embedded_sandbox_key_held_in_memory(sandbox, tmp_path):
    backend = MemoryKeyring()

    async def scenario(s):
        result = await s.preview(DEMO_PROFILE_ID)
        reads_after_preview = backend.reads
        return result, reads_after_preview, await s.has_key(DEMO_PROFILE_ID), s.credentials.has_key(DEMO_PROFILE_ID)

    result, reads, has_key, store_has_key = run(sandbox, tmp_path, scenario, keyring_backend=backend)
    assert result.ok and result.outcome is Outcome.SUCCESS
    assert result.exchange.url == f"{sandbox.base_url}/GetRewardInfo"
    assert result.reward.remaining_count == 100
    assert reads == 0  # the keyring was not even asked
    assert has_key is False and store_has_key is False
    assert backend.store == {}


def test_demo_without_an_embedded_sandbox_raises_and_sends_nothing(sandbox, tmp_path):
    wire = tripwire(sandbox)

    async def scenario(s):
        assert s.sandbox_url is None
        assert s.stored_values(DEMO_PROFILE_ID)[0] == EMBEDDED_SANDBOX_URL
        with pytest.raises(SandboxNotRunningError):
            await s.preview(DEMO_PROFILE_ID)
        with pytest.raises(SandboxNotRunningError):  # the sentinel is no URL: said as the preview says it
            s.plan_claim(DEMO_PROFILE_ID)
        # With a real URL typed into the form the plan exists, but there is still no key to send.
        plan = s.plan_claim(DEMO_PROFILE_ID, base_url=sandbox.base_url)
        assert plan.live  # not the profile's own endpoint: confirmed like a live claim
        with pytest.raises(ClaimStoppedError) as stopped:
            await s.claim(plan, typed=plan.typed_confirmation)
        assert isinstance(stopped.value.error, SandboxNotRunningError)
        assert stopped.value.may_have_been_sent is False
        return s.journal.count()

    assert run(sandbox, tmp_path, scenario, embedded=False) == 0
    assert sandbox.admin.ledger() == []
    assert not tripped(sandbox, wire)


def test_own_profile_without_a_stored_key_raises_missing_key(sandbox, tmp_path):
    wire = tripwire(sandbox)

    async def scenario(s):
        mine = own_profile(s, sandbox)
        with pytest.raises(MissingKeyError):
            await s.preview(mine.id)
        return s.journal.count()

    assert run(sandbox, tmp_path, scenario) == 0
    assert not tripped(sandbox, wire)


def test_stored_key_is_used(sandbox, tmp_path):
    backend = MemoryKeyring()
    wire = tripwire(sandbox)

    async def scenario(s):
        mine = own_profile(s, sandbox)
        where = await s.store_key(mine.id, sandbox.demo_key)
        assert where == s.credentials.backend_name()
        return mine, await s.preview(mine.id)

    mine, result = run(sandbox, tmp_path, scenario, keyring_backend=backend)
    assert backend.store == {(SERVICE, mine.id): sandbox.demo_key}
    assert backend.reads >= 1
    assert result.ok and result.reward.remaining_count == 100
    assert tripped(sandbox, wire)  # the preview did reach the sandbox (and the tripwire works)


# --- resolve, stored values, save ----------------------------------------------------------------


def test_resolve_puts_unsaved_form_values_in_place_of_stored_ones(sandbox, tmp_path):
    async def scenario(s):
        mine = own_profile(s, sandbox)
        stored = s.resolve(mine.id)
        assert stored.base_url == sandbox.base_url and stored.body() == sandbox.demo_body
        edited_fields = body(sandbox, campaignId="LIVECAMP1", rewardGroupId="JP")
        both = s.resolve(mine.id, OTHER_ENDPOINT, edited_fields)
        assert both.base_url == OTHER_ENDPOINT and both.body() == edited_fields
        only_url = s.resolve(mine.id, base_url=OTHER_ENDPOINT, fields=None)
        assert only_url.base_url == OTHER_ENDPOINT and only_url.body() == sandbox.demo_body
        only_fields = s.resolve(mine.id, base_url=None, fields=edited_fields)
        assert only_fields.base_url == sandbox.base_url and only_fields.body() == edited_fields
        # Resolving saves nothing.
        assert s.profile(mine.id).base_url == sandbox.base_url
        assert fields_of(s.profile(mine.id)) == sandbox.demo_body

    run(sandbox, tmp_path, scenario)


def test_demo_shows_the_real_sandbox_url_and_saving_it_keeps_the_sentinel(sandbox, tmp_path):
    path = tmp_path / "profiles.json"

    async def scenario(s):
        url, fields = s.stored_values(DEMO_PROFILE_ID)
        assert url == sandbox.base_url and fields == sandbox.demo_body
        assert s.resolve(DEMO_PROFILE_ID).base_url == sandbox.base_url
        saved = await s.save_profile(DEMO_PROFILE_ID, url, {**fields, "momentId": "LEVEL_UP"})
        assert saved.base_url == EMBEDDED_SANDBOX_URL and saved.momentId == "LEVEL_UP"
        assert s.stored_values(DEMO_PROFILE_ID) == (sandbox.base_url, body(sandbox, momentId="LEVEL_UP"))
        # A profile of one's own keeps the URL as typed.
        mine = own_profile(s, sandbox)
        assert (await s.save_profile(mine.id, OTHER_ENDPOINT, fields)).base_url == OTHER_ENDPOINT

    run(sandbox, tmp_path, scenario)
    text = path.read_text(encoding="utf-8")
    assert EMBEDDED_SANDBOX_URL in text and sandbox.base_url not in text
    reloaded = ProfileStore(path).get(DEMO_PROFILE_ID)
    assert reloaded.base_url == EMBEDDED_SANDBOX_URL and reloaded.momentId == "LEVEL_UP"


# --- preview: journaled and remembered ---------------------------------------------------------


def test_preview_is_journaled_and_remembered_for_the_claim_plan(sandbox, tmp_path):
    async def scenario(s):
        assert s.plan_claim(DEMO_PROFILE_ID).last_preview is None
        assert s.journal.count() == 0
        await s.preview(DEMO_PROFILE_ID)
        assert s.journal.count() == 1
        [row] = s.journal.query()
        assert row.endpoint == Endpoint.GET_REWARD_INFO and row.profile_id == DEMO_PROFILE_ID
        plan = s.plan_claim(DEMO_PROFILE_ID)
        last = plan.last_preview
        assert last is not None and last.error is None and last.claims_since == 0
        assert last.reward.remaining_count == 100 == sandbox.admin.remaining("DEMOCAMP1", "US")
        assert plan.claims_since_preview == 0
        assert s.last_preview(s.resolve(DEMO_PROFILE_ID)) is last
        # The same target written with stray spaces and a trailing slash is still the same target.
        padded = {name: f" {value} " for name, value in sandbox.demo_body.items()}
        assert s.plan_claim(DEMO_PROFILE_ID, sandbox.base_url + "/", padded).last_preview is last

    run(sandbox, tmp_path, scenario)


def test_preview_of_another_target_is_not_the_last_preview_of_this_one(sandbox, tmp_path):
    async def scenario(s):
        live_fields = body(sandbox, campaignId="LIVECAMP1")
        await s.preview(DEMO_PROFILE_ID, fields=live_fields)
        assert s.plan_claim(DEMO_PROFILE_ID).last_preview is None
        live_plan = s.plan_claim(DEMO_PROFILE_ID, fields=live_fields)
        assert live_plan.last_preview.reward.remaining_count == 25
        # Another reward group of the same campaign is another target too.
        assert s.plan_claim(DEMO_PROFILE_ID, fields=body(sandbox, campaignId="LIVECAMP1", rewardGroupId="JP")
                            ).last_preview is None

    run(sandbox, tmp_path, scenario)


def test_an_answer_without_a_reward_is_remembered(sandbox, tmp_path):
    async def scenario(s):
        unknown = body(sandbox, campaignId="NOSUCHCAMP")
        result = await s.preview(DEMO_PROFILE_ID, fields=unknown)
        assert result.outcome is Outcome.NO_REWARD
        last = s.plan_claim(DEMO_PROFILE_ID, fields=unknown).last_preview
        assert last is not None and last.reward is None and isinstance(last.error, NoRewardError)

    run(sandbox, tmp_path, scenario)


def test_a_transport_failure_is_not_remembered(sandbox, tmp_path):
    nowhere = unused_url()

    async def scenario(s):
        await s.preview(DEMO_PROFILE_ID)
        remembered = s.plan_claim(DEMO_PROFILE_ID).last_preview
        sandbox.admin.add_fault(Endpoint.GET_REWARD_INFO, "drop_before_read", times=1)
        dropped = await s.preview(DEMO_PROFILE_ID)
        assert dropped.outcome is Outcome.ERROR and isinstance(dropped.error, ConnectionDroppedError)
        assert s.plan_claim(DEMO_PROFILE_ID).last_preview is remembered  # the answered one stays
        unreachable = await s.preview(DEMO_PROFILE_ID, base_url=nowhere)
        assert unreachable.outcome is Outcome.NOT_SENT and isinstance(unreachable.error, NotSentError)
        assert s.plan_claim(DEMO_PROFILE_ID, base_url=nowhere).last_preview is None
        assert s.journal.count() == 3  # journaled all the same

    run(sandbox, tmp_path, scenario, info_retries=0)


# --- claims since the preview ---------------------------------------------------------------------


def test_claims_since_preview_counts_claims_to_the_same_target(sandbox, tmp_path):
    async def scenario(s):
        await s.preview(DEMO_PROFILE_ID)
        before = s.plan_claim(DEMO_PROFILE_ID)
        assert (await s.claim(before)).reward_url
        after = s.plan_claim(DEMO_PROFILE_ID)
        assert after.claims_since_preview == 1
        assert after.last_preview.at == before.last_preview.at
        assert after.last_preview.reward == before.last_preview.reward
        # The earlier plan is what it was: LastPreview is frozen and was replaced, not changed.
        assert before.claims_since_preview == 0 and before.last_preview.claims_since == 0
        with pytest.raises(dataclasses.FrozenInstanceError):
            before.last_preview.claims_since = 5
        # A claim to another target leaves this count alone.
        await s.claim(s.plan_claim(DEMO_PROFILE_ID, fields=body(sandbox, rewardGroupId="JP")))
        assert s.plan_claim(DEMO_PROFILE_ID).claims_since_preview == 1
        await s.claim(s.plan_claim(DEMO_PROFILE_ID))
        assert s.plan_claim(DEMO_PROFILE_ID).claims_since_preview == 2
        # A new preview starts the count again.
        await s.preview(DEMO_PROFILE_ID)
        assert s.plan_claim(DEMO_PROFILE_ID).claims_since_preview == 0

    run(sandbox, tmp_path, scenario)
    assert len(sandbox.admin.ledger()) == 3


# --- the live rule -----------------------------------------------------------------------------------


def test_live_profile_needs_the_campaign_id_typed_exactly(sandbox, tmp_path):
    async def scenario(s):
        live = own_profile(s, sandbox, name="Live", campaignId="LIVECAMP1", live=True)
        await s.store_key(live.id, sandbox.demo_key)
        plan = s.plan_claim(live.id)
        assert plan.live and plan.needs_typed_confirmation and plan.typed_confirmation == "LIVECAMP1"
        for typed in (None, "", "livecamp1", "LIVECAMP1 ", " LIVECAMP1", "LIVECAMP", "DEMOCAMP1"):
            assert confirmation_ok(plan, typed) is False, typed
        assert confirmation_ok(plan, "LIVECAMP1") is True
        # What must be typed is the campaign the plan sends, trimmed as it will be sent.
        edited = s.plan_claim(live.id, fields=body(sandbox, campaignId="  FINCAMP1 "))
        assert edited.typed_confirmation == "FINCAMP1" and not confirmation_ok(edited, "LIVECAMP1")

        for typed in ("wrong", None, "livecamp1"):
            with pytest.raises(ConfirmationError):
                await s.claim(plan, typed=typed)
        assert sandbox.admin.ledger() == []
        assert s.journal.count({"endpoint": Endpoint.GET_REWARD}) == 0
        assert not s.claim_in_flight

        result = await s.claim(plan, typed="LIVECAMP1")
        assert result.reward_url and result.call.outcome is Outcome.SUCCESS
        assert s.journal.count({"endpoint": Endpoint.GET_REWARD}) == 1
        return result

    result = run(sandbox, tmp_path, scenario)
    [sent] = sandbox.admin.ledger()
    assert sent["reward_url"] == result.reward_url and sent["request"]["campaignId"] == "LIVECAMP1"
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24


def test_test_mode_profile_needs_no_typed_confirmation(sandbox, tmp_path):
    async def scenario(s):
        plan = s.plan_claim(DEMO_PROFILE_ID)
        assert not plan.live and not plan.needs_typed_confirmation
        assert confirmation_ok(plan, None) is True and confirmation_ok(plan, "anything") is True
        return await s.claim(plan)

    result = run(sandbox, tmp_path, scenario)
    assert result.reward_url
    assert [entry["reward_url"] for entry in sandbox.admin.ledger()] == [result.reward_url]


# --- one claim at a time ------------------------------------------------------------------------------


def test_a_claim_is_refused_while_another_is_in_flight(sandbox, tmp_path):
    sandbox.admin.add_fault(Endpoint.GET_REWARD, "latency", seconds=1, times=1)

    async def scenario(s):
        plan = s.plan_claim(DEMO_PROFILE_ID)
        assert not s.claim_in_flight
        first = asyncio.create_task(s.claim(plan))
        try:
            await asyncio.sleep(0)
            assert s.claim_in_flight
            # The intent is committed just before the request goes out: it is on its way now.
            await until(lambda: s.journal.count({"endpoint": Endpoint.GET_REWARD}) == 1)
            assert s.claim_in_flight and not first.done()
            with pytest.raises(ClaimInProgressError):
                await s.claim(plan)
            assert s.claim_in_flight and not first.done()  # the refusal did not release the first one's flag
            result = await first
        finally:
            if not first.done():
                first.cancel()
                await asyncio.gather(first, return_exceptions=True)
        assert not s.claim_in_flight
        assert result.reward_url
        assert len(sandbox.admin.ledger()) == 1  # the refused claim sent nothing
        third = await s.claim(plan)  # the next claim on the same Session works
        assert third.reward_url and not s.claim_in_flight
        return s.journal.count({"endpoint": Endpoint.GET_REWARD})

    assert run(sandbox, tmp_path, scenario) == 2
    assert len(sandbox.admin.ledger()) == 2


def test_a_claim_without_a_key_stops_before_sending(sandbox, tmp_path):
    async def scenario(s):
        mine = own_profile(s, sandbox)
        plan = s.plan_claim(mine.id)
        with pytest.raises(ClaimStoppedError) as stopped:
            await s.claim(plan)
        assert stopped.value.may_have_been_sent is False
        assert isinstance(stopped.value.error, MissingKeyError)
        assert stopped.value.title == MissingKeyError.title
        assert not s.claim_in_flight
        assert sandbox.admin.ledger() == [] and s.journal.count() == 0
        # The in-flight flag was released: once the key is stored the same plan is sent.
        await s.store_key(mine.id, sandbox.demo_key)
        return await s.claim(plan)

    assert run(sandbox, tmp_path, scenario).reward_url
    assert len(sandbox.admin.ledger()) == 1


def test_a_claim_whose_answer_cannot_be_journaled_is_shown_and_rescued(sandbox, tmp_path):
    """The answer arrived but every try to commit it failed: the URL is returned all the same (and kept in
    the rescue file), the claim counts as sent. (The real lock of a second process: test_journal_failures.py.)"""
    tries = []

    async def journal_fails_on_complete(fn, *args, **kwargs):
        if getattr(fn, "__name__", "") == "complete":
            tries.append(fn)
            raise JournalError("database or disk is full")
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def scenario(s):
        plan = s.plan_claim(DEMO_PROFILE_ID, fields=body(sandbox, campaignId="LIVECAMP1"))
        result = await s.claim(plan, "LIVECAMP1")
        assert not s.claim_in_flight
        return result

    result = run(sandbox, tmp_path, scenario, run_blocking=journal_fails_on_complete)
    ledger = sandbox.admin.ledger()
    assert len(ledger) == 1 and result.reward_url == ledger[0]["reward_url"]
    assert len(tries) == 3 and result.journal_id is None
    assert result.journal_error.reason == "the disk is full"
    assert result.rescue_path == tmp_path / "journal-rescue.jsonl"
    assert ledger[0]["reward_url"] in result.rescue_path.read_text()
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24


# --- the sandbox catalog cache ---------------------------------------------------------------------


def test_catalog_is_fetched_once_while_fresh(sandbox, tmp_path, fetches):
    clock = Clock()

    async def scenario(s):
        first = await s.catalog(sandbox.base_url)
        assert isinstance(first, SandboxCatalog)
        assert [c.id for c in first.campaigns][:4] == ["DEMOCAMP1", "LIVECAMP1", "FINCAMP1", "SUSPCAMP1"]
        assert group_remaining(first, "LIVECAMP1", "US") == 25
        assert fetches == [sandbox.base_url]
        clock.now += CATALOG_FRESH_S - 0.5
        assert await s.catalog(sandbox.base_url + "/") is first  # the same endpoint, still fresh
        assert s.cached_catalog(sandbox.base_url) == (True, first)
        assert len(fetches) == 1
        clock.now += 1.0
        assert s.cached_catalog(sandbox.base_url) == (False, None)
        second = await s.catalog(sandbox.base_url)
        assert isinstance(second, SandboxCatalog) and second is not first
        assert len(fetches) == 2

    run(sandbox, tmp_path, scenario, clock=clock)


def test_a_sent_claim_drops_the_cached_catalog(sandbox, tmp_path, fetches):
    clock = Clock()

    async def scenario(s):
        before = await s.catalog(sandbox.base_url)
        assert group_remaining(before, "LIVECAMP1", "US") == 25
        # A claim that stops before sending changes no stock: the cache stays.
        keyless = own_profile(s, sandbox, campaignId="LIVECAMP1")
        with pytest.raises(ClaimStoppedError):
            await s.claim(s.plan_claim(keyless.id))
        assert s.cached_catalog(sandbox.base_url) == (True, before)
        plan = s.plan_claim(DEMO_PROFILE_ID, fields=body(sandbox, campaignId="LIVECAMP1", rewardGroupId="US"))
        assert not plan.live  # the demo profile is test mode, whatever the campaign
        assert (await s.claim(plan)).reward_url
        assert s.cached_catalog(sandbox.base_url) == (False, None)
        assert len(fetches) == 1
        after = await s.catalog(sandbox.base_url)
        assert len(fetches) == 2
        assert group_remaining(after, "LIVECAMP1", "US") == 24

    run(sandbox, tmp_path, scenario, clock=clock)
    assert sandbox.admin.remaining("LIVECAMP1", "US") == 24


def test_catalog_of_an_endpoint_that_is_no_sandbox_is_none(sandbox, tmp_path, fetches):
    clock = Clock()
    nope = sandbox.base_url + "/nope"
    nowhere = unused_url()

    async def scenario(s):
        # It answered, but not with a catalog: it will not become a sandbox, so it is never asked again.
        assert await s.catalog(nope) is None
        clock.now += 1e6
        assert await s.catalog(nope) is None
        assert fetches == [nope]
        # Unreachable: no choices now, asked again after a while (a sandbox may be started later).
        assert await s.catalog(nowhere) is None
        clock.now += CATALOG_RETRY_S - 1
        assert await s.catalog(nowhere) is None
        assert fetches == [nope, nowhere]
        # A claim that was not sent (nothing listens there) does not drop that cached answer.
        mine = own_profile(s, sandbox, base_url=nowhere)
        await s.store_key(mine.id, sandbox.demo_key)
        result = await s.claim(s.plan_claim(mine.id))
        assert result.call.outcome is Outcome.NOT_SENT and isinstance(result.call.error, NotSentError)
        assert s.cached_catalog(nowhere) == (True, None)
        clock.now += 2
        assert await s.catalog(nowhere) is None
        assert fetches == [nope, nowhere, nowhere]

    run(sandbox, tmp_path, scenario, clock=clock)
    assert sandbox.admin.ledger() == []


def test_concurrent_catalog_calls_make_one_fetch(sandbox, tmp_path, fetches):
    async def scenario(s):
        first, second = await asyncio.gather(s.catalog(sandbox.base_url), s.catalog(sandbox.base_url + "/"))
        assert isinstance(first, SandboxCatalog) and second is first
        assert fetches == [sandbox.base_url]

    run(sandbox, tmp_path, scenario)


# --- the built-in profile ---------------------------------------------------------------------------


def test_profile_rules(sandbox, tmp_path):
    async def scenario(s):
        assert s.rules(DEMO_PROFILE_ID) == ProfileRules(rename=False, delete=False, edit_settings=False,
                                                        store_key=False)
        mine = own_profile(s, sandbox)
        assert s.rules(mine.id) == ProfileRules(rename=True, delete=True, edit_settings=True, store_key=True)
        # A copy of the demo is the user's own, but its key is still the embedded sandbox's.
        copy, _ = await s.duplicate_profile(DEMO_PROFILE_ID)
        assert s.rules(copy.id) == ProfileRules(rename=True, delete=True, edit_settings=True, store_key=False)

    run(sandbox, tmp_path, scenario)


def test_the_builtin_profile_cannot_be_renamed_deleted_reconfigured_or_given_a_key(sandbox, tmp_path):
    backend = MemoryKeyring()
    path = tmp_path / "profiles.json"

    async def scenario(s):
        own_profile(s, sandbox)  # so that profiles.json exists
        before = path.read_bytes()
        demo = s.profile(DEMO_PROFILE_ID)
        attempts = (
            lambda: s.rename_profile(DEMO_PROFILE_ID, "Renamed"),
            lambda: s.delete_profile(DEMO_PROFILE_ID),
            lambda: s.delete_profile(DEMO_PROFILE_ID, even_if_key_remains=True),
            lambda: s.save_settings(DEMO_PROFILE_ID, live=True, cost_per_action=Decimal("1.50"), currency="EUR",
                                    notes="changed"),
            lambda: s.store_key(DEMO_PROFILE_ID, "some-key-0001"),
        )
        for attempt in attempts:
            with pytest.raises(BuiltinProfileError):
                await attempt()
        assert path.read_bytes() == before
        assert s.profile(DEMO_PROFILE_ID) == demo
        assert DEMO_PROFILE_ID in [p.id for p in s.profile_list()]
        assert not await s.has_key(DEMO_PROFILE_ID)

    run(sandbox, tmp_path, scenario, keyring_backend=backend)
    assert backend.store == {}
    reloaded = ProfileStore(path).get(DEMO_PROFILE_ID)
    assert reloaded.name == "Sandbox demo" and reloaded.live is False and reloaded.notes != "changed"


# --- delete and duplicate -----------------------------------------------------------------------------


def test_delete_profile_deletes_its_key(sandbox, tmp_path):
    backend = MemoryKeyring()
    path = tmp_path / "profiles.json"

    async def scenario(s):
        mine = own_profile(s, sandbox)
        other = own_profile(s, sandbox, name="Other")
        await s.store_key(mine.id, "key-of-mine-0001")
        await s.store_key(other.id, "key-of-other-0001")
        assert await s.delete_profile(mine.id) is None
        assert mine.id not in s.profiles and other.id in s.profiles
        return mine, other

    mine, other = run(sandbox, tmp_path, scenario, keyring_backend=backend)
    assert backend.store == {(SERVICE, other.id): "key-of-other-0001"}
    assert mine.id not in path.read_text(encoding="utf-8")


def test_delete_profile_when_the_keychain_fails(sandbox, tmp_path):
    path = tmp_path / "profiles.json"

    async def scenario(s):
        mine = own_profile(s, sandbox)
        with pytest.raises(KeyringUnavailableError):
            await s.delete_profile(mine.id)
        assert mine.id in s.profiles and mine.id in ProfileStore(path)  # kept: the user decides
        warning = await s.delete_profile(mine.id, even_if_key_remains=True)
        assert mine.id not in s.profiles
        return mine, warning

    mine, warning = run(sandbox, tmp_path, scenario, keyring_backend=keyring.backends.fail.Keyring())
    assert f"service “{SERVICE}”" in warning and f"account “{mine.id}”" in warning
    assert mine.id not in ProfileStore(path)


def test_duplicate_profile_copies_the_key(sandbox, tmp_path):
    backend = MemoryKeyring()

    async def scenario(s):
        mine = own_profile(s, sandbox, campaignId="LIVECAMP1", live=True)
        await s.store_key(mine.id, "key-of-mine-0001")
        copy, warning = await s.duplicate_profile(mine.id)
        named, named_warning = await s.duplicate_profile(mine.id, "Named copy")
        return mine, copy, warning, named, named_warning

    mine, copy, warning, named, named_warning = run(sandbox, tmp_path, scenario, keyring_backend=backend)
    assert warning is None and named_warning is None
    assert copy.id != mine.id and copy.name == "Mine copy" and named.name == "Named copy"
    assert fields_of(copy) == fields_of(mine) and copy.live is True and copy.base_url == sandbox.base_url
    assert backend.store == {(SERVICE, pid): "key-of-mine-0001" for pid in (mine.id, copy.id, named.id)}
    assert copy.id in ProfileStore(tmp_path / "profiles.json")


def test_duplicate_profile_when_the_keychain_fails_keeps_the_copy_without_a_key(sandbox, tmp_path):
    async def scenario(s):
        mine = own_profile(s, sandbox)
        copy, warning = await s.duplicate_profile(mine.id)
        assert copy.id in s.profiles and copy.id != mine.id
        return copy, warning

    copy, warning = run(sandbox, tmp_path, scenario, keyring_backend=keyring.backends.fail.Keyring())
    assert warning.startswith(f"“{copy.name}” was created without the API key")
    assert copy.id in ProfileStore(tmp_path / "profiles.json")


def test_duplicating_the_demo_copies_no_key(sandbox, tmp_path):
    backend = MemoryKeyring()

    async def scenario(s):
        copy, warning = await s.duplicate_profile(DEMO_PROFILE_ID)
        assert warning is None
        assert copy.base_url == EMBEDDED_SANDBOX_URL and fields_of(copy) == sandbox.demo_body
        result = await s.preview(copy.id)  # the copy previews with the embedded sandbox's key
        assert result.ok and result.reward.remaining_count == 100

    run(sandbox, tmp_path, scenario, keyring_backend=backend)
    assert backend.store == {} and backend.reads == 0


def test_duplicating_the_demo_does_not_touch_a_failing_keychain(sandbox, tmp_path):
    async def scenario(s):
        return await s.duplicate_profile(DEMO_PROFILE_ID)

    copy, warning = run(sandbox, tmp_path, scenario, keyring_backend=keyring.backends.fail.Keyring())
    assert warning is None and copy.name == "Sandbox demo copy"


# --- create from a template ----------------------------------------------------------------------------


def test_create_profile_from_the_demo_stays_on_the_embedded_sandbox_never_production(sandbox, tmp_path):
    """issue 11 finding 13: New… from the demo used to pre-fill the production endpoint."""
    async def scenario(s):
        new = await s.create_profile("From demo", DEMO_PROFILE_ID)
        assert not await s.has_key(new.id)
        assert s.base_url_for(new) == sandbox.base_url  # what the form shows
        return new

    new = run(sandbox, tmp_path, scenario)
    assert new.id != DEMO_PROFILE_ID and fields_of(new) == sandbox.demo_body
    assert new.base_url == EMBEDDED_SANDBOX_URL and new.uses_embedded_sandbox and not new.is_builtin
    assert new.live is False and new.cost_per_action is None and new.currency == "USD"
    assert ProfileStore(tmp_path / "profiles.json").get(new.id).base_url == EMBEDDED_SANDBOX_URL


def test_create_profile_from_a_real_endpoint_copies_its_url_and_claim_settings(sandbox, tmp_path):
    async def scenario(s):
        template = own_profile(s, sandbox, name="Template", base_url=OTHER_ENDPOINT, campaignId="LIVECAMP1",
                               live=False, cost_per_action=Decimal("0.25"), currency="EUR", notes="not copied",
                               is_sandbox=True, preview_deadline_s=12.0, image_deadline_s=8.0,
                               claim_deadline_s=45.0)
        await s.store_key(template.id, "key-of-template-0001")
        insecure = own_profile(s, sandbox, name="Insecure", base_url="http://replica.example.test/prod",
                               allow_insecure=True, live=True)
        new = await s.create_profile("From template", template.id)
        from_insecure = await s.create_profile("From insecure", insecure.id)
        assert not await s.has_key(new.id)
        return template, new, from_insecure

    template, new, from_insecure = run(sandbox, tmp_path, scenario)
    assert new.base_url == OTHER_ENDPOINT and fields_of(new) == fields_of(template)
    assert new.live is False and new.cost_per_action == Decimal("0.25") and new.currency == "EUR"
    assert new.notes == ""
    assert new.is_sandbox is True  # the endpoint is the same, so is what it is
    assert (new.preview_deadline_s, new.image_deadline_s, new.claim_deadline_s) == (12.0, 8.0, 45.0)
    assert from_insecure.base_url == "http://replica.example.test/prod"
    assert from_insecure.allow_insecure is True and from_insecure.live is True


# --- the key test -----------------------------------------------------------------------------------------


def test_test_key_verdicts(sandbox, tmp_path):
    nowhere = unused_url()

    async def scenario(s):
        assert await s.test_key(DEMO_PROFILE_ID) is None
        wrong = own_profile(s, sandbox, name="Wrong key")
        await s.store_key(wrong.id, "not-the-right-key-0001")
        refused = await s.test_key(wrong.id)
        assert isinstance(refused, ForbiddenError) and refused.status == 403
        # An unknown campaign answers [] - past authentication, so the key works.
        assert await s.test_key(DEMO_PROFILE_ID, fields=body(sandbox, campaignId="NOSUCHCAMP")) is None
        assert isinstance(await s.test_key(DEMO_PROFILE_ID, base_url=nowhere), NotSentError)
        keyless = own_profile(s, sandbox, name="No key")
        assert isinstance(await s.test_key(keyless.id), MissingKeyError)  # returned, not raised
        return s.journal.count()

    assert run(sandbox, tmp_path, scenario, info_retries=0) == 4  # every sent test is journaled


# --- export and import --------------------------------------------------------------------------------


def test_export_and_import_never_write_a_key(sandbox, tmp_path):
    secret = "sk-export-secret-0001"
    export = tmp_path / "export.json"

    async def scenario(s):
        mine = own_profile(s, sandbox, name="Exported", campaignId="LIVECAMP1")
        await s.store_key(mine.id, secret)
        assert await s.export_profiles(export) == 1
        report = await s.read_import(export)
        assert report.file_error is None and [c.label for c in report.candidates] == ["Exported"]
        [imported] = await s.apply_import(report)
        assert not await s.has_key(imported.id)
        with pytest.raises(ProfileTransferError):
            await s.export_profiles(tmp_path)  # a folder, not a file
        return mine, imported

    mine, imported = run(sandbox, tmp_path, scenario)
    text = export.read_text(encoding="utf-8")
    assert "Exported" in text and DEMO_PROFILE_ID not in text
    assert imported.id != mine.id and imported.name == "Exported (2)"
    assert imported.base_url == sandbox.base_url and fields_of(imported) == fields_of(mine)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


# --- closing -------------------------------------------------------------------------------------------


def test_after_aclose_the_session_is_closed_and_refuses_claims(sandbox, tmp_path):
    async def scenario(s):
        plan = s.plan_claim(DEMO_PROFILE_ID)
        assert not s.closed
        await s.aclose()
        assert s.closed and s.http.is_closed
        with pytest.raises(sqlite3.ProgrammingError):  # the journal is closed
            s.journal.count()
        with pytest.raises(ClaimStoppedError) as stopped:
            await s.claim(plan)
        assert stopped.value.may_have_been_sent is False
        assert not s.claim_in_flight
        await s.aclose()  # a second close is harmless

    run(sandbox, tmp_path, scenario)
    assert sandbox.admin.ledger() == []


def test_aclose_cancels_a_running_catalog_fetch(sandbox, tmp_path, monkeypatch):
    started = []

    async def never_answers(http, base_url, *args, **kwargs):
        started.append(base_url)
        await asyncio.Event().wait()

    monkeypatch.setattr(session_module, "fetch_catalog", never_answers)

    async def scenario(s):
        waiting = asyncio.create_task(s.catalog(sandbox.base_url))
        await until(lambda: started)
        async with asyncio.timeout(5):  # a fetch left running would hold aclose() forever
            await s.aclose()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    run(sandbox, tmp_path, scenario)
    assert started == [sandbox.base_url]


# --- rules added after review ------------------------------------------------------------------


def test_the_builtin_profile_cannot_be_pointed_at_another_endpoint(sandbox, tmp_path):
    async def scenario(s):
        fields = s.stored_values(DEMO_PROFILE_ID)[1]
        with pytest.raises(BuiltinProfileError):
            await s.save_profile(DEMO_PROFILE_ID, "https://dnxr7vm27d.execute-api.us-east-1.amazonaws.com/prod",
                                 fields)
        # the sandbox's own URL, even with a trailing slash, is kept as the sentinel
        saved = await s.save_profile(DEMO_PROFILE_ID, sandbox.base_url + "/", dict(fields, campaignId="LIVECAMP1"))
        assert saved.base_url == EMBEDDED_SANDBOX_URL and saved.campaignId == "LIVECAMP1"
        assert not s.rules(DEMO_PROFILE_ID).store_key

    run(sandbox, tmp_path, scenario)


def test_a_claim_to_an_unsaved_endpoint_needs_the_typed_confirmation(sandbox, tmp_path):
    async def scenario(s):
        own = await s.create_profile("Local test mode", DEMO_PROFILE_ID)
        await s.save_profile(own.id, sandbox.base_url, sandbox.demo_body)
        await s.save_settings(own.id, live=False, cost_per_action=None, currency="USD", notes="")
        assert not s.plan_claim(own.id).live  # its own endpoint, declared test mode
        elsewhere = s.plan_claim(own.id, base_url=sandbox.base_url + "/prod")
        assert elsewhere.live and not confirmation_ok(elsewhere, None)
        assert confirmation_ok(elsewhere, elsewhere.typed_confirmation)
        demo_elsewhere = s.plan_claim(DEMO_PROFILE_ID, base_url="https://api.example.com/prod")
        assert demo_elsewhere.live

    run(sandbox, tmp_path, scenario)


def test_a_catalog_read_before_a_claim_is_not_cached_after_it(sandbox, tmp_path, fetches):
    """A fetch that started before the claim and answers after it must not bring the old stock back."""
    async def scenario(s):
        stale = asyncio.ensure_future(s.catalog(sandbox.base_url))
        await asyncio.sleep(0)  # the fetch is under way
        plan = s.plan_claim(DEMO_PROFILE_ID, fields=dict(sandbox.demo_body, campaignId="LIVECAMP1"))
        s.forget_catalog(sandbox.base_url)  # what a sent claim does, while the fetch runs
        await stale
        assert s.cached_catalog(sandbox.base_url) == (False, None)
        await s.claim(plan)
        fresh = await s.catalog(sandbox.base_url)
        return fresh

    fresh = run(sandbox, tmp_path, scenario)
    assert len(fetches) == 2 and fresh is not None


def test_a_claim_that_may_have_been_sent_counts_and_drops_the_catalog(sandbox, tmp_path):
    async def failing_complete(fn, *args, **kwargs):
        if getattr(fn, "__name__", "") == "complete":
            raise OSError("disk full")
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def scenario(s):
        await s.preview(DEMO_PROFILE_ID)
        await s.catalog(sandbox.base_url)
        assert s.cached_catalog(sandbox.base_url)[0]
        result = await s.claim(s.plan_claim(DEMO_PROFILE_ID))
        # Sent and answered, the answer not journaled (rescued instead): it counts like any sent claim.
        assert result.reward_url and result.answer_not_journaled and result.rescue_path is not None
        assert s.plan_claim(DEMO_PROFILE_ID).claims_since_preview == 1
        assert s.cached_catalog(sandbox.base_url) == (False, None)

    run(sandbox, tmp_path, scenario, run_blocking=failing_complete)

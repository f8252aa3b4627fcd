"""The answers the message preview renders against: one per OutcomeKind, real wherever it can be.

Free calls only (getRewardInfo), each journaled as a preview, never as a claim; every call has a
deadline. The reward comes from the profile's own real getRewardInfo. On a sandbox this computer can
administer (a loopback endpoint: the embedded sandbox or a ``moments-sandbox``), the other outcomes
are the sandbox's real behaviour too:

- no reward: the sandbox's ``[]`` for a moment that does not exist (a one-off momentId);
- error text: a campaign of the catalog that gives no rewards (finished, paused…), whose real answer
  holds the error text; failing that, a one-shot fault answering an error text;
- no answer within 2 s: a one-shot ``latency`` fault, called with Braze's 2 s deadline;
- 404: a one-shot ``status`` fault.

The faults carry a ``match`` on the one-off momentId (sandbox/CATALOG.md, "Faults"), so they cannot
hit anyone else's call, and are removed afterwards even when the preview is cancelled (twice, or in the
middle of adding one: each one-off momentId is recorded before its fault is asked for, and the removal
deletes every listed fault matching one of them). Every admin call has an overall deadline and the
removal one budget: a loopback endpoint that is not a sandbox, or drips its answers, costs a few
seconds and gives the documented shapes, never a hang. For any other endpoint the reward is real and
the other outcomes are the documented shapes, labelled so.

GetReward is never called (it is billed): the reward outcome's ``rewardNotificationUrl`` is the last
journaled claim's URL for the same target, or a placeholder, and a note says which.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx

from moments_desktop.api_schema import (
    BODY_FIELDS,
    JSON_MEDIA_TYPE,
    REMAINING_REWARD_COUNT,
    REWARD_IMAGE_URL,
    REWARD_NOTIFICATION_TEXT,
    REWARD_NOTIFICATION_URL,
    SANDBOX_ADMIN_TOKEN_HEADER,
    Endpoint,
    Outcome,
)

from .catalog_choices import SandboxCatalog
from .client import CallResult
from .errors import BusinessError, MomentsError, NoRewardError, PreviewTimeoutError
from .journal import Journal, JournalFilter
from .message_templates import (
    OUTCOME_EXPLANATIONS,
    OUTCOME_LABELS,
    PLACEHOLDER_REWARD_URL,
    OutcomeKind,
    PreviewOutcome,
    documented_outcome,
)
from .reward import decode_json
from .request import RewardRequest, is_loopback_url

# [Braze docs] Connected Content gives up on an endpoint that has not answered within 2 s.
BRAZE_TIMEOUT_S = 2.0
# The late answer comes this long after Braze has given up.
LATE_ANSWER_S = BRAZE_TIMEOUT_S + 1.5
# The overall deadline of each admin call (adding a fault) to a sandbox on this computer: a sandbox
# answers in milliseconds; whatever takes longer (a proxy, a replica that drips) is not one to drive.
ADMIN_TIMEOUT_S = 2.0
# The overall budget of the whole removal of the faults (listing them, deleting ours).
CLEANUP_BUDGET_S = 4.0
# [sandbox catalog, CATALOG.md] the campaign states in which the sandbox gives rewards.
SERVING_STATES = ("Approved", "Live")
# How many of the newest successful claims are searched for this target's reward URL.
CLAIMS_SEARCHED = 200
PREVIEW_MOMENT_PREFIX = "moments-desktop-preview-"

Preview = Callable[[RewardRequest, float | None], Awaitable[CallResult]]
RunBlocking = Callable[..., Awaitable[Any]]


def answer_of(result: CallResult) -> Any:
    """The parsed JSON the endpoint answered, or None when nothing usable came back."""
    if result.exchange.status is None:
        return None
    try:
        return decode_json(result.exchange.response_body)
    except Exception:  # noqa: BLE001 — not JSON: no answer a template could read
        return None


def last_claim_url(journal: Journal, request: RewardRequest) -> str | None:
    """The reward URL of the newest successful claim sent to the same endpoint with the same five
    fields (blocking: call through run_blocking)."""
    body = {name: getattr(request, name) for name in BODY_FIELDS}
    url = request.base_url.rstrip("/") + Endpoint.GET_REWARD.path
    for entry in journal.query(JournalFilter(endpoint=Endpoint.GET_REWARD.value, outcome=Outcome.SUCCESS.value),
                               limit=CLAIMS_SEARCHED):
        if not entry.reward_url or not isinstance(entry.request_body, dict):
            continue
        if (entry.request_url or "").rstrip("/") == url and all(
                entry.request_body.get(k) == v for k, v in body.items()):
            return entry.reward_url
    return None


def _looks_like_a_reward(answer: Any) -> bool:
    """A getRewardInfo answer that announces a reward: an image, or rewards left [assumed: the error
    answers (campaign ended, out of stock…) carry a text and at most a count of 0]."""
    if not isinstance(answer, dict) or not answer.get(REWARD_NOTIFICATION_TEXT):
        return False
    count = answer.get(REMAINING_REWARD_COUNT)
    has_count = isinstance(count, int | float) and not isinstance(count, bool) and count > 0
    return bool(answer.get(REWARD_IMAGE_URL)) or has_count or bool(answer.get(REWARD_NOTIFICATION_URL))


class OutcomeGatherer:
    """One run of Session.message_outcomes: the calls, the faults it added, their removal."""

    def __init__(self, *, preview: Preview, http: httpx.AsyncClient, journal: Journal,
                 run_blocking: RunBlocking, catalog: Callable[[str], Awaitable[SandboxCatalog | None]],
                 admin_token: str | None, deadline: float | None,
                 admin_timeout: float | None = None, cleanup_budget: float | None = None):
        self._preview = preview
        self._http = http
        self._journal = journal
        self._run_blocking = run_blocking
        self._catalog = catalog
        self._admin_token = admin_token
        self._deadline = deadline
        self._admin_timeout = ADMIN_TIMEOUT_S if admin_timeout is None else admin_timeout
        self._cleanup_budget = CLEANUP_BUDGET_S if cleanup_budget is None else cleanup_budget
        self._faults: list[str] = []  # the ids of the faults the sandbox said it added
        # Every one-off momentId a fault was asked for, recorded before asking: a preview cancelled
        # while the sandbox adds the fault never learns its id, but the removal finds it by its match.
        self._fault_moments: set[str] = set()
        self._fault_base = ""
        self._admin_gave_up: str | None = None  # why no more faults are asked for (a timed-out admin call)

    async def gather(self, request: RewardRequest, *, administrable: bool | None = None) -> list[PreviewOutcome]:
        """``administrable``: whether the endpoint is a sandbox whose admin API this computer may use
        (default: a loopback endpoint, as the sandbox's admin API answers only those)."""
        reward = await self._reward(request)
        if administrable is None:
            administrable = is_loopback_url(request.base_url)
        if not administrable:
            return [reward, *(documented_outcome(kind) for kind in list(OutcomeKind)[1:])]
        try:
            return [
                reward,
                await self._no_reward(request),
                await self._error_text(request),
                await self._timeout(request),
                await self._not_found(request),
            ]
        finally:
            await self._finish_removal()

    # --- the outcomes ------------------------------------------------------------------------

    async def _reward(self, request: RewardRequest) -> PreviewOutcome:
        result = await self._preview(request, self._deadline)
        if result.error is not None and not isinstance(result.error, (NoRewardError, BusinessError)):
            # No answer a template could read (no key, refused key, unreachable, timeout, a server
            # error…): the UI says why, as for any preview.
            raise result.error
        response = answer_of(result)
        notes: list[str] = []
        source = "this profile's real getRewardInfo answer"
        if _looks_like_a_reward(response) and response.get(REWARD_NOTIFICATION_URL) in (None, ""):
            claimed = await self._run_blocking(last_claim_url, self._journal, request)
            response = {**response, REWARD_NOTIFICATION_URL: claimed or PLACEHOLDER_REWARD_URL}
            notes.append(
                "rewardNotificationUrl: the URL of this target's last claim in the journal" if claimed else
                "rewardNotificationUrl: a placeholder; the preview never calls GetReward, which is billed")
        elif not _looks_like_a_reward(response):
            notes.append("this target gives no reward right now: its real answer is shown")
        return PreviewOutcome(OutcomeKind.REWARD, OUTCOME_LABELS[OutcomeKind.REWARD],
                              OUTCOME_EXPLANATIONS[OutcomeKind.REWARD], response, source, tuple(notes))

    async def _no_reward(self, request: RewardRequest) -> PreviewOutcome:
        result = await self._preview(self._one_off(request), self._deadline)
        response = answer_of(result)
        if response != []:
            return self._documented(OutcomeKind.NO_REWARD, f"the sandbox answered {response!r}, not []")
        return self._real(OutcomeKind.NO_REWARD, response, "the sandbox's real answer for a moment that "
                          "does not exist")

    async def _error_text(self, request: RewardRequest) -> PreviewOutcome:
        target = await self._resting_campaign(request)
        if target is not None:
            result = await self._preview(target, self._deadline)
            response = answer_of(result)
            if isinstance(response, dict) and response.get(REWARD_NOTIFICATION_TEXT) and \
                    not response.get(REWARD_NOTIFICATION_URL):
                return self._real(OutcomeKind.ERROR_TEXT, response,
                                  f"the sandbox's real answer for campaign {target.campaignId}, which gives "
                                  "no rewards now")
        one_off = self._one_off(request)
        text = documented_outcome(OutcomeKind.ERROR_TEXT).response
        if await self._add_fault(request, "status", status=200, body=text, match=one_off.momentId):
            response = answer_of(await self._preview(one_off, self._deadline))
            if isinstance(response, dict) and response.get(REWARD_NOTIFICATION_TEXT):
                return self._real(OutcomeKind.ERROR_TEXT, response, "the sandbox's answer, through a one-off fault")
        return self._documented(OutcomeKind.ERROR_TEXT, "the sandbox could not be made to answer one")

    async def _timeout(self, request: RewardRequest) -> PreviewOutcome:
        one_off = self._one_off(request)
        if not await self._add_fault(request, "latency", seconds=LATE_ANSWER_S, match=one_off.momentId):
            return self._documented(OutcomeKind.TIMEOUT, "the sandbox could not be made to answer late")
        result = await self._preview(one_off, BRAZE_TIMEOUT_S)
        if isinstance(result.error, PreviewTimeoutError) or (result.error is not None and result.exchange.status is None):
            return self._real(OutcomeKind.TIMEOUT, None, f"the sandbox really answered only after "
                              f"{LATE_ANSWER_S:g} s; nothing came within Braze's {BRAZE_TIMEOUT_S:g} s")
        return self._documented(OutcomeKind.TIMEOUT, "the sandbox answered in time after all")

    async def _not_found(self, request: RewardRequest) -> PreviewOutcome:
        one_off = self._one_off(request)
        if not await self._add_fault(request, "status", status=404, match=one_off.momentId):
            return self._documented(OutcomeKind.NOT_FOUND, "the sandbox could not be made to answer 404")
        result = await self._preview(one_off, self._deadline)
        if result.exchange.status == 404:
            return self._real(OutcomeKind.NOT_FOUND, None, "the sandbox really answered 404")
        return self._documented(OutcomeKind.NOT_FOUND, f"the sandbox answered {result.exchange.status}, not 404")

    # --- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _one_off(request: RewardRequest) -> RewardRequest:
        """The request with a momentId no campaign has: the sandbox's answer to it is [], and a fault
        matching it hits this call only."""
        return replace(request, momentId=PREVIEW_MOMENT_PREFIX + uuid.uuid4().hex[:12])

    @staticmethod
    def _real(kind: OutcomeKind, response: Any, source: str) -> PreviewOutcome:
        return PreviewOutcome(kind, OUTCOME_LABELS[kind], OUTCOME_EXPLANATIONS[kind], response, source)

    def _documented(self, kind: OutcomeKind, why: str) -> PreviewOutcome:
        shaped = documented_outcome(kind)
        notes = (why,) if self._admin_gave_up is None else (why, self._admin_gave_up)
        return replace(shaped, source="the documented shape", notes=notes)

    async def _resting_campaign(self, request: RewardRequest) -> RewardRequest | None:
        """The request aimed at a campaign of the same app that gives no rewards now, if the catalog has one."""
        try:
            catalog = await self._catalog(request.base_url)
        except MomentsError:
            return None
        if catalog is None:
            return None
        for campaign in catalog.campaigns:
            if campaign.app_id != request.appId or campaign.state in SERVING_STATES:
                continue
            if not campaign.moments or not campaign.reward_groups:
                continue
            devices = campaign.device_types or (request.deviceType,)
            device = request.deviceType if request.deviceType in devices else devices[0]
            return replace(request, campaignId=campaign.id, momentId=campaign.moments[0],
                           rewardGroupId=campaign.reward_groups[0].id, deviceType=device)
        return None

    def _admin_url(self, request: RewardRequest, path: str) -> str:
        return request.base_url.rstrip("/") + "/__sandbox" + path

    def _admin_headers(self) -> dict[str, str]:
        headers = {"Content-Type": JSON_MEDIA_TYPE}
        if self._admin_token:
            headers[SANDBOX_ADMIN_TOKEN_HEADER] = self._admin_token
        return headers

    async def _add_fault(self, request: RewardRequest, kind: str, *, match: str, **params: Any) -> bool:
        """A one-shot fault on GetRewardInfo for the one-off momentId; False when the endpoint will not
        take it (no sandbox admin API there, no answer within the admin deadline, or an older sandbox
        without ``match``)."""
        if self._admin_gave_up is not None or self._http.is_closed:
            return False
        definition = {"endpoint": Endpoint.GET_REWARD_INFO.value, "kind": kind, "times": 1,
                      "match": {"momentId": match}, **params}
        # Recorded before asking: if we are cancelled before the answer, the removal still finds it.
        self._fault_moments.add(match)
        self._fault_base = request.base_url
        try:
            async with asyncio.timeout(self._admin_timeout):
                response = await self._http.post(self._admin_url(request, "/faults"), json=definition,
                                                 headers=self._admin_headers(), timeout=self._admin_timeout)
            fault = response.json() if response.status_code == 201 else None
        except TimeoutError:
            # Not a sandbox answering its admin API (a proxy, a replica that drips bytes): ask no more.
            self._admin_gave_up = f"its admin API did not answer within {self._admin_timeout:g} s"
            return False
        except (httpx.HTTPError, ValueError):
            return False
        except RuntimeError:
            if self._http.is_closed:  # the Session is closing: nothing more can be asked
                return False
            raise
        if not isinstance(fault, dict) or not isinstance(fault.get("id"), str):
            return False
        self._faults.append(fault["id"])
        if fault.get("match") != {"momentId": match}:
            # A sandbox that ignores `match` would fault anyone's next call: take it away at once.
            await self._finish_removal()
            return False
        return True

    async def _finish_removal(self) -> None:
        """Remove our faults, to the end of the removal's budget even if we are cancelled meanwhile
        (again and again): the removal is a task of ours, awaited until it is done, never left to run
        on its own while its HTTP client is closed under it. A cancellation is re-raised afterwards."""
        if not self._fault_moments:
            return
        removal = asyncio.ensure_future(self._remove_faults())
        cancelled = False
        while not removal.done():
            try:
                await asyncio.shield(removal)
            except asyncio.CancelledError:
                cancelled = True
        if removal.cancelled() or cancelled:
            raise asyncio.CancelledError
        removal.result()

    async def _remove_faults(self) -> None:
        """Delete every fault of ours the sandbox still holds, within one budget; never raises for the
        sandbox's sake (what could not be removed is a one-shot fault matching a momentId no one else sends)."""
        try:
            async with asyncio.timeout(self._cleanup_budget):
                await self._delete_ours()
        except (TimeoutError, httpx.HTTPError, ValueError):
            pass  # any fault left is one-shot and matches only a one-off momentId no one else sends
        except RuntimeError:
            if not self._http.is_closed:  # the client closed under us: nothing more can be removed
                raise
        finally:
            self._fault_moments.clear()
            self._faults.clear()

    async def _delete_ours(self) -> None:
        base = self._fault_base.rstrip("/") + "/__sandbox/faults"
        known = set(self._faults)
        listing = await self._http.get(base, headers=self._admin_headers(), timeout=self._cleanup_budget)
        try:
            listed = listing.json() if listing.status_code == 200 else None
        except ValueError:
            listed = None
        if isinstance(listed, list):
            # A used one-shot fault is gone from the list; one whose answer we never saw is found by its match.
            ours = [f["id"] for f in listed if isinstance(f, dict) and isinstance(f.get("id"), str) and (
                f["id"] in known or (isinstance(f.get("match"), dict)
                                     and f["match"].get("momentId") in self._fault_moments))]
        else:
            ours = list(known)
        for fault_id in ours:
            # Already gone (404: used meanwhile) is fine.
            await self._http.delete(f"{base}/{fault_id}", headers=self._admin_headers(),
                                    timeout=self._cleanup_budget)

"""Preview and claim as operations: client + journal, with no UI in them.

In the spirit of Anki's CollectionOp: the GUI and the CLI call these and render what
comes back; nothing here shows anything. The journal is written off the event loop's
thread (SQLite with fsync can take milliseconds, which a UI thread must not spend).

The claim's order is the whole point:
  1. refuse if another claim is in flight in this process,
  2. commit the intent (before a single byte goes out),
  3. send exactly one getReward (the client never retries it),
  4. commit the answer, the reward URL included, and only then return it for display.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..api_schema import Outcome
from .client import CallResult, MomentsClient
from .errors import MomentsError
from .exchange import Exchange
from .journal import Journal
from .request import RewardRequest

RunBlocking = Callable[..., Awaitable[Any]]
CANCELLED_AFTER_SEND = ("The claim was cancelled after it was sent; the service may have consumed a reward. "
                        "Check before claiming again.")


class ClaimInProgressError(MomentsError):
    title = "A claim is already in progress"
    advice = "Wait for its outcome before claiming again."


@dataclass(frozen=True)
class ProfileRef:
    """Who a call is made for, as the journal records it."""

    id: str | None
    name: str | None


@dataclass
class ClaimResult:
    call: CallResult
    journal_id: int | None

    @property
    def reward_url(self) -> str | None:
        return self.call.reward.reward_url if self.call.ok and self.call.reward else None


class Operations:
    def __init__(self, client: MomentsClient, journal: Journal, *, run_blocking: RunBlocking = asyncio.to_thread):
        self._client = client
        self._journal = journal
        self._run_blocking = run_blocking
        self._claim_in_flight = False

    async def preview(self, profile: ProfileRef, request: RewardRequest, api_key: str, *,
                      deadline: float | None = None) -> CallResult:
        result = await self._client.get_reward_info(request, api_key, deadline=deadline)
        await self._run_blocking(self._journal.record_exchange, result.exchange, profile_id=profile.id,
                                 profile_name=profile.name, secrets=(api_key,))
        return result

    async def claim(self, profile: ProfileRef, request: RewardRequest, api_key: str, *,
                    deadline: float | None = None) -> ClaimResult:
        # Checked and set with no await in between, so two activations on one event loop
        # (a double-click, a shortcut, a second window) cannot both get past it.
        if self._claim_in_flight:
            raise ClaimInProgressError()
        self._claim_in_flight = True
        intent_id: int | None = None

        async def commit_intent(exchange: Exchange) -> None:
            nonlocal intent_id
            intent_id = await self._run_blocking(
                self._journal.begin_intent, profile.id, profile.name, exchange.endpoint, exchange.url,
                exchange.request_headers, exchange.request_body, secrets=(api_key,))

        try:
            try:
                result = await self._client.get_reward(request, api_key, before_send=commit_intent,
                                                       deadline=deadline)
            except asyncio.CancelledError:
                if intent_id is not None:
                    # shield: the journal must learn of the cancellation even as we unwind
                    await asyncio.shield(self._run_blocking(
                        self._journal.complete, intent_id, None, None, None, None, Outcome.UNKNOWN,
                        CANCELLED_AFTER_SEND, secrets=(api_key,)))
                raise
            ex = result.exchange
            reward_url = result.reward.reward_url if result.ok and result.reward else None
            if intent_id is None:  # refused before sending (validation, no key): still journaled
                journal_id = await self._run_blocking(
                    self._journal.record_exchange, ex, profile_id=profile.id, profile_name=profile.name,
                    secrets=(api_key,))
            else:
                await self._run_blocking(
                    self._journal.complete, intent_id, ex.status, ex.response_headers, ex.response_body,
                    ex.duration_ms, ex.outcome, ex.error_message, reward_url, secrets=(api_key,))
                journal_id = intent_id
            return ClaimResult(call=result, journal_id=journal_id)
        finally:
            self._claim_in_flight = False

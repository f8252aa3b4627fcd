"""Preview and claim as operations: client + journal, with no UI in them.

In the spirit of Anki's CollectionOp: the GUI and the CLI call these and render what
comes back; nothing here shows anything. The journal is written off the event loop's
thread (SQLite with fsync can take milliseconds, which a UI thread must not spend).

The claim's order is the whole point:
  1. refuse if another claim is in flight in this process,
  2. commit the intent (before a single byte goes out); the journal refuses it while another process
     has a claim for the same profile in flight (ClaimInFlightElsewhereError: not sent, journaled so),
  3. send exactly one getReward (the client never retries it),
  4. commit the answer, the reward URL included, and only then return it for display.

When the journal cannot take a write (another process holds its lock, the disk is full, the file
was deleted under the app):
  - at 2, nothing is sent: the result is "not sent", with the reason;
  - at 4, the write is tried again a few times, then the answer goes to the rescue file next to the
    journal (merged into it at the next start) and is returned all the same: a reward that was paid
    for is shown, never lost behind an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api_schema import Outcome
from . import errorlog
from .client import CallResult, MomentsClient
from .errors import MomentsError
from .exchange import Exchange
from .journal import (
    CANCELLED_PREVIEW,
    CLAIM_BUSY_TIMEOUT_S,
    ClaimInFlightElsewhereError,
    Journal,
    JournalError,
    JournalReplacedError,
)
from .request import RewardRequest

RunBlocking = Callable[..., Awaitable[Any]]
CANCELLED_AFTER_SEND = ("The claim was cancelled after it was sent; the service may have consumed a reward. "
                        "Check before claiming again.")
CANCELLED_BEFORE_SEND = "The claim was cancelled before it was sent; nothing was sent and nothing was spent."
# Committing a claim's answer: tries, and the pauses between them (with CLAIM_BUSY_TIMEOUT_S of waiting
# for a lock in each try, about four seconds in all before the answer goes to the rescue file).
COMMIT_TRIES = 3
COMMIT_PAUSES_S = (0.2, 0.5)


class ClaimInProgressError(MomentsError):
    title = "A claim is already in progress"
    advice = "Wait for its outcome before claiming again."


class IntentNotWrittenError(MomentsError):
    """The claim's intent could not be committed, so the claim was not sent (the journal's promise:
    no getReward leaves without its row on disk first)."""

    title = "The history could not record the claim before sending it"

    def __init__(self, cause: JournalError):
        self.cause = cause
        self.reason = cause.reason
        super().__init__(self.reason, advice=_intent_advice(cause))


def _intent_advice(cause: JournalError) -> str:
    reason = cause.reason
    if isinstance(cause, JournalReplacedError):
        fix = "Restart the app to open the history file again"
    elif "locked" in reason:
        fix = "Close the other program that is using the history file (or wait for it), then claim again"
    elif "full" in reason:
        fix = "Free some disk space, then claim again"
    elif "read-only" in reason:
        fix = "Make the data folder writable, then claim again"
    else:
        fix = "Check the data folder, then claim again"
    return f"Nothing was sent and nothing was spent. {fix}."


class _IntentRefused(Exception):
    """Raised from the client's before_send hook: it stops the request before a byte goes out."""

    def __init__(self, cause: JournalError | ClaimInFlightElsewhereError, exchange: Exchange):
        super().__init__(str(cause))
        self.cause = cause
        self.exchange = exchange


@dataclass(frozen=True)
class ProfileRef:
    """Who a call is made for, as the journal records it."""

    id: str | None
    name: str | None


@dataclass
class ClaimResult:
    call: CallResult
    journal_id: int | None
    # The answer arrived but the journal could not commit it (after a few tries): why.
    journal_error: JournalError | None = None
    # Where the answer is kept instead (the rescue file, merged at the next start), or why even that failed.
    rescue_path: Path | None = None
    rescue_error: str | None = None

    @property
    def reward_url(self) -> str | None:
        return self.call.reward.reward_url if self.call.ok and self.call.reward else None

    @property
    def answer_not_journaled(self) -> bool:
        return self.journal_error is not None


class Operations:
    def __init__(self, client: MomentsClient, journal: Journal, *, run_blocking: RunBlocking = asyncio.to_thread,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._client = client
        self._journal = journal
        self._run_blocking = run_blocking
        self._sleep = sleep
        self._claim_in_flight = False
        self._claim_entry_id: int | None = None

    # --- preview (free) ------------------------------------------------------------------

    async def preview(self, profile: ProfileRef, request: RewardRequest, api_key: str, *,
                      deadline: float | None = None,
                      answered: Callable[[CallResult], None] | None = None) -> CallResult:
        """getRewardInfo, every attempt journaled: each automatic retry is a row of its own, and a
        preview cancelled after it was sent is journaled as cancelled. ``answered`` (a preview only: it is
        free, so nothing hangs on its row) is handed the result as soon as it came back, before its journal
        write, which this still awaits before returning."""
        sent: list[Exchange] = []
        try:
            result = await self._client.get_reward_info(request, api_key, before_send=sent.append,
                                                           deadline=deadline)
        except asyncio.CancelledError:
            if sent:
                # shield: the journal must learn of what went out even as we unwind
                await asyncio.shield(self._run_blocking(self._record_attempts, profile, sent, None, api_key))
            raise
        try:
            if answered is not None:
                answered(result)
        finally:  # whatever the early reader did, the answer is journaled
            await self._run_blocking(self._record_attempts, profile, sent, result.exchange, api_key)
        return result

    def _record_attempts(self, profile: ProfileRef, sent: list[Exchange], final: Exchange | None,
                         api_key: str) -> None:
        """Blocking. ``final`` is the answer returned (None: cancelled); ``sent`` every attempt that got
        as far as sending, in order (the final one among them, unless it was refused before sending)."""
        exchanges = list(sent)
        if final is not None and all(e is not final for e in exchanges):
            exchanges.append(final)
        for exchange in exchanges:
            changes: dict[str, Any] = {}
            if exchange.outcome is Outcome.PENDING:  # sent, and cancelled before its answer was read
                changes = dict(outcome=Outcome.ERROR, error_message=CANCELLED_PREVIEW, summary_outcome="cancelled")
            elif final is not None and exchange is not final:
                changes = dict(error_message=(exchange.error_message or "") + " Retried automatically.")
            self._journal.record_exchange(exchange, profile_id=profile.id, profile_name=profile.name,
                                          secrets=(api_key,), **changes)
        self._merge_rescued()

    def _merge_rescued(self) -> None:
        """Blocking. The journal took a write again: bring in what the rescue file holds now rather than
        at the next start, so the history stops showing those claims as pending. Failing is fine: the
        next start merges it."""
        if not self._journal.rescue.exists():
            return
        try:
            self._journal.merge_rescue()
        except Exception as exc:  # noqa: BLE001 - the call that got here succeeded; this must not undo it
            errorlog.log_exception(exc, "journal: merging the rescue file")

    # --- claim (billed) ------------------------------------------------------------------

    @property
    def last_claim_entry_id(self) -> int | None:
        """The journal row of the claim last started, once its intent is committed; None while it has none
        (nothing can have been sent). What a caller interrupted mid-claim reads to learn how it ended."""
        return self._claim_entry_id

    async def claim(self, profile: ProfileRef, request: RewardRequest, api_key: str, *,
                    deadline: float | None = None) -> ClaimResult:
        # Checked and set with no await in between, so two activations on one event loop
        # (a double-click, a shortcut, a second window) cannot both get past it.
        if self._claim_in_flight:
            raise ClaimInProgressError()
        self._claim_in_flight = True
        self._claim_entry_id = None
        intent_id: int | None = None
        sent_exchange: Exchange | None = None  # the client's record of the request, once its intent is in
        cancelled_before_send = False

        async def commit_intent(exchange: Exchange) -> None:
            nonlocal intent_id, sent_exchange, cancelled_before_send
            writing = asyncio.ensure_future(self._run_blocking(
                self._journal.begin_intent, profile.id, profile.name, exchange.endpoint, exchange.url,
                exchange.request_headers, exchange.request_body, secrets=(api_key,),
                busy_timeout_s=CLAIM_BUSY_TIMEOUT_S))
            try:
                try:
                    intent_id = await asyncio.shield(writing)
                except asyncio.CancelledError:
                    # The write goes on in its thread: learn its row, so the cancellation is journaled on it
                    # (as not sent: the request never started) rather than left pending as an orphan.
                    cancelled_before_send = True
                    while not writing.done():
                        try:
                            await asyncio.shield(writing)
                        except asyncio.CancelledError:
                            pass
                    intent_id = writing.result()
                    self._claim_entry_id = intent_id
                    raise
            except (JournalError, ClaimInFlightElsewhereError) as exc:
                if cancelled_before_send:
                    raise asyncio.CancelledError() from exc  # nothing written, nothing sent
                raise _IntentRefused(exc, exchange) from exc  # stops the request: nothing goes out
            self._claim_entry_id = intent_id
            sent_exchange = exchange

        try:
            try:
                result = await self._client.get_reward(request, api_key, before_send=commit_intent,
                                                       deadline=deadline)
            except _IntentRefused as refused:
                return await self._not_sent(profile, refused, api_key)
            except asyncio.CancelledError:
                if intent_id is not None:
                    # Not sent only when that is known: cancelled in the intent's write, or (the client's
                    # record) while still connecting, before a byte of the request went out.
                    nothing_sent = cancelled_before_send or (
                        sent_exchange is not None and sent_exchange.outcome is Outcome.NOT_SENT)
                    # shield: the journal must learn of the cancellation even as we unwind
                    await asyncio.shield(self._cancelled(profile, intent_id, api_key, nothing_sent=nothing_sent))
                raise
            ex = result.exchange
            reward_url = result.reward.reward_url if result.ok and result.reward else None
            if intent_id is None:  # refused before sending (validation, no key): still journaled
                return ClaimResult(call=result, journal_id=await self._record_not_sent(profile, ex, api_key))
            # The answer is in hand: committing it (or rescuing it) must finish even if we are cancelled.
            committing = asyncio.ensure_future(self._commit_answer(profile, intent_id, result, reward_url, api_key))
            try:
                return await asyncio.shield(committing)
            except asyncio.CancelledError:
                while not committing.done():
                    try:
                        await asyncio.shield(committing)
                    except asyncio.CancelledError:
                        pass
                raise
        finally:
            self._claim_in_flight = False

    async def _record_not_sent(self, profile: ProfileRef, exchange: Exchange, api_key: str) -> int | None:
        try:
            return await self._run_blocking(
                self._journal.record_exchange, exchange, profile_id=profile.id, profile_name=profile.name,
                secrets=(api_key,))
        except JournalError as exc:  # nothing was sent: the result says so; the row is only history
            errorlog.log_exception(exc, "claim: journaling a claim refused before sending")
            return None

    async def _not_sent(self, profile: ProfileRef, refused: _IntentRefused, api_key: str) -> ClaimResult:
        exchange = refused.exchange
        exchange.outcome = Outcome.NOT_SENT
        if isinstance(refused.cause, ClaimInFlightElsewhereError):
            # The journal works (it is what refused): the refusal is history, like any claim refused before
            # sending, with its own words.
            error: MomentsError = refused.cause
            exchange.error_message = error.message
            return ClaimResult(call=CallResult(exchange=exchange, error=error),
                               journal_id=await self._record_not_sent(profile, exchange, api_key))
        error = IntentNotWrittenError(refused.cause)
        exchange.error_message = error.message
        return ClaimResult(call=CallResult(exchange=exchange, error=error), journal_id=None)

    async def _commit_answer(self, profile: ProfileRef, intent_id: int, result: CallResult,
                             reward_url: str | None, api_key: str) -> ClaimResult:
        """Commit the answer, trying again a few times; failing that, write it to the rescue file.
        Either way the full answer is returned: the URL is shown whatever the journal did."""
        ex = result.exchange
        failure: JournalError | None = None
        for attempt in range(COMMIT_TRIES):
            if attempt:
                await self._sleep(COMMIT_PAUSES_S[min(attempt - 1, len(COMMIT_PAUSES_S) - 1)])
            try:
                await self._run_blocking(
                    self._journal.complete, intent_id, ex.status, ex.response_headers, ex.response_body,
                    ex.duration_ms, ex.outcome, ex.error_message, reward_url, secrets=(api_key,),
                    busy_timeout_s=CLAIM_BUSY_TIMEOUT_S)
            except JournalReplacedError as exc:
                failure = exc
                break  # the file is gone: trying again cannot help
            except JournalError as exc:
                failure = exc
            except Exception as exc:  # noqa: BLE001 - whatever it was, the answer must still be kept
                errorlog.log_exception(exc, "claim: committing the answer")
                failure = JournalError(f"{type(exc).__name__}: {exc}")
            else:
                await self._run_blocking(self._merge_rescued)
                return ClaimResult(call=result, journal_id=intent_id)
        claim = ClaimResult(call=result, journal_id=None, journal_error=failure)
        try:
            claim.rescue_path = await self._run_blocking(
                self._journal.rescue_answer, intent_id, ex, profile_id=profile.id, profile_name=profile.name,
                reward_url=reward_url, failure=failure.message, secrets=(api_key,))
        except Exception as exc:  # noqa: BLE001 - OSError mostly (the same full disk); the window still has it
            errorlog.log_exception(exc, "claim: writing the rescue file")
            claim.rescue_error = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return claim

    async def _cancelled(self, profile: ProfileRef, intent_id: int, api_key: str, *, nothing_sent: bool) -> None:
        outcome, words = ((Outcome.NOT_SENT, CANCELLED_BEFORE_SEND) if nothing_sent
                          else (Outcome.UNKNOWN, CANCELLED_AFTER_SEND))
        try:
            await self._run_blocking(self._journal.complete, intent_id, None, None, None, None, outcome,
                                     words, secrets=(api_key,), busy_timeout_s=CLAIM_BUSY_TIMEOUT_S)
        except JournalError as exc:
            # The row stays pending: the next start calls it unknown (recover), which is the truth.
            errorlog.log_exception(exc, "claim: journaling a cancellation after sending")

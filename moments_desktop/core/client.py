"""The Moments API client: two POSTs, made safe.

- The httpx.AsyncClient is injected, so tests and the app choose the transport.
- One key never exceeds 5 calls per second, both endpoints together ([doc]).
- getRewardInfo (free) may be retried on failures that cannot have changed anything.
- getReward (billed) is sent at most once per call, never retried, for any reason: when the
  request may have reached the server and no complete answer came back, the outcome is
  reported as UNKNOWN, not as failed.
- Every call returns a CallResult whose Exchange holds the raw request (key redacted)
  and the raw answer, whatever happened.
- Every call has an overall deadline (`Deadlines`), not only httpx's timeouts, which count the
  silence between two bytes: a server that drips one byte every half second would otherwise hold
  a preview or a claim for minutes. A preview's deadline covers its retries and their waits; a claim
  past its deadline is abandoned as UNKNOWN (it was sent) and, like any claim, never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ..api_schema import REWARD_NOTIFICATION_TEXT, Endpoint, Outcome
from . import errors
from .deadlines import Deadlines
from .exchange import Exchange, redact_headers
from .http import explain_failure, proxy_needs_credentials, proxy_of
from .settings import proxy_url_for_display
from .request import RewardRequest, is_sendable_key
from .reward import RewardInfo, decode_json, parse_reward_payload
from .wire import USER_AGENT, build_request, request_headers  # noqa: F401 - USER_AGENT: re-exported

MAX_RESPONSE_BYTES = 1024 * 1024
RATE_LIMIT_CALLS = 5  # [doc] 5 calls per second per API key, both endpoints together
# The server counts arrivals, we count departures: a 100 ms margin absorbs the jitter
# between the two so a burst never trips the server's window.
RATE_LIMIT_WINDOW = 1.1
INFO_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A gateway error on getReward does not prove the backend did nothing (a 504 means the
# gateway gave up waiting for it): the claim may have been consumed. [assumed]
REWARD_UNKNOWN_STATUSES = frozenset({502, 504})
MAX_RETRY_AFTER = 10.0
# [AWS docs, gateway response types] the body of API Gateway's 429 QUOTA_EXCEEDED, compared lower-case;
# its THROTTLED 429 says "Too Many Requests".
QUOTA_EXCEEDED_MESSAGE = "limit exceeded"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def default_timeout(connect: float = 5.0, read: float = 15.0) -> httpx.Timeout:
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


class RateLimiter:
    """Sliding-window limiter per API key; waits instead of failing."""

    def __init__(self, calls: int = RATE_LIMIT_CALLS, window: float = RATE_LIMIT_WINDOW,
                 clock: Callable[[], float] = time.monotonic, sleep=asyncio.sleep):
        self.calls = calls
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def _key_id(api_key: str) -> str:
        # Only a digest is kept as the dictionary key, so the limiter holds no secret.
        return hashlib.sha256(api_key.encode()).hexdigest()

    async def acquire(self, api_key: str) -> Callable[[], None]:
        """Wait for a free slot in ``api_key``'s window and take it. Returns ``sending``: call it when the
        request actually goes out. Between the two, the caller may journal the call's intent (fsync, a lock
        another process holds): a call counted from when it got its slot would then reach the server less
        than a window after the one five calls before it, and the server counts arrivals (a 429)."""
        key_id = self._key_id(api_key)
        lock = self._locks.setdefault(key_id, asyncio.Lock())
        async with lock:
            sent = self._sent.setdefault(key_id, deque())
            while True:
                now = self._clock()
                while sent and now - sent[0][0] >= self.window:
                    sent.popleft()
                if len(sent) < self.calls:
                    slot = [now]
                    sent.append(slot)

                    def sending() -> None:
                        # Later only: a slot never moves back. A slot made later than the ones after it keeps
                        # them in the window until it leaves too (sent[0] is checked first): the safe side.
                        slot[0] = max(slot[0], self._clock())

                    return sending
                await self._sleep(self.window - (now - sent[0][0]) + 0.001)


@dataclass
class CallResult:
    exchange: Exchange
    reward: RewardInfo | None = None
    error: errors.MomentsError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.reward is not None

    @property
    def outcome(self) -> Outcome:
        return self.exchange.outcome


BeforeSend = Callable[[Exchange], Awaitable[None] | None]


class MomentsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        limiter: RateLimiter | None = None,
        timeout: httpx.Timeout | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        info_retries: int = 2,
        retry_backoff: float = 0.5,
        sleep=asyncio.sleep,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = _utc_now,
        deadlines: Deadlines | None = None,
    ):
        """`sleep` waits between preview retries; `clock` (seconds, monotonic) times each call and `now`
        (aware UTC) stamps it and dates a Retry-After: tests pass fakes, the app the defaults.
        `deadlines` are the overall limits used when a call names none (the event loop's clock)."""
        self._http = http
        self._limiter = limiter or RateLimiter()
        self._timeout = timeout or default_timeout()
        self._max_bytes = max_response_bytes
        self._info_retries = info_retries
        self._backoff = retry_backoff
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self.deadlines = deadlines or Deadlines()

    # --- public ---------------------------------------------------------------

    @property
    def rate_limit(self) -> tuple[int, float]:
        """(calls, window seconds): what the limiter lets through per key, for a sweep's estimate."""
        return self._limiter.calls, self._limiter.window

    async def get_reward_info(self, request: RewardRequest, api_key: str, *,
                              before_send: BeforeSend | None = None,
                              deadline: float | None = None) -> CallResult:
        """Free preview. Retries only failures that cannot have had an effect worth avoiding.

        `before_send` runs before each attempt goes out (the journal keeps a row per attempt).
        `deadline` (seconds; default `deadlines.preview`) bounds the whole preview: every attempt, the
        rate limiter and the waits between attempts. A retry whose wait would end past it is not made:
        the last answer stands."""
        seconds = self.deadlines.preview if deadline is None else deadline
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + seconds
        attempt = 0
        while True:
            attempt += 1
            result = await self._call(Endpoint.GET_REWARD_INFO, request, api_key, before_send=before_send,
                                      ends_at=ends_at, seconds=seconds)
            result.exchange.attempts = attempt
            delay = self._retry_delay(result, attempt)
            if delay is None or loop.time() + delay >= ends_at:
                return result
            await self._sleep(delay)

    async def get_reward(self, request: RewardRequest, api_key: str, *,
                         before_send: BeforeSend | None = None, deadline: float | None = None) -> CallResult:
        """Billed claim: exactly one request, never retried.

        `before_send` runs after validation and rate limiting, immediately before the
        bytes go out: the journal commits its intent there. `deadline` (seconds; default
        `deadlines.claim`) bounds the call; past it the claim is abandoned as UNKNOWN, not re-sent.
        """
        seconds = self.deadlines.claim if deadline is None else deadline
        ends_at = asyncio.get_running_loop().time() + seconds
        return await self._call(Endpoint.GET_REWARD, request, api_key, before_send=before_send,
                                ends_at=ends_at, seconds=seconds)

    # --- internals ------------------------------------------------------------

    def _retry_delay(self, result: CallResult, attempt: int) -> float | None:
        if attempt > self._info_retries:
            return None
        err = result.error
        if isinstance(err, errors.NotSentError):
            return self._backoff * attempt
        if isinstance(err, errors.QuotaExceededError):
            return None  # a quota is counted per day or month: a retry in seconds only spends a call
        if isinstance(err, errors.ApiError) and err.status in INFO_RETRY_STATUSES:
            if isinstance(err, errors.ThrottledError) and err.retry_after is not None:
                return min(err.retry_after, MAX_RETRY_AFTER)
            return self._backoff * attempt
        return None

    async def _call(self, endpoint: Endpoint, request: RewardRequest, api_key: str,
                    before_send: BeforeSend | None = None, *, ends_at: float, seconds: float) -> CallResult:
        exchange = Exchange(
            endpoint=endpoint,
            url=request.url(endpoint),
            request_headers=redact_headers(request_headers(api_key)),
            request_body=request.body(),
        )
        try:
            valid = request.validated()
        except errors.ValidationError as exc:
            return self._finish(exchange, Outcome.NOT_SENT, exc)
        if not api_key or not api_key.strip():
            return self._finish(exchange, Outcome.NOT_SENT, errors.ForbiddenError(
                "no API key is set for this profile", advice="Enter the API key in the profile, then try again."))
        if not is_sendable_key(api_key.strip()):
            return self._finish(exchange, Outcome.NOT_SENT, errors.UnsendableKeyError())
        # What goes out is built by core/wire.py, the builder the exports use too: an export is this request.
        wire_request = build_request(valid, endpoint, api_key.strip())
        exchange.url = wire_request.url
        exchange.request_body = valid.body()

        try:
            async with asyncio.timeout_at(ends_at):
                sending = await self._limiter.acquire(api_key.strip())
        except TimeoutError:  # nothing went out (a preview that spent its deadline waiting to retry)
            return self._finish(exchange, Outcome.NOT_SENT, self._deadline_error(endpoint, seconds))
        if before_send is not None:
            # Outside the deadline: the intent's write is never cut off half-way (the journal bounds it).
            maybe = before_send(exchange)
            if inspect.isawaitable(maybe):
                await maybe
        sending()

        exchange.started_at = self._now()
        t0 = self._clock()
        wire = _WireProgress()
        received = bytearray()
        deadline = asyncio.timeout_at(ends_at)
        try:
            # The overall deadline, in this task (a cancellation at the deadline unwinds the read, the
            # body's iterator and the response, so the connection is closed, not left to a second task).
            async with deadline, \
                    self._http.stream(wire_request.method, wire_request.url, content=wire_request.body,
                                      headers=list(wire_request.headers), timeout=self._timeout,
                                      extensions={"trace": wire.trace}) as response:
                exchange.status = response.status_code
                exchange.response_headers = dict(response.headers)
                raw = await self._read_capped(response, exchange, received)
        except asyncio.CancelledError:
            if endpoint.billed and wire.nothing_sent:
                exchange.outcome = Outcome.NOT_SENT  # cut off while connecting: no byte of the request left
            raise
        except TimeoutError:
            if not deadline.expired():
                raise  # not ours: reported as unexpected, never mistaken for the deadline
            exchange.duration_ms = (self._clock() - t0) * 1000
            exchange.response_body = received.decode("utf-8", errors="replace")
            exchange.response_truncated = exchange.status is not None
            if endpoint.billed and wire.nothing_sent:
                return self._finish(exchange, Outcome.NOT_SENT, errors.NotSentError(
                    f"the connection could not be made within {seconds:g} s"))
            outcome = Outcome.UNKNOWN if endpoint.billed else Outcome.ERROR
            return self._finish(exchange, outcome, self._deadline_error(endpoint, seconds))
        except errors.ResponseTooLargeError as exc:
            exchange.duration_ms = (self._clock() - t0) * 1000
            outcome = Outcome.UNKNOWN if endpoint.billed else Outcome.ERROR
            return self._finish(exchange, outcome, exc)
        except httpx.HTTPError as exc:
            exchange.duration_ms = (self._clock() - t0) * 1000
            return self._transport_failure(exchange, exc)
        exchange.duration_ms = (self._clock() - t0) * 1000
        exchange.response_body = raw.decode("utf-8", errors="replace")
        return self._interpret(exchange)

    @staticmethod
    def _deadline_error(endpoint: Endpoint, seconds: float) -> errors.MomentsError:
        return errors.ClaimDeadlineError(seconds) if endpoint.billed else errors.PreviewDeadlineError(seconds)

    async def _read_capped(self, response: httpx.Response, exchange: Exchange, received: bytearray) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._max_bytes:
            exchange.response_truncated = True
            raise errors.ResponseTooLargeError(f"it declares {int(declared):,} bytes")
        chunks, size = [], 0
        # aclosing: leaving the loop by raising must close the body's iterator now, not leave it
        # for the loop's shutdown to finalise (an async generator still pending).
        async with contextlib.aclosing(response.aiter_bytes()) as body_chunks:
            async for chunk in body_chunks:
                size += len(chunk)
                if size > self._max_bytes:
                    chunks.append(chunk[: max(0, self._max_bytes - (size - len(chunk)))])
                    exchange.response_body = b"".join(chunks).decode("utf-8", errors="replace")
                    exchange.response_truncated = True
                    raise errors.ResponseTooLargeError(f"more than {self._max_bytes:,} bytes")
                chunks.append(chunk)
                received.extend(chunk)  # what arrived so far, kept if the deadline cuts the read off
        return b"".join(chunks)

    def _transport_failure(self, exchange: Exchange, exc: httpx.HTTPError) -> CallResult:
        detail = str(exc) or exc.__class__.__name__
        explained = explain_failure(self._http, exc)
        if explained is not None and (isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError))):
            # A certificate refused, or a proxy unreachable or refusing the tunnel: nothing reached the endpoint.
            return self._finish(exchange, Outcome.NOT_SENT, explained)
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)):
            return self._finish(exchange, Outcome.NOT_SENT, errors.NotSentError(detail))
        if exchange.endpoint.billed:
            if isinstance(exc, httpx.TimeoutException):
                reason = "the server did not answer in time"
            else:
                reason = "the connection closed before a complete answer arrived"
            return self._finish(exchange, Outcome.UNKNOWN, errors.OutcomeUnknownError(reason))
        if isinstance(exc, httpx.TimeoutException):
            return self._finish(exchange, Outcome.ERROR, errors.PreviewTimeoutError())
        return self._finish(exchange, Outcome.ERROR, errors.ConnectionDroppedError(detail))

    def _interpret(self, exchange: Exchange) -> CallResult:
        status = exchange.status or 0
        text = exchange.response_body
        billed = exchange.endpoint.billed
        if 200 <= status < 300:
            try:
                reward = parse_reward_payload(decode_json(text))
            except errors.NoRewardError as exc:
                return self._finish(exchange, Outcome.NO_REWARD, exc)
            except errors.InvalidResponseError as exc:
                exc.status = status
                if billed and isinstance(exc, errors.EmptyAnswerError):
                    # Not the documented decline (that carries rewardNotificationText): a 200 with nothing
                    # in it may still have consumed the reward whose URL it does not show.
                    exc.advice = ("The claim was answered (HTTP 200) but with none of the reward fields, so "
                                  "whether a reward was consumed is unknown. Check the campaign (or the sandbox "
                                  "ledger) before claiming again; see the Raw tab for what came back.")
                # A 200 for getReward means the claim was processed; if we cannot read
                # the URL out of it, whether a reward was consumed is unknown.
                return self._finish(exchange, Outcome.UNKNOWN if billed else Outcome.ERROR, exc)
            if billed and not reward.reward_url:
                return self._finish(exchange, Outcome.NO_REWARD, errors.BusinessError(
                    status=status, notification_text=reward.notification_text), reward)
            return self._finish(exchange, Outcome.SUCCESS, None, reward)

        message, notification = self._error_fields(text)
        if status == 403:
            if message and "authentication token" in message.lower():
                # API Gateway says this for an unknown path or method, not a bad key.
                err = errors.RequestRejectedError(
                    message, status=status,
                    advice="The endpoint answered that this path does not exist. Check the base URL "
                           "(it usually ends in /prod) and the path spelling.")
            else:
                err = errors.ForbiddenError(message or "", status=status, notification_text=notification)
        elif status == 429 and message and message.strip().lower() == QUOTA_EXCEEDED_MESSAGE:
            # API Gateway's QUOTA_EXCEEDED [AWS docs]: the day's or month's calls are spent; never retried.
            err = errors.QuotaExceededError(status=status,
                                            retry_after=_retry_after(exchange.response_headers, self._now()))
        elif status == 429:
            # Retry-After is optional [assumed: not in API Gateway's defaults]: without it a preview backs off.
            err = errors.ThrottledError(message or "", status=status,
                                        retry_after=_retry_after(exchange.response_headers, self._now()))
        elif status >= 500:
            err = errors.ServerError(f"HTTP {status}" + (f", {message}" if message else ""), status=status,
                                     notification_text=notification)
            if billed and status in REWARD_UNKNOWN_STATUSES:
                return self._finish(exchange, Outcome.UNKNOWN, errors.OutcomeUnknownError(
                    f"the gateway answered HTTP {status}, so the service may or may not have processed the claim"))
        elif status == 407 and proxy_of(self._http, exchange.url or ""):
            # A forward proxy's own answer: it wants credentials, and did not pass the request on.
            err = proxy_needs_credentials(
                proxy_url_for_display(proxy_of(self._http, exchange.url or "")).split(" (")[0],
                httpx.URL(exchange.url or "").host)
        elif 300 <= status < 400:
            where = exchange.response_headers.get("location", "elsewhere")
            err = errors.InvalidResponseError(f"the endpoint redirects to {where}", status=status,
                                              advice="Use the final URL as the profile's endpoint.")
        else:
            err = errors.RequestRejectedError(f"HTTP {status}" + (f", {message}" if message else ""),
                                              status=status, notification_text=notification)
        return self._finish(exchange, Outcome.ERROR, err)

    @staticmethod
    def _error_fields(text: str) -> tuple[str | None, str | None]:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # not JSON; or nested too deep for the decoder ("[[[[…")
            return None, None
        if not isinstance(data, dict):
            return None, None
        message = data.get("message") if isinstance(data.get("message"), str) else None
        notification = data.get(REWARD_NOTIFICATION_TEXT)
        return message, notification if isinstance(notification, str) else None

    @staticmethod
    def _finish(exchange: Exchange, outcome: Outcome, error: errors.MomentsError | None,
                reward: RewardInfo | None = None) -> CallResult:
        exchange.outcome = outcome
        exchange.error_message = error.message if error else None
        return CallResult(exchange=exchange, reward=reward, error=error)


class _WireProgress:
    """How far one request got, from httpcore's trace events: a claim stopped by its deadline while
    still connecting sent nothing; once its headers started to go out it may have reached the server."""

    def __init__(self) -> None:
        self.connecting = False
        self.sending = False

    async def trace(self, event: str, info: dict) -> None:
        if event.startswith("connection.connect_tcp.") or event.startswith("connection.start_tls."):
            self.connecting = True
        elif ".send_request" in event:
            self.sending = True

    @property
    def nothing_sent(self) -> bool:
        # Only a connect seen in progress with no byte of the request after it proves nothing was sent;
        # no trace at all (a transport that does not report) counts as maybe sent.
        return self.connecting and not self.sending


def _retry_after(headers: dict[str, str], now: datetime) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
        except (TypeError, ValueError):
            return None

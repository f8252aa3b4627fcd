"""Helpers for the client's tests against the real sandbox: a per-test event loop (asyncio.run), a
real httpx.AsyncClient (closed at the end of each call), and fakes for what would otherwise be
time: the retry sleep, the duration clock and the wall clock."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from moments_desktop.core.tasks import finish_async_generator_finalizers
from moments_desktop.core.client import MomentsClient
from moments_desktop.core.request import RewardRequest

# A fixed "now" for the client's wall clock (timestamps, Retry-After dates).
FIXED_NOW = datetime(2031, 1, 1, 0, 0, 0, tzinfo=UTC)
_DEMO_KEY = object()


def run(coro):
    return asyncio.run(coro)


def demo_request(sandbox, **changes) -> RewardRequest:
    return replace(RewardRequest(base_url=sandbox.base_url, **sandbox.demo_body), **changes)


def live_request(sandbox, **changes) -> RewardRequest:
    return demo_request(sandbox, campaignId="LIVECAMP1", **changes)


class Sleeps:
    """An injected `sleep` that records each delay and returns at once."""

    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class StepClock:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, start: float = 100.0, step: float = 0.25):
        self._values = itertools.count(start, step)

    def __call__(self) -> float:
        return next(self._values)


class Wire:
    """An httpx request event hook: what the client handed to the transport, byte for byte."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


async def with_client(fn, *, wire: Wire | None = None, **client_kw):
    hooks = {"request": [wire]} if wire is not None else {}
    try:
        async with httpx.AsyncClient(event_hooks=hooks) as http:
            return await fn(MomentsClient(http, **client_kw))
    finally:
        await finish_async_generator_finalizers()  # as Session.aclose() does


def info(sandbox, request=None, key=_DEMO_KEY, *, wire=None, **client_kw):
    request = request or demo_request(sandbox)
    key = sandbox.demo_key if key is _DEMO_KEY else key
    client_kw.setdefault("sleep", Sleeps())
    return run(with_client(lambda c: c.get_reward_info(request, key), wire=wire, **client_kw))


def claim(sandbox, request=None, key=_DEMO_KEY, *, before_send=None, wire=None, **client_kw):
    request = request or demo_request(sandbox)
    key = sandbox.demo_key if key is _DEMO_KEY else key
    return run(with_client(lambda c: c.get_reward(request, key, before_send=before_send), wire=wire, **client_kw))

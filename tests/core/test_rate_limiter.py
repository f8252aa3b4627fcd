"""The client's rate limiter with a fake clock: not too fast (the sandbox test catches that) and
not too slow either — five calls per key at once, one bucket per key, a window of 1.1 s."""

import asyncio

import httpx
import pytest
from client_helpers import demo_request

from moments_desktop.core.client import MomentsClient, RateLimiter

KEY_A = "sandbox-demo-key-0001"
KEY_B = "sandbox-demo-key-0002"


class FakeTime:
    """`clock` and `sleep` for the limiter: sleeping moves the clock, and is recorded."""

    def __init__(self, now: float = 1000.0):
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


def limiter(fake: FakeTime, **kw) -> RateLimiter:
    return RateLimiter(clock=fake.clock, sleep=fake.sleep, **kw)


def acquire_all(lim: RateLimiter, keys) -> None:
    async def go():
        for key in keys:
            await lim.acquire(key)

    asyncio.run(go())


def test_five_calls_go_at_once_and_the_sixth_waits_for_the_window():
    # The defaults: [doc] 5 calls per second per key, in a window of a second plus 100 ms for the
    # jitter between when we send and when the server counts.
    fake = FakeTime()
    lim = limiter(fake)
    acquire_all(lim, [KEY_A] * 5)
    assert fake.sleeps == []  # not over-throttled: all five of the second's calls, no wait
    acquire_all(lim, [KEY_A])
    assert fake.sleeps == [pytest.approx(1.101)]  # until the first call leaves the 1.1 s window


def test_a_call_exactly_one_window_later_does_not_wait():
    fake = FakeTime(now=0.0)
    lim = limiter(fake)
    acquire_all(lim, [KEY_A] * 5)
    fake.now = 1.1
    acquire_all(lim, [KEY_A] * 5)
    assert fake.sleeps == []


def test_a_call_just_inside_the_window_waits_only_for_the_rest_of_it():
    fake = FakeTime(now=0.0)
    lim = limiter(fake)
    acquire_all(lim, [KEY_A] * 5)
    fake.now = 1.0
    acquire_all(lim, [KEY_A])
    assert fake.sleeps == [pytest.approx(0.101)]


def test_the_window_slides_call_by_call():
    fake = FakeTime(now=0.0)
    lim = limiter(fake)
    for _ in range(5):  # 0.0, 0.2, ..., 0.8
        acquire_all(lim, [KEY_A])
        fake.now += 0.2
    # At 1.0 the window (1.1 s) still holds all five: wait until the one at 0.0 leaves it.
    acquire_all(lim, [KEY_A])
    assert fake.sleeps == [pytest.approx(0.101)]
    # The next one waits for the call made at 0.2 to leave.
    acquire_all(lim, [KEY_A])
    assert fake.sleeps[1] == pytest.approx(0.2)


def test_each_key_has_its_own_bucket():
    fake = FakeTime()
    lim = limiter(fake)
    acquire_all(lim, [KEY_A] * 5 + [KEY_B] * 5)
    assert fake.sleeps == []
    acquire_all(lim, [KEY_B])
    assert len(fake.sleeps) == 1


def test_custom_limits():
    fake = FakeTime(now=0.0)
    lim = limiter(fake, calls=2, window=3.0)
    acquire_all(lim, [KEY_A] * 2)
    assert fake.sleeps == []
    acquire_all(lim, [KEY_A])
    assert fake.sleeps == [pytest.approx(3.001)]


def test_concurrent_callers_share_the_key_budget_in_order():
    fake = FakeTime(now=0.0)
    lim = limiter(fake)
    done = []

    async def call(i):
        await lim.acquire(KEY_A)
        done.append((i, fake.now))

    async def go():
        await asyncio.gather(*(call(i) for i in range(7)))

    asyncio.run(go())
    assert [i for i, _ in done] == list(range(7))
    assert [t for _, t in done[:5]] == [0.0] * 5
    assert all(t >= 1.1 for _, t in done[5:])


def test_the_limiter_keeps_no_key():
    fake = FakeTime()
    lim = limiter(fake)
    acquire_all(lim, [KEY_A])
    assert KEY_A not in repr(vars(lim))


def test_the_client_limits_per_stripped_key(sandbox):
    # "key" and " key " are one key on the wire, so they share one budget.
    fake = FakeTime()
    lim = limiter(fake, calls=2)

    async def go():
        async with httpx.AsyncClient() as http:
            client = MomentsClient(http, limiter=lim)
            for key in [sandbox.demo_key, f" {sandbox.demo_key}", f"{sandbox.demo_key}\t"]:
                result = await client.get_reward_info(demo_request(sandbox), key)
                assert result.ok, result.error

    asyncio.run(go())
    assert len(fake.sleeps) == 1  # the third call waited for the first to leave the window


def test_a_call_counts_from_when_it_goes_out_not_from_when_it_got_its_slot():
    # The journal writes a claim's intent between the slot and the send; the server counts arrivals.
    fake = FakeTime(now=0.0)
    lim = limiter(fake)

    async def go():
        sending = await lim.acquire(KEY_A)
        fake.now = 0.3  # the intent's write took 300 ms
        sending()
        for _ in range(4):
            (await lim.acquire(KEY_A))()

    asyncio.run(go())
    assert fake.sleeps == []
    acquire_all(lim, [KEY_A])
    assert fake.now == pytest.approx(1.401)  # a window after the first call went out, not after its slot


def test_a_slow_intent_write_before_the_first_call_gets_no_429_from_the_sandbox(sandbox):
    # Six previews through the real sandbox (5 a second): the first one's before_send takes 300 ms, the
    # time a journal can take to open or to wait for a lock. Counted from its slot, the sixth call would
    # arrive 0.8 s after the first and be throttled.
    async def go():
        async with httpx.AsyncClient() as http:
            client = MomentsClient(http)
            results = []
            for i in range(6):
                slow = i == 0

                async def before_send(_exchange, slow=slow):
                    if slow:
                        await asyncio.sleep(0.3)

                results.append(await client.get_reward_info(demo_request(sandbox), sandbox.demo_key,
                                                            before_send=before_send))
            return results

    results = asyncio.run(go())
    assert [r.exchange.status for r in results] == [200] * 6, [str(r.error) for r in results]
    assert [r.exchange.attempts for r in results] == [1] * 6  # a preview retries a 429: none was needed

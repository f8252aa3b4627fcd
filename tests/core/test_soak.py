"""Soak: 2,000 previews and 200 claims through the real core Session against the real sandbox, with
random faults (fixed seed), then the process must hold about the resources it held at the start.

What it catches: a per-call leak (a socket or file left open, an exchange or a task kept alive) shows
as growth in open file descriptors, resident memory or live objects over 2,200 calls; a claim sent
twice shows in the sandbox's ledger; a claim left pending or a request missing from the journal shows
in the journal. The numbers are printed (the CI log shows them) and recorded as properties.

The sandbox runs in a second process (``python -m moments_desktop.sandbox``), so the descriptors and
memory measured are the app's alone, and the server does not compete with the client for the GIL.

Time: the whole test must stay within about a minute on a two-core CI machine, because it runs on
every CI run (marked slow, which the default test command does not deselect). The rate limit is
the one thing relaxed for that: at the real 5 calls/s per key, 2,200 calls take 440 s. The sandbox is
given a catalog allowing SOAK_RATE calls/s and the client a RateLimiter of the same rate (injected, as
MomentsClient allows), so neither throttles on its own: 429s come from injected faults instead. The
real limiter has tests of its own (tests/core/test_rate_limiter.py, test_client_limits.py).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import AsyncGeneratorType, CoroutineType

import leak_guard  # tests/leak_guard.py
import pytest
from memory_keyring import MemoryKeyring

from moments_desktop.api_schema import Endpoint, Outcome
from moments_desktop.core import errorlog
from moments_desktop.core.client import MomentsClient, RateLimiter, default_timeout
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal, JournalFilter
from moments_desktop.core.profiles import DEMO_PROFILE_ID, Profile, ProfileStore
from moments_desktop.core.rescue import rescue_path_for
from moments_desktop.core.resources import resources_dir
from moments_desktop.core.session import EmbeddedSandbox, Session
from moments_desktop.sandbox.admin import SandboxAdmin

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux only)"),
]

PREVIEWS = 2000
CLAIMS = 200
SEED = 20261201
FAULT_CHANCE = 0.2  # of each call meeting a one-shot fault
SOAK_RATE = 1000  # calls per second per key, in the sandbox's catalog and the client's limiter alike

# Bounds, end against start. The start is measured after a warm-up that has opened the pooled
# connection and the journal's files, filled SQLite's page cache and met every fault kind.
# - Open file descriptors: the client keeps one pooled connection (calls are one at a time), the journal
#   a fixed set of files; a dropped connection is replaced, not added. +5 leaves room for one more
#   connection and a transient file; a socket or file leaked per call adds 2,200.
MAX_FD_GROWTH = 5
# - Resident memory (after malloc_trim): seen -3 to +5 MiB (allocator arenas of the worker threads
#   that wrote the journal's 1 MiB rows of oversized answers; without those faults +1 MiB). Retaining 10 KB per
#   call (an exchange with its bodies) would add 21 MiB: the bound is below that with room over the worst
#   seen, since a bound met at random would block correct work. Smaller retained objects are what the
#   object counts below are for.
MAX_RSS_GROWTH_MIB = 14
# - Objects the garbage collector tracks: sharper than memory for references kept by mistake. A kept
#   CallResult holds at least five (the result, its Exchange, three dicts): 2,200 of them add 11,000.
#   Seen: +400 to +550, the leak guard's record of each socket a dropped connection replaced.
MAX_OBJECT_GROWTH = 4000
# - Of those, the ones of the modules a call goes through (the app, httpx/httpcore/anyio/h11, asyncio,
#   sqlite3, sockets, coroutines): seen 0 to a handful. One kept per call would add 2,200.
CALL_MODULES = ("moments_desktop.", "httpx", "httpcore", "anyio", "h11", "asyncio", "_asyncio", "sqlite3",
                "socket", "ssl", "_ssl", "concurrent.")
MAX_CALL_OBJECT_GROWTH = 50

# One-shot faults and how often each is picked: 429 (retried, Retry-After 0), 5xx, dropped and cut
# connections, slow answers, oversized and malformed bodies, non-reward answers. Delays are short:
# the time budget.
ONE_MIB = 1024 * 1024
FAULTS: list[tuple[int, dict]] = [
    (4, {"kind": "status", "status": 429, "headers": {"Retry-After": "0"}}),
    (1, {"kind": "status", "status": 429, "headers": {"Retry-After": "0"}, "times": 3}),
    (2, {"kind": "status", "status": 500}),
    (2, {"kind": "status", "status": 502}),
    (1, {"kind": "status", "status": 503, "text": "<html>Service Unavailable</html>"}),
    (1, {"kind": "status", "status": 504}),
    (1, {"kind": "status", "status": 200, "body": {}}),
    (1, {"kind": "status", "status": 200, "body": []}),
    (2, {"kind": "drop_before_read"}),
    (2, {"kind": "drop_after_read"}),
    (2, {"kind": "truncated"}),
    (2, {"kind": "malformed"}),
    (1, {"kind": "latency", "seconds": 0.05}),
    (1, {"kind": "slow_drip", "seconds": 0.1, "chunk_bytes": 64}),
    (1, {"kind": "oversized", "bytes": ONE_MIB + ONE_MIB // 2, "framing": "length"}),
    (1, {"kind": "oversized", "bytes": ONE_MIB + ONE_MIB // 2, "framing": "chunked"}),
    (1, {"kind": "oversized", "bytes": ONE_MIB + ONE_MIB // 2, "framing": "gzip"}),
]
# The warm-up: each fault kind WARM_UP_ROUNDS times on a preview and once on a claim (so the start is
# measured with the biggest answers already read once by each path), then some random calls.
WARM_UP_ROUNDS = 3
WARM_UP_RANDOM_PREVIEWS = 50
WARM_UP_RANDOM_CLAIMS = 5
WARM_UP_PREVIEWS = WARM_UP_ROUNDS * len(FAULTS) + WARM_UP_RANDOM_PREVIEWS
WARM_UP_CLAIMS = len(FAULTS) + WARM_UP_RANDOM_CLAIMS


class SoakSandbox:
    """The sandbox in a process of its own, with a catalog allowing SOAK_RATE calls per second."""

    def __init__(self, directory: Path):
        catalog = json.loads((resources_dir() / "catalog.json").read_text(encoding="utf-8"))
        catalog["rate_limit_per_second"] = SOAK_RATE
        path = directory / "soak-catalog.json"
        path.write_text(json.dumps(catalog), encoding="utf-8")
        # Its log (e.g. "socket.send() raised exception." each time the client hangs up on an oversized
        # answer, as it should) goes to a file, shown if it does not start.
        self.log_path = directory / "soak-sandbox.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moments_desktop.sandbox", "--port", "0", "--catalog", str(path)],
                stdout=subprocess.PIPE, stderr=log, text=True)
        first_line = self.process.stdout.readline()
        if "listening on " not in first_line:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {first_line!r} {self.log_path.read_text()}")
        self.base_url = first_line.rsplit("listening on ", 1)[1].strip()
        self.demo_key = catalog["apps"][0]["api_keys"][0]
        self.second_key = catalog["apps"][0]["api_keys"][1]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - it stops on SIGTERM
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def soak_sandbox(tmp_path):
    sandbox = SoakSandbox(tmp_path)
    try:
        with leak_guard.outlives_tests(SandboxAdmin(sandbox.base_url)) as admin:
            yield sandbox, admin
    finally:
        sandbox.stop()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _release_free_memory() -> Callable[[int], object]:
    """glibc's malloc_trim(0): hand the allocator's free pages back to the system, so resident memory
    measures what is in use rather than the high-water mark of the largest answer read so far (a
    1.5 MiB oversized body and its journal row raise it by up to 15 MiB at once). A no-op elsewhere."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return lambda pad: None


malloc_trim = _release_free_memory()


def rss_mib() -> float:
    """Resident memory (VmRSS), after the allocator returned its free pages."""
    malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def measure() -> dict:
    """Open file descriptors, resident memory (MiB), objects the garbage collector tracks, and those of
    CALL_MODULES (coroutines and async generators included) counted by type."""
    gc.collect()
    objects = gc.get_objects()
    of_calls = Counter(
        f"{type(o).__module__}.{type(o).__qualname__}" for o in objects
        if type(o).__module__.startswith(CALL_MODULES) or isinstance(o, (CoroutineType, AsyncGeneratorType)))
    count = len(objects)
    del objects
    return {"fds": open_fds(), "rss": rss_mib(), "objects": count, "call_objects": of_calls}


class Soak:
    """Drives the Session: previews and claims, one at a time as the window does, each meeting a
    random one-shot fault now and then."""

    def __init__(self, session: Session, admin: SandboxAdmin, profile_ids: list[str]):
        self.session = session
        self.admin = admin
        self.profile_ids = profile_ids
        self.random = random.Random(SEED)
        self.weights = [weight for weight, _ in FAULTS]
        self.outcomes: dict[str, Counter] = {Endpoint.GET_REWARD_INFO: Counter(), Endpoint.GET_REWARD: Counter()}
        self.faults: Counter = Counter()
        self.claims_sent = 0
        self.claims_not_read = 0  # dropped by the sandbox before it read them: not in its ledger
        self.previews_sent = 0
        self.preview_attempts = 0  # requests the previews sent, retries included
        self.claim_rows: dict[int, Outcome] = {}  # journal id -> the outcome the Session returned

    def maybe_fault(self, endpoint: str, spec: dict | None = None) -> str | None:
        """Add a random one-shot fault now and then (``spec``: this one, always); its kind or None."""
        if spec is None:
            if self.random.random() >= FAULT_CHANCE:
                return None
            (spec,) = self.random.choices([spec for _, spec in FAULTS], weights=self.weights)
        spec = {"times": 1, **spec}
        self.admin.add_fault(endpoint, **spec)
        self.faults[f"{endpoint} {spec['kind']} {spec.get('status', '')}".strip()] += 1
        return spec["kind"]

    async def preview(self, fault: dict | None = None) -> None:
        kind = self.maybe_fault(Endpoint.GET_REWARD_INFO, fault)
        profile_id = self.random.choice(self.profile_ids)
        result = await self.session.preview(profile_id)
        self.previews_sent += 1
        self.preview_attempts += result.exchange.attempts
        self.outcomes[Endpoint.GET_REWARD_INFO][result.outcome.value] += 1
        if kind is not None:
            # Used up by this very call (a 429 repeated three times, by its two retries): none is left
            # over to land on the next one.
            assert self.admin.faults() == [], self.admin.faults()

    async def claim(self, fault: dict | None = None) -> None:
        kind = self.maybe_fault(Endpoint.GET_REWARD, fault)
        profile_id = self.random.choice(self.profile_ids)
        plan = self.session.plan_claim(profile_id)
        result = await self.session.claim(plan, plan.typed_confirmation)
        self.claims_sent += 1
        if kind == "drop_before_read":
            self.claims_not_read += 1
        self.outcomes[Endpoint.GET_REWARD][result.call.outcome.value] += 1
        assert result.journal_id is not None
        self.claim_rows[result.journal_id] = result.call.outcome
        leftover = self.admin.faults()
        # A claim is never retried: a fault of three 429s is used once per claim, the rest is cleared.
        if leftover:
            assert [f["kind"] for f in leftover] == ["status"] and leftover[0]["applied"] == 1, leftover
            self.admin.clear_faults()

    async def warm_up(self) -> None:
        for _, spec in FAULTS:
            for _ in range(WARM_UP_ROUNDS):
                await self.preview(spec)
            await self.claim(spec)
        await self.run(WARM_UP_RANDOM_PREVIEWS, WARM_UP_RANDOM_CLAIMS)

    async def run(self, previews: int, claims: int) -> None:
        """``previews`` previews with ``claims`` claims spread evenly among them."""
        every = max(1, previews // max(1, claims))
        done_claims = 0
        for index in range(previews):
            await self.preview()
            if done_claims < claims and index % every == every - 1:
                await self.claim()
                done_claims += 1
        while done_claims < claims:
            await self.claim()
            done_claims += 1


def test_soak_2000_previews_and_200_claims_with_random_faults(soak_sandbox, tmp_path, monkeypatch, capsys,
                                                              record_property):
    sandbox, admin = soak_sandbox
    monkeypatch.setenv("MOMENTS_DESKTOP_HOME", str(tmp_path / "home"))  # the error log, if anything goes wrong
    journal_path = tmp_path / "journal.sqlite3"

    async def main() -> dict:
        profiles = ProfileStore(tmp_path / "profiles.json")
        credentials = CredentialStore(MemoryKeyring())
        own = profiles.add(Profile(name="Soak", base_url=sandbox.base_url, appId="DEMO1", momentId="GAME_COMPLETE",
                                   deviceType="Android", campaignId="DEMOCAMP1", rewardGroupId="US", live=False))
        credentials.set_key(own.id, sandbox.second_key)
        # A live campaign too: its claims consume stock (25), then are answered "out of stock".
        live = profiles.add(Profile(name="Soak live", base_url=sandbox.base_url, appId="DEMO1",
                                    momentId="GAME_COMPLETE", deviceType="Android", campaignId="LIVECAMP1",
                                    rewardGroupId="US", live=True))
        credentials.set_key(live.id, sandbox.second_key)
        http = make_client()
        client = MomentsClient(http, limiter=RateLimiter(calls=SOAK_RATE), timeout=default_timeout(read=5.0),
                               retry_backoff=0.01)
        session = Session(profiles, credentials, Journal(journal_path), http, client=client,
                          sandbox=EmbeddedSandbox(sandbox.base_url, sandbox.demo_key))
        soak = Soak(session, admin, [DEMO_PROFILE_ID, own.id, live.id])
        try:
            await soak.warm_up()
            start = measure()
            started = time.monotonic()
            await soak.run(PREVIEWS, CLAIMS)
            elapsed = time.monotonic() - started
            end = measure()
            pending = session.journal.count(JournalFilter(outcome=Outcome.PENDING))
            info_rows = session.journal.count(JournalFilter(endpoint=Endpoint.GET_REWARD_INFO))
            claim_rows = session.journal.count(JournalFilter(endpoint=Endpoint.GET_REWARD))
            journaled = {entry_id: session.journal.get(entry_id).outcome for entry_id in soak.claim_rows}
        finally:
            await session.aclose()
        return {"soak": soak, "start": start, "end": end, "elapsed": elapsed, "pending": pending,
                "info_rows": info_rows, "claim_rows": claim_rows, "journaled": journaled}

    wall = time.monotonic()
    run = asyncio.run(main())
    wall = time.monotonic() - wall
    soak, start, end = run["soak"], run["start"], run["end"]
    ledger = admin.ledger()

    growth = {key: end[key] - start[key] for key in ("fds", "rss", "objects")}
    call_growth = end["call_objects"] - start["call_objects"]  # the types that grew, by how much
    growth["call_objects"] = sum(call_growth.values())
    report = (
        f"soak: {soak.previews_sent} previews + {soak.claims_sent} claims ({WARM_UP_PREVIEWS} + {WARM_UP_CLAIMS} "
        f"of them warm-up) in {run['elapsed']:.1f} s, test {wall:.1f} s\n"
        f"soak: open fds {start['fds']} -> {end['fds']} ({growth['fds']:+d}, bound +{MAX_FD_GROWTH}); "
        f"RSS {start['rss']:.1f} -> {end['rss']:.1f} MiB ({growth['rss']:+.1f}, bound +{MAX_RSS_GROWTH_MIB}); "
        f"gc objects {start['objects']} -> {end['objects']} ({growth['objects']:+d}, bound +{MAX_OBJECT_GROWTH}), "
        f"of the call's modules +{growth['call_objects']} (bound +{MAX_CALL_OBJECT_GROWTH}) "
        f"{dict(call_growth.most_common(5))}\n"
        f"soak: previews {dict(soak.outcomes[Endpoint.GET_REWARD_INFO])}; "
        f"claims {dict(soak.outcomes[Endpoint.GET_REWARD])}; {soak.preview_attempts} preview attempts; "
        f"journal rows {run['info_rows']} GetRewardInfo + "
        f"{run['claim_rows']} GetReward; sandbox ledger {len(ledger)} GetReward\n"
        f"soak: faults {sum(soak.faults.values())}: {dict(sorted(soak.faults.items()))}"
    )
    with capsys.disabled():
        print("\n" + report)
    for key in ("fds", "rss", "objects"):
        record_property(f"soak_{key}_start", start[key])
        record_property(f"soak_{key}_end", end[key])
    record_property("soak_seconds", round(run["elapsed"], 1))

    assert soak.previews_sent == PREVIEWS + WARM_UP_PREVIEWS and soak.claims_sent == CLAIMS + WARM_UP_CLAIMS
    # The random faults (not counting the warm-up's): about FAULT_CHANCE of the calls, every kind.
    assert sum(soak.faults.values()) > FAULT_CHANCE * (PREVIEWS + CLAIMS) * 0.8 + len(FAULTS) * (WARM_UP_ROUNDS + 1)
    assert {key.split()[1] for key in soak.faults} == {spec["kind"] for _, spec in FAULTS}

    # Resources: end against start.
    assert growth["fds"] <= MAX_FD_GROWTH, report
    assert growth["rss"] <= MAX_RSS_GROWTH_MIB, report
    assert growth["objects"] <= MAX_OBJECT_GROWTH, report
    assert growth["call_objects"] <= MAX_CALL_OBJECT_GROWTH, report

    # The journal: a row for every request that went out (each retry of a preview a row of its own),
    # every claim completed with the outcome the Session returned, none left pending.
    assert soak.preview_attempts > soak.previews_sent  # the 429s and 502-504s were retried
    assert run["info_rows"] == soak.preview_attempts
    assert run["claim_rows"] == soak.claims_sent
    assert run["pending"] == 0
    assert run["journaled"] == soak.claim_rows
    assert not rescue_path_for(journal_path).exists()  # every answer went into the journal itself
    # Nothing unexpected happened on the way (an UnexpectedError logs its traceback there).
    assert not errorlog.log_path().exists(), errorlog.log_path().read_text()
    # The sandbox's ledger: each claim reached it exactly once (those it dropped before reading excepted:
    # it closes their connections without recording them), so none was ever re-sent.
    assert len(ledger) == soak.claims_sent - soak.claims_not_read
    assert sum(1 for entry in ledger if entry["consumed"]) <= 25  # LIVECAMP1/US's stock
    # Every claim the Session reported as a success is one the sandbox answered with a URL.
    successes = soak.outcomes[Endpoint.GET_REWARD][Outcome.SUCCESS.value]
    assert 0 < successes <= sum(1 for entry in ledger if entry["reward_url"])

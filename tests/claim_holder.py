"""A second process of the app for the cross-process claim guard's tests (tests/core/test_claim_guard.py).

Run as ``python tests/claim_holder.py MODE ...`` with MOMENTS_DESKTOP_HOME set: it opens the same profiles
and journal files the test does (core/paths.py), as a second window or the ``moments`` command would.
It talks on stdout, one line per event, and waits on stdin where told:

``claim SANDBOX_URL PROFILE_ID``: a real Session over the real sandbox (the embedded sandbox's demo key, in
memory), plans the claim and prints ``ready``; waits for a line ``go`` (a barrier: the test releases two of
these at once), claims, and prints ``in-flight ENTRY_ID`` the moment its intent is committed (before the
request leaves), then ``result {json}`` when the claim ended: outcome, error class, message, journal id,
and the other process's pid when refused by the guard.

``intents PROFILE_PREFIX``: the journal alone. Prints ``ready``, then for each line ``go N`` calls
``begin_intent`` for profile PREFIX-N and prints ``ok ENTRY_ID``, ``refused PID`` (the guard) or
``error MESSAGE``; ends at end of input. Its rows stay pending (no answer ever comes) while it runs.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from memory_keyring import MemoryKeyring  # tests/ is this script's folder, so it is on sys.path

from moments_desktop.core import paths
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import ClaimInFlightElsewhereError, Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.core.session import EmbeddedSandbox, Session
from moments_desktop.sandbox.catalog import load_default_catalog


def say(line: str) -> None:
    print(line, flush=True)


async def claim(sandbox_url: str, profile_id: str) -> None:
    async def run_blocking(fn, *args, **kwargs):
        value = await asyncio.to_thread(fn, *args, **kwargs)
        if getattr(fn, "__name__", "") == "begin_intent":
            say(f"in-flight {value}")  # committed: the request leaves next
        return value

    http = make_client()
    session = Session(ProfileStore(paths.profiles_path()), CredentialStore(MemoryKeyring()),
                      Journal(paths.journal_path()), http,
                      sandbox=EmbeddedSandbox(sandbox_url, load_default_catalog().demo().api_key),
                      run_blocking=run_blocking, clock=time.monotonic)
    try:
        plan = session.plan_claim(profile_id)
        say("ready")
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            return
        result = await session.claim(plan)
        error = result.call.error
        say("result " + json.dumps({
            "outcome": result.call.outcome.value, "journal_id": result.journal_id,
            "error": type(error).__name__ if error else None, "message": error.message if error else None,
            "other_pid": error.pid if isinstance(error, ClaimInFlightElsewhereError) else None,
            "reward_url": result.reward_url}))
    finally:
        await session.aclose()


def intents(prefix: str) -> None:
    with Journal(paths.journal_path()) as journal:
        say("ready")
        for line in sys.stdin:
            word, _, number = line.strip().partition(" ")
            if word != "go":
                break
            try:
                entry_id = journal.begin_intent(f"{prefix}-{number}", "Race", "GetReward",
                                                "http://127.0.0.1:9/GetReward", {}, {"appId": "DEMO1"},
                                                busy_timeout_s=10.0)
            except ClaimInFlightElsewhereError as exc:
                say(f"refused {exc.pid}")
            except Exception as exc:  # noqa: BLE001 - the test wants to see it, not a traceback
                say(f"error {type(exc).__name__}: {exc}")
            else:
                say(f"ok {entry_id}")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "claim":
        asyncio.run(claim(sys.argv[2], sys.argv[3]))
    elif mode == "intents":
        intents(sys.argv[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")

"""Opening what a command needs — profiles, history, keychain, HTTP client, and the built-in sandbox when
asked — as the Session the window uses, and closing all of it however the command ends.

The files are the window's own (``MOMENTS_DESKTOP_HOME`` relocates them, as for the app), so a claim made
here appears in the window's History. Start-up states the window asks about are told in one line instead:
the CLI never prompts for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moments_desktop.core.errors import MomentsError

from .output import Output, UsageError

if TYPE_CHECKING:
    from moments_desktop.core.profiles import Profile
    from moments_desktop.core.session import Session

# Another program holds the history's write lock (the window mid-write, another `moments`): probe again for
# this long before telling the user.
JOURNAL_LOCK_WAIT_S = 3.0
JOURNAL_LOCK_RETRY_S = 0.2


class JournalUnavailableError(MomentsError):
    """The history could not be opened for what this command needs (exit 6: nothing was sent)."""

    title = "The history cannot be used"


@dataclass
class OpenedFiles:
    profiles: Any  # ProfileStore
    journal: Any  # Journal
    claims_disabled_reason: str | None
    proxy: Any = None  # ProxySetting: the app-wide setting (settings.json), or --proxy


# ``--proxy URL|system|none`` of the command being run (main._run sets it; None: the app-wide setting).
proxy_override: str | None = None


def proxy_setting(out: Output) -> Any:
    """The proxy this command goes by: ``--proxy`` if given (a UsageError when it cannot be one), else the
    window's setting in settings.json (a warning, and the system's proxy, when that file cannot be used)."""
    from moments_desktop.core.settings import InvalidProxyError, ProxySetting, load_settings

    if proxy_override is not None:
        try:
            return ProxySetting.parse(proxy_override)
        except InvalidProxyError as exc:
            raise UsageError(f"--proxy: {exc.message}") from None
    loaded = load_settings()
    if loaded.warning:
        out.warning(loaded.warning)
    return loaded.settings.proxy


def open_files(out: Output, *, need_writable_journal: bool) -> OpenedFiles:
    """Blocking: the profiles and the journal, as the window opens them; start-up notices go to stderr as
    warnings. A journal that cannot be written is opened read-only (or as a temporary one) with claims off,
    unless the command needs to write it (``JournalUnavailableError``)."""
    from moments_desktop.core import startup

    profiles = startup.load_profiles()
    for warning in profiles.load_warnings:
        out.warning(warning)
    proxy = proxy_setting(out)
    path = startup.journal_location()
    deadline = time.monotonic() + JOURNAL_LOCK_WAIT_S
    while True:
        try:
            journal = startup.open_journal(path)
            break
        except startup.JournalLocked as problem:
            if time.monotonic() < deadline:
                time.sleep(JOURNAL_LOCK_RETRY_S)
                continue
            if need_writable_journal or not problem.readable:
                raise JournalUnavailableError(
                    f"{path} is locked by another program ({problem.detail})",
                    advice="Nothing was sent. Wait for it to finish (or close it), then try again.") from None
            opened = startup.fallback_journal(problem)
            return _fallback(out, profiles, opened, proxy)
        except startup.JournalCorrupt as problem:
            raise JournalUnavailableError(
                f"{path} cannot be read ({problem.detail})",
                advice="Nothing was sent. Open Moments Desktop to set it aside and start a new one, or move the "
                       "file away.") from None
        except startup.JournalUnwritable as problem:
            if need_writable_journal:
                raise JournalUnavailableError(
                    f"{path} cannot be written ({problem.detail})",
                    advice="Nothing was sent. Make the data folder writable, then try again.") from None
            return _fallback(out, profiles, startup.fallback_journal(problem), proxy)
    rescued = startup.rescue_notice(journal)
    if rescued:
        out.warning(rescued)
    return OpenedFiles(profiles, journal, None, proxy)


def _fallback(out: Output, profiles: Any, opened: Any, proxy: Any) -> OpenedFiles:
    if opened.notice:
        out.warning(opened.notice)
    return OpenedFiles(profiles, opened.journal, opened.claims_disabled_reason, proxy)


class SandboxStartError(MomentsError):
    """``--sandbox``: the built-in sandbox could not start in this process (exit 6: nothing was sent)."""

    title = "The built-in sandbox could not start"


@contextlib.asynccontextmanager
async def open_session(out: Output, *, with_sandbox: bool = False, catalog: str | None = None,
                       need_writable_journal: bool = False) -> AsyncIterator[Session]:
    """The Session over the user's files; with ``with_sandbox``, the built-in sandbox runs in this process
    (on its own thread) for the command's duration, as the window's embedded one does. Whatever was made
    is closed however this ends, a Ctrl+C while it was being made included."""
    from moments_desktop.core.credentials import CredentialStore
    from moments_desktop.core.http import make_client
    from moments_desktop.core.session import Session

    sandbox_server = None
    embedded = None
    files = None
    try:
        if with_sandbox:
            try:
                sandbox_server, embedded = await _made_in_thread(
                    start_embedded_sandbox, lambda made: made[0].stop(), catalog)
            except MomentsError:
                raise
            except Exception as exc:  # noqa: BLE001 - a port, the catalog file, the server's own start
                raise SandboxStartError(_one_line_reason(exc), advice="Nothing was sent.") from exc
        files = await _made_in_thread(
            open_files, lambda made: made.journal.close(), out, need_writable_journal=need_writable_journal)
        client = make_client(proxy=files.proxy)
        try:
            session = Session(files.profiles, CredentialStore(), files.journal, client, sandbox=embedded,
                              claims_disabled_reason=files.claims_disabled_reason)
        except BaseException:
            await client.aclose()
            raise
        files = None  # the Session owns the journal now: aclose() closes it
        # What start-up made lives until the process ends: keep the collector from walking it again at every
        # collection the keyring's import triggers (~60 ms of a `moments info`; tests/bench/bench_cli.py).
        gc.freeze()
        try:
            yield session
        finally:
            await session.aclose()
    finally:
        if files is not None:
            await asyncio.to_thread(files.journal.close)
        if sandbox_server is not None:
            await asyncio.to_thread(sandbox_server.stop)


async def _made_in_thread(make: Any, undo: Any, *args: Any, **kwargs: Any) -> Any:
    """``make(*args)`` on a thread; cancelled meanwhile (Ctrl+C), wait for it to finish and ``undo`` what it
    made before the cancellation goes on: a thread cannot be stopped, and its result would be dropped."""
    made = asyncio.ensure_future(asyncio.to_thread(make, *args, **kwargs))
    try:
        return await asyncio.shield(made)
    except asyncio.CancelledError:
        try:
            result = await made
        except BaseException:  # noqa: BLE001 - it failed after all: nothing was made to undo
            raise asyncio.CancelledError from None
        await asyncio.to_thread(undo, result)
        raise


def _one_line_reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def start_embedded_sandbox(catalog_path: str | None = None) -> tuple[Any, Any]:
    """Blocking: start the sandbox on a free 127.0.0.1 port; (server, EmbeddedSandbox). Imports the sandbox
    stack (Starlette, uvicorn) only here."""
    from moments_desktop.core.session import EmbeddedSandbox
    from moments_desktop.sandbox.catalog import load_catalog, load_default_catalog
    from moments_desktop.sandbox.server import SandboxServer

    catalog = load_catalog(catalog_path) if catalog_path else load_default_catalog()
    server = SandboxServer(catalog=catalog, port=0)
    url = server.start()
    return server, EmbeddedSandbox(url, catalog.demo().api_key, admin_token=server.admin_token)


def find_profile(session: Session, name: str) -> Profile:
    """The profile named ``name`` exactly; failing that, the one whose ID it is, or the only one whose name
    matches ignoring case. Otherwise a UsageError that lists the names there are."""
    profiles = session.profile_list()
    for matches in ([p for p in profiles if p.name == name], [p for p in profiles if p.id == name],
                    [p for p in profiles if p.name.casefold() == name.casefold()]):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UsageError(f"more than one profile is named {session.renderer.profile_name(name)!r}: "
                             "rename one in Moments Desktop, or pass its ID")
    names = ", ".join(repr(session.renderer.profile_name(p.name)) for p in profiles) or "none"
    raise UsageError(f"no profile named {session.renderer.profile_name(name)!r} (profiles: {names}; "
                     "see 'moments profiles list')")


def run_async(coro: Any) -> Any:
    """Run a command's coroutine to its end; Ctrl+C cancels it (a claim in flight is journaled as it ended:
    not sent, unknown, or with its answer) and comes out as KeyboardInterrupt, which ``run()`` reports."""
    return asyncio.run(coro)

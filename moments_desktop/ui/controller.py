"""The one object widgets talk to: it calls core (Operations, stores) and emits results.

Widgets never open a socket, a file or the keyring; they call methods here and render
what the signals carry. Every network step runs as an asyncio task on the qasync loop,
so the UI stays responsive and a preview can be cancelled; every disk and keychain call
runs in a worker thread (``asyncio.to_thread``), its result arriving as a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QObject, QTimer, Signal

from moments_desktop.core import errorlog
from moments_desktop.core.catalog_choices import NotASandbox, SandboxCatalog, fetch_catalog
from moments_desktop.core.client import CallResult, MomentsClient
from moments_desktop.core.credentials import (
    CredentialStore,
    delete_profile,
    duplicate_profile,
)
from moments_desktop.core.errors import (
    MissingKeyError,
    MomentsError,
    SandboxNotRunningError,
    UnexpectedError,
    ValidationError,
)
from moments_desktop.core.exchange import Outcome
from moments_desktop.core.journal import Journal
from moments_desktop.core.operations import ClaimInProgressError, Operations, ProfileRef
from moments_desktop.core.profiles import ImportReport, Profile, ProfileError, ProfileStore
from moments_desktop.core.request import BODY_FIELDS, DEFAULT_BASE_URL, Endpoint, RewardRequest, is_loopback_url
from moments_desktop.core.reward import RewardInfo

from .image_loader import ImageLoadError, fetch_image

# A sandbox catalog's stock counts change with every claim: ask again after this long.
CATALOG_FRESH_S = 15.0
# An endpoint that could not be reached may be a sandbox started later.
CATALOG_RETRY_S = 30.0


class ProfileTransferError(MomentsError):
    title = "The profiles could not be exported"
    advice = "Choose another folder or file name and try again."


@dataclass
class LastPreview:
    """The newest preview answer for one target (base URL + the five fields), for the claim dialog."""

    at: datetime
    reward: RewardInfo | None  # None: that preview answered without a reward
    error: MomentsError | None
    claims_since: int = 0  # claims sent to the same target after this preview


@dataclass(frozen=True)
class ClaimSummary:
    """Everything the claim confirmation shows, and exactly what a confirmed claim sends."""

    profile_id: str
    profile_name: str
    base_url: str  # validated, as it will be sent
    fields: dict[str, str]  # the five body fields, validated, as they will be sent
    live: bool
    embedded_sandbox: bool
    cost_per_action: Decimal | None
    currency: str
    last_preview: LastPreview | None

    @property
    def claim_url(self) -> str:
        return f"{self.base_url}/{Endpoint.GET_REWARD.value}"


# The kinds of network call; one at a time (see PreviewController._start_call).
PREVIEW, KEY_TEST, CLAIM = "preview", "key test", "claim"


class PreviewController(QObject):
    busy_changed = Signal(bool)
    preview_started = Signal()
    preview_finished = Signal(object)  # CallResult (ok or with .error)
    preview_failed = Signal(object)  # MomentsError raised before/around the call (no exchange)
    preview_cancelled = Signal()
    image_loading = Signal()
    image_loaded = Signal(object)  # QImage (decoded off the UI thread)
    image_failed = Signal(str)  # the reason, for the placeholder
    key_test_finished = Signal(object)  # None when the key works, else the MomentsError
    claim_started = Signal()
    claim_finished = Signal(object)  # ClaimResult: the exchange came back (any outcome, NOT_SENT included)
    # (error, may_have_been_sent): the claim stopped on an error of its own, with no exchange to show.
    claim_failed = Signal(object, bool)
    journal_changed = Signal()  # an Operations call returned (or a claim ended): the journal has new rows
    # Profile changes (profiles.json writes, keychain calls that may block on D-Bus) run in a worker
    # thread; results arrive here. A result is the value or the MomentsError (KeyringUnavailableError
    # when the keychain failed, ProfileError when profiles.json could not be written).
    profile_write_busy_changed = Signal(bool)  # a profile or its key is being written (see profile_write_busy)
    keyring_name_changed = Signal(str)
    key_checked = Signal(str, object)  # profile id, True/False or the error
    key_saved = Signal(str, object)  # profile id, name of the store that holds it now, or the error
    profile_created = Signal(object)  # the new Profile, or the error
    profile_renamed = Signal(str, object)  # profile id, the renamed Profile or the error
    profile_saved = Signal(str, object)  # profile id, the saved Profile or the error
    profile_settings_saved = Signal(str, object)  # profile id, the changed Profile or the error
    profile_deleted = Signal(str, object)  # profile id, a warning (str) or None, or the error
    profile_duplicated = Signal(str, object)  # source id, (copy: Profile, warning: str | None) or the error
    catalog_loaded = Signal(str, object)  # base URL (no trailing slash), SandboxCatalog or None
    import_read = Signal(object)  # ImportReport
    import_applied = Signal(object)  # list of the added Profiles, or the error
    profiles_exported = Signal(str, object)  # path, number of profiles written or the error

    def __init__(self, profiles: ProfileStore, credentials: CredentialStore, journal: Journal,
                 http: httpx.AsyncClient, *, sandbox_url: str | None = None, sandbox_key: str | None = None,
                 client: MomentsClient | None = None, parent: QObject | None = None):
        """``client`` defaults to a MomentsClient over ``http``; tests pass one with short timeouts."""
        super().__init__(parent)
        self._profiles = profiles
        self._credentials = credentials
        self._journal = journal
        self._http = http
        self._ops = Operations(client or MomentsClient(http), journal)
        self.sandbox_url = sandbox_url
        self._sandbox_key = sandbox_key
        # The one network call in flight (a preview, a key test or a claim), and which kind it is:
        # busy and claiming are read off these, so they cannot disagree with what runs.
        self._call_task: asyncio.Task | None = None
        self._call_kind: str | None = None
        self._image_task: asyncio.Task | None = None
        self._previews: dict[tuple, LastPreview] = {}
        self._closing_task: asyncio.Task | None = None
        self._closed = False
        self._tasks: set[asyncio.Task] = set()
        self._deferred: list[tuple[Callable[[], Coroutine[Any, Any, None]], Callable[[], None] | None]] = []
        self._deferred_timer = QTimer(self)
        self._deferred_timer.setInterval(20)
        self._deferred_timer.timeout.connect(self._start_deferred)
        self._profile_writes = 0
        self._catalogs: dict[str, tuple[float, SandboxCatalog | None]] = {}  # url -> (valid until, catalog)
        self._catalog_fetches: set[str] = set()

    # --- queries ---------------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        return list(self._profiles.profiles())

    def profile(self, profile_id: str) -> Profile:
        return self._profiles.get(profile_id)

    def base_url_for(self, profile: Profile) -> str:
        """The endpoint the form shows: the embedded sandbox's real URL for the demo profile."""
        return profile.to_request(self.sandbox_url).base_url

    def keyring_name(self) -> str:
        try:
            return self._credentials.backend_name()
        except Exception:  # noqa: BLE001 - a status line must never break the window
            return "unknown"

    @property
    def busy(self) -> bool:
        """A preview, key test or claim is in flight."""
        return self._call_task is not None

    @property
    def claiming(self) -> bool:
        """A getReward is in flight (busy is True as well)."""
        return self._call_kind == CLAIM

    @property
    def journal(self) -> Journal:
        """For the history view's service, which reads it off the UI thread."""
        return self._journal

    # --- profile changes, off the UI thread ------------------------------------------------
    # Each start_* returns at once; the result comes as a signal. Every change that writes
    # profiles.json or a key is "exclusive": profile_write_busy is True from the call until the
    # result is emitted, so the window can hold the controls that would change the profile under it.

    @property
    def profile_write_busy(self) -> bool:
        """A profile change is being written (profiles.json, the keychain or both)."""
        return self._profile_writes > 0

    def start_create_profile(self, name: str, template_id: str | None = None) -> None:
        """A new profile → ``profile_created``; its body fields start from ``template_id`` (never
        its key, nor its URL when that is the embedded sandbox)."""
        body = {}
        base_url = DEFAULT_BASE_URL
        # Declared live unless it clearly points at a local sandbox: the safe side is the strong confirmation.
        settings: dict[str, Any] = {"live": not is_loopback_url(base_url)}
        if template_id is not None and template_id in self._profiles:
            template = self._profiles.get(template_id)
            body = {name_: getattr(template, name_) for name_ in BODY_FIELDS}
            if not template.uses_embedded_sandbox:
                base_url = template.base_url
                settings = {"live": template.live, "cost_per_action": template.cost_per_action,
                            "currency": template.currency}
        new = Profile(name=name, base_url=base_url, **body, **settings)

        async def run() -> Callable[[], None]:
            result = await self._write_profiles(self._profiles.add, new)
            return lambda: self.profile_created.emit(result)
        self._spawn_profile_write(run)

    def start_rename_profile(self, profile_id: str, new_name: str) -> None:
        """→ ``profile_renamed``."""
        async def run() -> Callable[[], None]:
            result = await self._write_profiles(self._profiles.rename, profile_id, new_name)
            return lambda: self.profile_renamed.emit(profile_id, result)
        self._spawn_profile_write(run)

    def start_save_profile(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        """Write the form's endpoint + body fields to the stored profile → ``profile_saved``."""
        body = {name: fields.get(name, "") for name in BODY_FIELDS}

        def save() -> Profile:
            profile = self._profiles.get(profile_id)
            url = base_url
            if profile.uses_embedded_sandbox and url.strip() == self.base_url_for(profile):
                url = profile.base_url  # keep the sentinel, not this run's sandbox port
            return self._profiles.edit(profile_id, base_url=url, **body)

        async def run() -> Callable[[], None]:
            result = await self._write_profiles(save)
            return lambda: self.profile_saved.emit(profile_id, result)
        self._spawn_profile_write(run)

    def start_save_settings(self, profile_id: str, live: bool, cost_per_action: Decimal | None, currency: str,
                            notes: str) -> None:
        """Write the claim-related settings of a profile → ``profile_settings_saved``."""
        async def run() -> Callable[[], None]:
            change = functools.partial(self._profiles.edit, profile_id, live=live,
                                       cost_per_action=cost_per_action, currency=currency, notes=notes)
            result = await self._write_profiles(change)
            return lambda: self.profile_settings_saved.emit(profile_id, result)
        self._spawn_profile_write(run)

    def refresh_keyring_name(self) -> None:
        async def run() -> None:
            self.keyring_name_changed.emit(await asyncio.to_thread(self.keyring_name))
        self._spawn(run)

    def start_key_check(self, profile_id: str) -> None:
        """Whether a key is stored for the profile → ``key_checked``."""
        async def run() -> None:
            self.key_checked.emit(profile_id, await self._in_thread(self._credentials.has_key, profile_id))
        self._spawn(run)

    def start_save_key(self, profile_id: str, key: str) -> None:
        """Store the key in the keychain (or the chosen memory store) → ``key_saved``."""
        def store() -> str:
            self._credentials.set_key(profile_id, key)
            return self._credentials.backend_name()

        async def run() -> Callable[[], None]:
            result = await self._in_thread(store)
            return lambda: self.key_saved.emit(profile_id, result)
        self._spawn_profile_write(run)

    def start_delete_profile(self, profile_id: str, *, even_if_key_remains: bool = False) -> None:
        """Delete the profile and its key → ``profile_deleted``.

        The key goes first: when the keychain fails the profile is kept (the error is the
        result) unless ``even_if_key_remains``, which deletes it and returns a warning.
        """
        delete = functools.partial(delete_profile, self._profiles, self._credentials, profile_id,
                                   even_if_key_remains=even_if_key_remains)

        async def run() -> Callable[[], None]:
            result = await self._write_profiles(delete)
            return lambda: self.profile_deleted.emit(profile_id, result)
        self._spawn_profile_write(run)

    def start_duplicate_profile(self, profile_id: str) -> None:
        """Copy the profile and its key → ``profile_duplicated``: (copy, warning or None), or the error.
        A key that cannot be copied leaves the copy without one and a warning."""
        async def run() -> Callable[[], None]:
            result = await self._write_profiles(duplicate_profile, self._profiles, self._credentials, profile_id)
            return lambda: self.profile_duplicated.emit(profile_id, result)
        self._spawn_profile_write(run)

    def use_memory_fallback(self) -> None:
        self._credentials.use_memory_fallback()  # no backend call: sets a dict

    @property
    def keys_in_memory_only(self) -> bool:
        return self._credentials.is_memory_only

    @staticmethod
    async def _in_thread(fn: Callable[..., Any], *args) -> Any:
        """``fn(*args)`` in a worker thread; its MomentsError (or an UnexpectedError) is returned, not raised."""
        try:
            return await asyncio.to_thread(fn, *args)
        except MomentsError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            return errorlog.unexpected(exc)

    async def _write_profiles(self, change: Callable[..., Any], *args) -> Any:
        """Run a ProfileStore change (it writes profiles.json) in a worker thread; its result or a MomentsError.

        A failed write leaves the store as it was (see ProfileStore), so the window keeps the edits."""
        def write() -> Any:
            try:
                return change(*args)
            except OSError as exc:
                raise ProfileError(
                    f"profiles.json could not be written ({exc.strerror or type(exc).__name__})",
                    advice=f"Nothing was changed. Check that there is free disk space and that "
                           f"{self._profiles.path.parent} is writable, then try again.") from None
        return await self._in_thread(write)

    # --- sandbox catalog (choices for the form) ---------------------------------------

    def load_catalog(self, base_url: str) -> None:
        """Ask ``base_url`` for a sandbox catalog → ``catalog_loaded`` (None when it is no sandbox).
        Cached per URL; no API key is sent."""
        url = base_url.strip().rstrip("/")
        cached = self._catalogs.get(url)
        if cached is not None and cached[0] > time.monotonic():
            self.catalog_loaded.emit(url, cached[1])
            return
        if url in self._catalog_fetches:
            return
        self._catalog_fetches.add(url)

        async def run() -> None:
            try:
                catalog = await fetch_catalog(self._http, url)
                keep = CATALOG_FRESH_S
            except NotASandbox:
                catalog, keep = None, math.inf  # it answered: it will not become a sandbox
            except Exception:  # noqa: BLE001 - unreachable, timeout, ...: just no choices
                catalog, keep = None, CATALOG_RETRY_S
            finally:
                self._catalog_fetches.discard(url)
            self._catalogs[url] = (time.monotonic() + keep, catalog)
            self.catalog_loaded.emit(url, catalog)
        self._spawn(run)

    def forget_catalog(self, base_url: str) -> None:
        """Drop the cached catalog (e.g. after a claim changed the stock)."""
        self._catalogs.pop(base_url.strip().rstrip("/"), None)

    # --- profile import / export ----------------------------------------------------------

    def exportable_profiles(self) -> list[Profile]:
        return self._profiles.exportable()

    def start_export(self, path: str | Path) -> None:
        """Write the exportable profiles (never a key) to ``path`` → ``profiles_exported``."""
        async def run() -> None:
            # ProfileStore reads need no lock (see its docstring): the export runs wholly in a worker thread.
            try:
                written = await asyncio.to_thread(self._profiles.export_profiles, Path(path))
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                self.profiles_exported.emit(str(path), ProfileTransferError(f"{path}: {reason}"))
                return
            self.profiles_exported.emit(str(path), written)
        self._spawn(run)

    def start_import_read(self, path: str | Path) -> None:
        """Read and check an import file → ``import_read`` (a report per profile and field)."""
        async def run() -> None:
            # parse_import reads only the file: safe in a worker thread.
            report = await asyncio.to_thread(self._profiles.parse_import, Path(path))
            self.import_read.emit(report)
        self._spawn(run)

    def start_apply_import(self, report: ImportReport) -> None:
        """Add the report's valid profiles (written like any profile change) → ``import_applied``."""
        async def run() -> Callable[[], None]:
            result = await self._write_profiles(self._profiles.apply_import, report)
            return lambda: self.import_applied.emit(result)
        self._spawn_profile_write(run)

    # --- task plumbing --------------------------------------------------------------------

    def _spawn(self, make: Callable[[], Coroutine[Any, Any, None]], on_done: Callable[[], None] | None = None) -> None:
        if self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # The window is built before the event loop runs (at start, in tests): start once it runs.
            self._deferred.append((make, on_done))
            self._deferred_timer.start()
            return
        task = asyncio.ensure_future(make())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if on_done is not None:
            task.add_done_callback(lambda _task: on_done())

    def _start_deferred(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # still no loop: poll again
        self._deferred_timer.stop()
        pending, self._deferred = self._deferred, []
        for make, on_done in pending:
            self._spawn(make, on_done)

    def _spawn_profile_write(self, make: Callable[[], Coroutine[Any, Any, Callable[[], None]]]) -> None:
        """Run an exclusive profile change. ``make()`` returns the emit of its result, called after
        profile_write_busy is released so a slot reacting to the result may start the next one."""
        self._profile_writes += 1
        if self._profile_writes == 1:
            self.profile_write_busy_changed.emit(True)
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._profile_writes -= 1
            if self._profile_writes == 0 and not self._closed:
                self.profile_write_busy_changed.emit(False)

        async def run() -> None:
            try:
                emit_result = await make()
            finally:
                release()
            emit_result()
        # release() as done-callback too: a task cancelled before its first step never runs its body.
        self._spawn(run, release)

    # --- preview ---------------------------------------------------------------------

    def _start_call(self, kind: str, run: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Start the network call ``run()`` unless one is in flight; busy is set before this returns,
        so a second activation in the same event-loop turn is refused."""
        if self.busy or self._closed:
            return False
        self._call_kind = kind
        self._call_task = asyncio.ensure_future(run())
        # A done-callback, not a finally: a task cancelled before its first step never runs its body.
        self._call_task.add_done_callback(self._call_done)
        self.busy_changed.emit(True)
        return True

    def _call_done(self, task: asyncio.Task) -> None:
        if task is not self._call_task:
            return
        kind = self._call_kind
        self._call_task = self._call_kind = None
        if kind == PREVIEW and task.cancelled() and not self._closed:
            self.preview_cancelled.emit()
        self.busy_changed.emit(False)
        if kind == CLAIM:
            # However the claim ended (answer, error, cancelled after send) its intent row may have changed.
            self.journal_changed.emit()

    def preview(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        """Start getRewardInfo for the profile with the form's values (ignored while busy)."""
        if self.busy or self._closed:
            return
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields)
        self._cancel_image()
        if self._start_call(PREVIEW, lambda: self._run_preview(profile, request)):
            self.preview_started.emit()

    def test_key(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        """Run getRewardInfo with the form's values and the profile's stored key; the verdict
        arrives as ``key_test_finished`` (ignored while busy). Journaled like any call."""
        if self.busy or self._closed:
            return
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields)
        self._start_call(KEY_TEST, lambda: self._run_key_test(profile, request))

    async def _run_key_test(self, profile: Profile, request: RewardRequest) -> None:
        try:
            result = await self._journaled_preview(profile, request)
        except MomentsError as exc:
            self.key_test_finished.emit(exc)
            return
        # Any answer past authentication (a reward, `[]`, a business message) proves the key.
        answered = result.exchange.status is not None and 200 <= result.exchange.status < 300
        self.key_test_finished.emit(None if answered else (result.error or UnexpectedError()))

    def cancel(self) -> None:
        """Stop a preview or key test. Never a claim: stopping one after it was sent only makes its outcome
        unknown, which is worse than waiting for the answer or the timeout (both bounded by the client)."""
        if self._call_task is not None and self._call_kind != CLAIM:
            self._call_task.cancel()

    def _request_for(self, profile: Profile, base_url: str, fields: dict[str, str]) -> RewardRequest:
        return replace(profile.to_request(self.sandbox_url), base_url=base_url,
                       **{name: fields.get(name, "") for name in BODY_FIELDS})

    def _remember_preview(self, request: RewardRequest, result: CallResult) -> None:
        """Keep the newest answered preview per target; a transport failure teaches nothing, so it is skipped."""
        if result.outcome not in (Outcome.SUCCESS, Outcome.NO_REWARD):
            return
        try:
            target = request.validated().target()
        except ValidationError:
            return
        self._previews[target] = LastPreview(at=datetime.now().astimezone(),
                                             reward=result.reward if result.ok else None, error=result.error)

    def _key_for(self, profile: Profile) -> str:
        if profile.uses_embedded_sandbox:
            if not self.sandbox_url or not self._sandbox_key:
                raise SandboxNotRunningError()
            return self._sandbox_key  # held in memory only, never written to the keyring
        key = self._credentials.get_key(profile.id)
        if not key:
            raise MissingKeyError()
        return key

    async def _journaled_preview(self, profile: Profile, request: RewardRequest) -> CallResult:
        """getRewardInfo with the profile's key, journaled and remembered for the claim dialog.

        Raises MomentsError (KeyringUnavailableError included); anything else becomes UnexpectedError,
        so callers show a message, never a traceback.
        """
        try:
            key = await asyncio.to_thread(self._key_for, profile)  # keyring calls may block (D-Bus)
            result = await self._ops.preview(ProfileRef(profile.id, profile.name), request, key)
        except MomentsError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise errorlog.unexpected(exc) from exc
        self.journal_changed.emit()
        self._remember_preview(request, result)
        return result

    async def _run_preview(self, profile: Profile, request: RewardRequest) -> None:
        try:
            result = await self._journaled_preview(profile, request)
        except MomentsError as exc:
            self.preview_failed.emit(exc)
            return
        self.preview_finished.emit(result)
        if result.ok and result.reward.image_url:
            self._image_task = asyncio.ensure_future(self._run_image(result.reward.image_url))
        elif result.ok:
            self.image_failed.emit("The reward has no image.")

    # --- claim (billed) -----------------------------------------------------------------

    def claim_summary(self, profile_id: str, base_url: str, fields: dict[str, str]) -> ClaimSummary:
        """What the confirmation dialog shows; raises ValidationError when the values cannot be sent."""
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields).validated()
        return ClaimSummary(
            profile_id=profile.id, profile_name=profile.name, base_url=request.base_url, fields=request.body(),
            live=profile.live, embedded_sandbox=profile.uses_embedded_sandbox,
            cost_per_action=profile.cost_per_action, currency=profile.currency,
            last_preview=self._previews.get(request.target()))

    def claim(self, profile_id: str, base_url: str, fields: dict[str, str]) -> bool:
        """Send ONE getReward for the profile with these values. Only call this after the user confirmed.

        Returns False (and sends nothing) while anything is in flight (see _start_call);
        Operations.claim refuses a concurrent claim as the last backstop. Never retried.
        """
        if self.busy or self._closed:
            return False
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields)
        self._cancel_image()
        if not self._start_call(CLAIM, lambda: self._run_claim(profile, request)):
            return False
        self.claim_started.emit()
        return True

    async def _run_claim(self, profile: Profile, request: RewardRequest) -> None:
        try:
            key = await asyncio.to_thread(self._key_for, profile)  # keyring calls may block (D-Bus)
        except MomentsError as exc:
            self.claim_failed.emit(exc, False)
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self.claim_failed.emit(errorlog.unexpected(exc, "claim: reading the key"), False)
            return
        try:
            result = await self._ops.claim(ProfileRef(profile.id, profile.name), request, key)
        except ClaimInProgressError as exc:
            self.claim_failed.emit(exc, False)
            return
        except MomentsError as exc:
            # e.g. the journal failed after the request went out: whether a reward was consumed is unknown.
            self.claim_failed.emit(exc, True)
            return
        except Exception as exc:  # noqa: BLE001
            self.claim_failed.emit(errorlog.unexpected(exc, "claim: after sending"), True)
            return
        if result.call.outcome is not Outcome.NOT_SENT:
            self._note_claim_sent(request)
            self.forget_catalog(request.base_url)  # a live claim changed the stock the choices show
        self.claim_finished.emit(result)
        if result.reward_url and result.call.reward.image_url:
            self._image_task = asyncio.ensure_future(self._run_image(result.call.reward.image_url))
        elif result.reward_url:
            self.image_failed.emit("The reward has no image.")

    def _note_claim_sent(self, request: RewardRequest) -> None:
        try:
            last = self._previews.get(request.validated().target())
        except ValidationError:
            return
        if last is not None:
            last.claims_since += 1

    async def _run_image(self, url: str) -> None:
        self.image_loading.emit()
        try:
            image = await fetch_image(self._http, url)
        except ImageLoadError as exc:
            self.image_failed.emit(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            errorlog.log_exception(exc, "reward image")
            self.image_failed.emit(f"The image could not be loaded ({type(exc).__name__}).")
        else:
            self.image_loaded.emit(image)

    def _cancel_image(self) -> None:
        if self._image_task is not None and not self._image_task.done():
            self._image_task.cancel()

    # --- lifetime --------------------------------------------------------------------

    def shutdown(self) -> None:
        """Called when the window closes: stop work; finish closing on the loop if it runs."""
        self.cancel()
        self._cancel_image()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # the owner awaits aclose() (app.main_async, tests)
        self.aclose()

    def aclose(self) -> asyncio.Future:
        """Cancel and await running tasks, close the HTTP client and the journal.

        Idempotent: every caller awaits the same closing task.
        """
        if self._closing_task is None:
            self._closed = True
            self._closing_task = asyncio.ensure_future(self._aclose())
        return self._closing_task

    async def _aclose(self) -> None:
        # A claim still in flight is cancelled too: Operations journals it as unknown on the way out.
        self._deferred_timer.stop()
        self._deferred.clear()
        running = (self._call_task, self._image_task, *self._tasks)
        tasks = [t for t in running if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._http.aclose()
        self._journal.close()

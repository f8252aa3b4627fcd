"""The one object widgets talk to: it calls core (Operations, stores) and emits results.

Widgets never open a socket, a file or the keyring; they call methods here and render
what the signals carry. Every network step runs as an asyncio task on the qasync loop,
so the UI stays responsive and a preview can be cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

import httpx
from PySide6.QtCore import QObject, Signal

from moments_desktop.core.client import CallResult, MomentsClient
from moments_desktop.core.credentials import (
    CredentialStore,
    KeyringUnavailableError,
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
from moments_desktop.core.profiles import Profile, ProfileStore
from moments_desktop.core.request import BODY_FIELDS, DEFAULT_BASE_URL, Endpoint, RewardRequest
from moments_desktop.core.reward import RewardInfo

from .image_loader import ImageLoadError, fetch_image


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


def _target(request: RewardRequest) -> tuple:
    """What makes two calls address the same reward (see RewardRequest.same_target)."""
    return request.url(Endpoint.GET_REWARD), tuple(request.body().items())


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
        self._preview_task: asyncio.Task | None = None
        self._image_task: asyncio.Task | None = None
        self._key_test_task: asyncio.Task | None = None
        self._claim_task: asyncio.Task | None = None
        self._claiming = False
        self._previews: dict[tuple, LastPreview] = {}
        self._closing_task: asyncio.Task | None = None
        self._closed = False
        self._busy = False

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
        return self._busy

    @property
    def claiming(self) -> bool:
        """A getReward is in flight (busy is True as well)."""
        return self._claiming

    @property
    def journal(self) -> Journal:
        """For the history view's service, which reads it off the UI thread."""
        return self._journal

    # --- profile management (ProfileStore / CredentialStore; may raise MomentsError) ----

    def create_profile(self, name: str, template_id: str | None = None) -> Profile:
        """A new profile; its body fields start from ``template_id`` (never its key or URL
        when that is the embedded sandbox)."""
        body = {}
        base_url = DEFAULT_BASE_URL
        if template_id is not None and template_id in self._profiles:
            template = self._profiles.get(template_id)
            body = {name_: getattr(template, name_) for name_ in BODY_FIELDS}
            if not template.uses_embedded_sandbox:
                base_url = template.base_url
        return self._profiles.add(Profile(name=name, base_url=base_url, **body))

    def rename_profile(self, profile_id: str, new_name: str) -> Profile:
        return self._profiles.rename(profile_id, new_name)

    def duplicate_profile(self, profile_id: str) -> Profile:
        return duplicate_profile(self._profiles, self._credentials, profile_id)

    def delete_profile(self, profile_id: str, *, even_if_key_remains: bool = False) -> str | None:
        """Delete profile + key; returns a warning when the key had to be left behind."""
        return delete_profile(self._profiles, self._credentials, profile_id,
                              even_if_key_remains=even_if_key_remains)

    def save_profile(self, profile_id: str, base_url: str, fields: dict[str, str]) -> Profile:
        """Write the form's endpoint + body fields to the stored profile."""
        profile = self._profiles.get(profile_id)
        if profile.uses_embedded_sandbox and base_url.strip() == self.base_url_for(profile):
            base_url = profile.base_url  # keep the sentinel, not this run's sandbox port
        return self._profiles.update(replace(profile, base_url=base_url,
                                             **{name: fields.get(name, "") for name in BODY_FIELDS}))

    # --- API keys (keyring only; the key never comes back to a widget) -----------------

    def has_key(self, profile_id: str) -> bool:
        return self._credentials.has_key(profile_id)

    def set_key(self, profile_id: str, key: str) -> None:
        self._credentials.set_key(profile_id, key)

    def use_memory_fallback(self) -> None:
        self._credentials.use_memory_fallback()

    @property
    def keys_in_memory_only(self) -> bool:
        return self._credentials.is_memory_only

    # --- preview ---------------------------------------------------------------------

    def preview(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        """Start getRewardInfo for the profile with the form's values (ignored while busy)."""
        if self.busy or self._closed:
            return
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields)
        self._cancel_image()
        self._busy = True
        self._preview_task = asyncio.ensure_future(self._run_preview(profile, request))
        # A done-callback, not a finally: a task cancelled before its first step never runs its body.
        self._preview_task.add_done_callback(self._preview_done)
        self.busy_changed.emit(True)
        self.preview_started.emit()

    def test_key(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        """Run getRewardInfo with the form's values and the profile's stored key; the verdict
        arrives as ``key_test_finished`` (ignored while busy). Journaled like any call."""
        if self.busy or self._closed:
            return
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields)
        self._busy = True
        self._key_test_task = asyncio.ensure_future(self._run_key_test(profile, request))
        self._key_test_task.add_done_callback(self._key_test_done)
        self.busy_changed.emit(True)

    async def _run_key_test(self, profile: Profile, request: RewardRequest) -> None:
        try:
            key = await asyncio.to_thread(self._key_for, profile)
            result = await self._ops.preview(ProfileRef(profile.id, profile.name), request, key)
            self.journal_changed.emit()
        except (MomentsError, KeyringUnavailableError) as exc:
            self.key_test_finished.emit(exc)
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self.key_test_finished.emit(UnexpectedError(type(exc).__name__))
            return
        self._remember_preview(request, result)
        # Any answer past authentication (a reward, `[]`, a business message) proves the key.
        answered = result.exchange.status is not None and 200 <= result.exchange.status < 300
        self.key_test_finished.emit(None if answered else (result.error or UnexpectedError()))

    def _key_test_done(self, task: asyncio.Task) -> None:
        if task is not self._key_test_task:
            return
        self._busy = False
        self.busy_changed.emit(False)

    def cancel(self) -> None:
        """Stop a preview or key test. Never a claim: stopping one after it was sent only makes its outcome
        unknown, which is worse than waiting for the answer or the timeout (both bounded by the client)."""
        if self._key_test_task is not None and not self._key_test_task.done():
            self._key_test_task.cancel()
        if self._preview_task is not None and not self._preview_task.done():
            self._preview_task.cancel()

    def _request_for(self, profile: Profile, base_url: str, fields: dict[str, str]) -> RewardRequest:
        return replace(profile.to_request(self.sandbox_url), base_url=base_url,
                       **{name: fields.get(name, "") for name in BODY_FIELDS})

    def _remember_preview(self, request: RewardRequest, result: CallResult) -> None:
        """Keep the newest answered preview per target; a transport failure teaches nothing, so it is skipped."""
        if result.outcome not in (Outcome.SUCCESS, Outcome.NO_REWARD):
            return
        try:
            target = _target(request.validated())
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

    async def _run_preview(self, profile: Profile, request: RewardRequest) -> None:
        try:
            key = await asyncio.to_thread(self._key_for, profile)  # keyring calls may block (D-Bus)
            result = await self._ops.preview(ProfileRef(profile.id, profile.name), request, key)
            self.journal_changed.emit()
        except (MomentsError, KeyringUnavailableError) as exc:
            self.preview_failed.emit(exc)
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self.preview_failed.emit(UnexpectedError(type(exc).__name__))
            return
        self._remember_preview(request, result)
        self.preview_finished.emit(result)
        if result.ok and result.reward.image_url:
            self._image_task = asyncio.ensure_future(self._run_image(result.reward.image_url))
        elif result.ok:
            self.image_failed.emit("The reward has no image.")

    def _preview_done(self, task: asyncio.Task) -> None:
        if task is not self._preview_task:
            return
        self._busy = False
        if task.cancelled() and not self._closed:
            self.preview_cancelled.emit()
        self.busy_changed.emit(False)

    # --- claim (billed) -----------------------------------------------------------------

    def claim_summary(self, profile_id: str, base_url: str, fields: dict[str, str]) -> ClaimSummary:
        """What the confirmation dialog shows; raises ValidationError when the values cannot be sent."""
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields).validated()
        return ClaimSummary(
            profile_id=profile.id, profile_name=profile.name, base_url=request.base_url, fields=request.body(),
            live=profile.live, embedded_sandbox=profile.uses_embedded_sandbox,
            cost_per_action=profile.cost_per_action, currency=profile.currency,
            last_preview=self._previews.get(_target(request)))

    def claim(self, profile_id: str, base_url: str, fields: dict[str, str]) -> bool:
        """Send ONE getReward for the profile with these values. Only call this after the user confirmed.

        Returns False (and sends nothing) while anything is in flight: busy is set before this
        returns, so a second activation in the same event-loop turn is refused here, and
        Operations.claim refuses a concurrent claim as the last backstop. Never retried.
        """
        if self.busy or self._closed:
            return False
        profile = self._profiles.get(profile_id)
        request = self._request_for(profile, base_url, fields)
        self._cancel_image()
        self._busy = True
        self._claiming = True
        self._claim_task = asyncio.ensure_future(self._run_claim(profile, request))
        self._claim_task.add_done_callback(self._claim_done)
        self.busy_changed.emit(True)
        self.claim_started.emit()
        return True

    async def _run_claim(self, profile: Profile, request: RewardRequest) -> None:
        try:
            key = await asyncio.to_thread(self._key_for, profile)  # keyring calls may block (D-Bus)
        except (MomentsError, KeyringUnavailableError) as exc:
            self.claim_failed.emit(exc, False)
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self.claim_failed.emit(UnexpectedError(type(exc).__name__), False)
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
            self.claim_failed.emit(UnexpectedError(type(exc).__name__), True)
            return
        if result.call.outcome is not Outcome.NOT_SENT:
            self._note_claim_sent(request)
        self.claim_finished.emit(result)
        if result.reward_url and result.call.reward.image_url:
            self._image_task = asyncio.ensure_future(self._run_image(result.call.reward.image_url))
        elif result.reward_url:
            self.image_failed.emit("The reward has no image.")

    def _note_claim_sent(self, request: RewardRequest) -> None:
        try:
            last = self._previews.get(_target(request.validated()))
        except ValidationError:
            return
        if last is not None:
            last.claims_since += 1

    def _claim_done(self, task: asyncio.Task) -> None:
        if task is not self._claim_task:
            return
        self._busy = False
        self._claiming = False
        self.busy_changed.emit(False)
        # However the claim ended (answer, error, cancelled after send) its intent row may have changed.
        self.journal_changed.emit()

    async def _run_image(self, url: str) -> None:
        self.image_loading.emit()
        try:
            image = await fetch_image(self._http, url)
        except ImageLoadError as exc:
            self.image_failed.emit(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
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
        running = (self._preview_task, self._image_task, self._key_test_task, self._claim_task)
        tasks = [t for t in running if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._http.aclose()
        self._journal.close()

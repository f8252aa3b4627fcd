"""The Session: every use case of Moments Desktop, for the GUI and the CLI alike. No Qt here.

The GUI's bridge and the ``moments`` command line both hold one Session and call it; neither
decides a rule (Anki's split: the GUI schedules, core decides). The Session owns:

- turning a profile plus the form's unsaved values into a ``RewardRequest`` and its API key
  (the embedded sandbox's key included, which lives in memory only);
- preview, the key-test verdict, and the memory of the last preview per target;
- planning a claim (``ClaimPlan``: everything the confirmation shows), checking the user's
  confirmation (``confirmation_ok``), and the claim itself, refused while another is in flight;
- profile create/save/rename/delete/duplicate with the built-in profile's rules, settings,
  keys, import and export;
- the sandbox catalog cache, and its invalidation after a claim.

Every method that touches the disk, the keychain or SQLite runs that work through
``run_blocking`` (a worker thread by default), so a caller on a UI thread never blocks.
Errors are ``MomentsError``s with words a person can act on; anything else is logged and
becomes an ``UnexpectedError``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from moments_desktop.api_schema import (
    BODY_FIELDS,
    DEFAULT_BASE_URL,
    JSON_MEDIA_TYPE,
    SANDBOX_ADMIN_TOKEN_HEADER,
    Endpoint,
    Outcome,
)

from . import errorlog
from .client import CallResult, MomentsClient
from .credentials import CredentialStore, KeyringUnavailableError, key_left_behind_warning
from .errors import (
    EmptyAnswerError,
    MissingKeyError,
    MomentsError,
    SandboxNotRunningError,
    SettingsUnwritableError,
    UnexpectedError,
    UnsendableKeyError,
    ValidationError,
)
from .exchange import redact_echoed_secrets
from .http import MomentsHTTPClient, describe_proxy
from .journal import Journal, JournalEntry, JournalError, JournalFilter
from .message_templates import MessageTemplates, PreviewOutcome, RenderedMessage
from .operations import ClaimInProgressError, ClaimResult, Operations, ProfileRef
from .profiles import DEMO_PROFILE_ID, EMBEDDED_SANDBOX_URL, ImportReport, Profile, ProfileError, ProfileStore
from .render import Renderer
from .settings import ProxySetting, load_settings, save_settings, settings_path
from .tasks import DetachedJobs, TaskOwner, ThreadJobs, finish_async_generator_finalizers
from .request import RewardRequest, is_loopback_url, is_sendable_key, validate_base_url, validate_field
from .wire import build_request

if TYPE_CHECKING:  # python-liquid is imported on the first rendering, not with the Session
    from .diagnostics import Row
    from .catalog_choices import SandboxCatalog
    from .exports import Export, ExportFormat
    from .message_preview import MessagePreviewReport
    from .reward import RewardInfo
    from .stage import StageContent
    from .images import CachedImage, ImageCache
    from .sweep import SweepCard, SweepChoices, SweepPlan, SweepProgress, SweepResult, SweepRun
    from .sweep_baseline import Baseline, SweepDiff
    from .sweep_report import SweepReportFormat

T = TypeVar("T")
RunBlocking = Callable[..., Awaitable[Any]]

# A sandbox catalog's stock counts change with every claim: ask again after this long.
CATALOG_FRESH_S = 15.0
# An endpoint that could not be reached may be a sandbox started later.
CATALOG_RETRY_S = 30.0
# A report's images are fetched this many at a time (most are in the on-disk cache already, after the sweep).
REPORT_IMAGE_DOWNLOADS = 4
# The last previews kept (per target) for the claim confirmation; the oldest is forgotten first. A claim
# follows a recent preview; a sweep previews thousands.
MAX_REMEMBERED_PREVIEWS = 300
# A sweep's concurrent calls: about the limiter's ``calls`` (a slow endpoint still fills the rate), never more
# than this: a raised limiter must not open dozens of connections at once (32 made the first burst freeze the
# window for 60 ms and the run slower on two cores; 8 keep a loopback sandbox at 100 calls per second busy).
MAX_SWEEP_WORKERS = 8
# Closing waits this long for keychain calls still running (e.g. behind an unanswered unlock prompt),
# then abandons them: they write nothing of ours, and must not keep the process alive.
KEYCHAIN_CLOSE_WAIT_S = 1.0
# The overall limit of "Reset sandbox for the next demo": one admin call to the sandbox this process runs, which
# answers in milliseconds; one that has not answered by then is stuck, and the user is told so.
SANDBOX_RESET_DEADLINE_S = 5.0
SANDBOX_RESET_PATH = "/__sandbox/reset"


class ProfileTransferError(MomentsError):
    title = "The profiles could not be exported"
    advice = "Choose another folder or file name and try again."


class BuiltinProfileError(ProfileError):
    title = "The built-in profile cannot be changed that way"
    advice = "Duplicate it and change the copy."


class ConfirmationError(MomentsError):
    title = "The claim was not confirmed"
    advice = "Nothing was sent. Confirm the claim to send it."


class ClaimStoppedError(MomentsError):
    """A claim ended with no exchange to show. ``may_have_been_sent`` says whether a reward may be gone."""

    def __init__(self, error: MomentsError, may_have_been_sent: bool):
        self.error = error
        self.may_have_been_sent = may_have_been_sent
        self.title = error.title
        self.advice = error.advice
        super().__init__(error.detail)


class ClaimsDisabledError(MomentsError):
    title = "Claims are turned off"


class SandboxResetError(MomentsError):
    title = "The sandbox could not be reset"
    advice = ("Nothing was claimed and the ledger is as it was. Try again in a moment; restarting the app also "
              "starts the built-in sandbox afresh (the History keeps every claim).")


class SandboxResetUnavailableError(MomentsError):
    """The one-click reset is for the sandbox this app runs, reached by a profile that uses it."""

    title = "Only the built-in sandbox can be reset for a demo"
    advice = "Choose a profile that uses the built-in sandbox (the demo profile does), then reset."


class SandboxResettingError(MomentsError):
    """A sweep of the built-in sandbox asked for while "Reset sandbox for the next demo" is in flight: its
    answers would mix the stock before the reset with the stock after it."""

    title = "The sandbox is being reset for the next demo"
    advice = "Run the sweep when it is done."


class HistoryEntryNotFoundError(MomentsError):
    title = "There is no such history entry"
    advice = "Check the entry's number in the history."


class NotResolvableError(MomentsError):
    """Only an unknown outcome nobody has resolved takes a resolution note (the window's "Mark resolved…")."""

    title = "This history entry cannot be marked resolved"


@dataclass(frozen=True)
class EmbeddedSandbox:
    """The sandbox this process runs: its URL, its demo key and its admin token (held in memory, never in
    the keyring). The demo key comes from the catalog object, not over HTTP (the admin catalog shows keys
    only to the admin token's holder); the token is what a tool of the app would present to see them."""

    url: str
    api_key: str
    admin_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LastPreview:
    """The newest answered preview for one target (base URL + the five fields)."""

    at: datetime
    reward: Any  # RewardInfo, or None when that preview answered without a reward
    error: MomentsError | None
    claims_since: int = 0  # claims sent to the same target after this preview


@dataclass(frozen=True)
class SandboxReset:
    """What "Reset sandbox for the next demo" did: the embedded sandbox's inventory, counters, rate limits,
    faults and clock are as its catalog starts them; its ledger is kept."""

    at: datetime
    previews_forgotten: int  # the remembered previews of the sandbox's targets, now stale


@dataclass(frozen=True)
class ProfileRules:
    """What the user may do with a profile; the window enables its buttons from this."""

    rename: bool
    delete: bool
    edit_settings: bool
    store_key: bool  # the embedded sandbox's key is built in: nothing to store


@dataclass(frozen=True)
class ClaimPlan:
    """Everything the claim confirmation shows, and exactly what a confirmed claim sends."""

    profile_id: str
    profile_name: str
    request: RewardRequest  # validated: trimmed, as it will be sent
    live: bool
    embedded_sandbox: bool
    cost_per_action: Decimal | None
    currency: str
    last_preview: LastPreview | None  # of the same target, or None: there was none this session
    # The endpoint is not the profile's saved one (an unsaved edit): live whatever the profile declares.
    unsaved_endpoint: bool = False

    @property
    def base_url(self) -> str:
        return self.request.base_url

    @property
    def fields(self) -> dict[str, str]:
        return self.request.body()

    @property
    def claim_url(self) -> str:
        return self.request.url(Endpoint.GET_REWARD)

    @property
    def claims_since_preview(self) -> int:
        return self.last_preview.claims_since if self.last_preview else 0

    @property
    def needs_typed_confirmation(self) -> bool:
        """A live campaign: the user must type the campaign ID exactly before the claim is sent."""
        return self.live

    @property
    def typed_confirmation(self) -> str:
        """What must be typed for a live claim."""
        return self.request.campaignId


def confirmation_ok(plan: ClaimPlan, typed: str | None) -> bool:
    """The live rule: a claim on a live profile needs the campaign ID typed exactly (no trimming,
    no case folding: a near miss means the user did not read it). Test-mode claims need only
    the explicit confirmation itself."""
    if not plan.needs_typed_confirmation:
        return True
    return typed == plan.typed_confirmation


class ConfirmationMissing(Enum):
    """Why a claim asked for from a command line (typed text and/or an explicit yes) may not be sent."""

    TYPED_NEEDED = "typed_needed"  # a live claim with nothing typed: a yes alone never confirms it
    TYPED_MISMATCH = "typed_mismatch"  # typed, but not the campaign ID exactly
    YES_NEEDED = "yes_needed"  # a test-mode claim without its explicit yes


def confirmation_missing(plan: ClaimPlan, typed: str | None, *, confirmed: bool) -> ConfirmationMissing | None:
    """The confirmation rule for a claim confirmed without the dialog (the CLI's --confirm / --yes): a live
    claim needs the campaign ID typed exactly, whatever else was given; a test-mode claim needs the explicit
    ``confirmed``, and a campaign ID typed for it anyway must be its own (a near miss means the user has
    another campaign in mind). None when the claim may be sent."""
    if plan.needs_typed_confirmation:
        if typed is None:
            return ConfirmationMissing.TYPED_NEEDED
        return None if confirmation_ok(plan, typed) else ConfirmationMissing.TYPED_MISMATCH
    if typed is not None and typed != plan.typed_confirmation:
        return ConfirmationMissing.TYPED_MISMATCH
    return None if confirmed else ConfirmationMissing.YES_NEEDED


def profile_rules(profile: Profile) -> ProfileRules:
    builtin = profile.is_builtin
    return ProfileRules(rename=not builtin, delete=not builtin, edit_settings=not builtin,
                        store_key=not profile.uses_embedded_sandbox)


class Session:
    def __init__(self, profiles: ProfileStore, credentials: CredentialStore, journal: Journal,
                 http: httpx.AsyncClient, *, client: MomentsClient | None = None,
                 sandbox: EmbeddedSandbox | None = None, renderer: Renderer | None = None,
                 run_blocking: RunBlocking | None = None, clock: Callable[[], float] = time.monotonic,
                 claims_disabled_reason: str | None = None, image_cache_dir: Path | None = None):
        """``image_cache_dir`` (default paths.cache_dir() / "images", created on first use) holds the sweep's
        downloaded images. ``client`` defaults to a MomentsClient over ``http``; tests pass one with short timeouts.
        The Session owns ``http`` and ``journal``: ``aclose()`` closes both. ``claims_disabled_reason``
        (e.g. the journal is read-only, so no intent can be written) makes every claim refused with it."""
        self.claims_disabled_reason = claims_disabled_reason
        self.profiles = profiles
        self.credentials = credentials
        self.journal = journal
        self.http = http
        self.sandbox = sandbox
        self.renderer = renderer or Renderer()
        self._client = client or MomentsClient(http)
        # Blocking calls (disk, keychain, SQLite) run in worker threads, tracked to their end: aclose()
        # waits for them before it closes the journal they may be writing.
        self._jobs = ThreadJobs()
        self._run_blocking = run_blocking or self._jobs.run
        # Keychain calls may block for as long as an unlock prompt stays open: daemon threads, not awaited
        # on close beyond KEYCHAIN_CLOSE_WAIT_S (disk and journal jobs above are always awaited).
        self._keychain_jobs = DetachedJobs()
        self._run_keychain = run_blocking or self._keychain_jobs.run
        self._ops = Operations(self._client, journal, run_blocking=self._run_blocking)
        self._clock = clock
        # The newest previews per target, oldest first: a claim plan needs only a recent one, and repeated
        # sweeps of 10,000 combinations must not grow this without bound (MAX_REMEMBERED_PREVIEWS).
        self._previews: OrderedDict[tuple, LastPreview] = OrderedDict()
        self._catalogs: dict[str, tuple[float, SandboxCatalog | None]] = {}  # url -> (valid until, catalog)
        self._catalog_fetches: dict[str, asyncio.Future] = {}  # the one shared fetch per URL
        self._all_fetches: set[asyncio.Future] = set()  # shared or superseded, until they end
        self._catalog_generation: dict[str, int] = {}  # bumped by forget_catalog
        self._claiming = False
        self._claim_reached_operations = False
        self._resetting_sandbox = False  # "Reset sandbox for the next demo" in flight: no sweep of it starts
        self._sweeps: set[TaskOwner] = set()  # the workers of each running sweep
        self._image_cache_dir = image_cache_dir
        self._image_cache: ImageCache | None = None  # made by the first sweep_image
        self._closed = False

    # --- presenter mode -------------------------------------------------------------------

    @property
    def presenter(self) -> bool:
        """Presenter mode: every identifier and URL is rendered masked (the renderer's switch)."""
        return self.renderer.masked

    def set_presenter(self, on: bool) -> bool:
        """Turn presenter mode on or off; True when that changed it."""
        if self.renderer.masked == bool(on):
            return False
        self.renderer.masked = bool(on)
        return True

    # --- the sandbox, reset for the next demo (presenter mode's one-click button) ------------

    def sandbox_reset_blocker(self, profile_id: str | None, base_url: str | None = None) -> MomentsError | None:
        """Why "Reset sandbox for the next demo" may not run now for this profile and the form's endpoint
        (``base_url``; None: the profile's), or None when it may. Only the sandbox this process runs is reset,
        and only for a profile that uses it at its own address: the admin API of any other endpoint is never
        driven by this button. In memory, no I/O; the words never name the profile (a shared screen)."""
        if self._closed:
            return SandboxResetError("the app is closing")
        if self.sandbox is None:
            return SandboxNotRunningError()
        if profile_id is None or profile_id not in self.profiles:
            return SandboxResetUnavailableError("no profile is chosen")
        profile = self.profiles.get(profile_id)
        if not profile.uses_embedded_sandbox:
            return SandboxResetUnavailableError("this profile does not use the built-in sandbox")
        url = self.resolve(profile_id, base_url).base_url
        if _catalog_key(url) != _catalog_key(self.sandbox.url):
            return SandboxResetUnavailableError(
                "the form's endpoint is not the built-in sandbox's",
                advice="Revert the endpoint to the profile's own (the built-in sandbox), then reset.")
        if self._claiming:
            return SandboxResetError("a claim is waiting for its answer", advice="Reset once it has ended.")
        return None

    async def reset_sandbox_for_demo(self, profile_id: str | None, base_url: str | None = None, *,
                                     deadline: float = SANDBOX_RESET_DEADLINE_S) -> SandboxReset:
        """Reset the embedded sandbox for the next demo: inventory, monthly counters, quotas, rate windows,
        faults and its clock back to the catalog's start (the sandbox's admin reset with ``ledger: false``);
        **the ledger is kept**, and with it the reward URLs it issued. One admin call within ``deadline``
        seconds overall, never retried.

        The remembered previews of the sandbox's targets are forgotten (their remaining counts, and the claims
        counted since, describe the stock before the reset: a claim confirmation must not show them as the
        latest preview), and so is its cached catalog (the form's stock counts).

        Raises what ``sandbox_reset_blocker`` names, and SandboxResetError when the sandbox did not answer
        in time, could not be reached or did not confirm a reset that kept the ledger."""
        blocker = self.sandbox_reset_blocker(profile_id, base_url)
        if blocker is not None:
            raise blocker
        assert self.sandbox is not None
        self._resetting_sandbox = True  # set with no await since the blocker was asked
        try:
            return await self._reset_sandbox(self.sandbox, deadline)
        finally:
            self._resetting_sandbox = False

    async def _reset_sandbox(self, sandbox: EmbeddedSandbox, deadline: float) -> SandboxReset:
        headers = {"Content-Type": JSON_MEDIA_TYPE}  # the admin API takes JSON writes only
        if sandbox.admin_token:
            headers[SANDBOX_ADMIN_TOKEN_HEADER] = sandbox.admin_token
        url = _catalog_key(sandbox.url) + SANDBOX_RESET_PATH
        try:
            async with asyncio.timeout(deadline):
                response = await self.http.post(url, json={"ledger": False}, headers=headers, timeout=deadline)
        except TimeoutError:
            raise SandboxResetError(f"the sandbox did not answer within {deadline:g} s") from None
        except httpx.HTTPError as exc:
            raise SandboxResetError(f"the sandbox could not be reached ({type(exc).__name__})") from None
        except RuntimeError as exc:  # the HTTP client was closed under us: the app is closing
            if self.http.is_closed:
                raise SandboxResetError("the app is closing") from None
            raise errorlog.unexpected(exc, "sandbox reset") from exc
        if response.status_code != 200:
            raise SandboxResetError(f"the sandbox answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("reset") is not True or answer.get("ledger_cleared") is not False:
            raise SandboxResetError("the sandbox did not confirm a reset that kept its ledger")
        forgotten = self._forget_previews_of(sandbox.url)
        self.forget_catalog(sandbox.url)
        return SandboxReset(at=datetime.now().astimezone(), previews_forgotten=forgotten)

    def stage_content(self, profile_id: str | None, reward: RewardInfo) -> StageContent:
        """What presenter mode's customer stage shows for a preview's reward (core/stage.py): the profile's own
        message templates rendered for it, or defaults from the reward. In memory; never raises."""
        from .stage import stage_content

        templates = None
        if profile_id is not None and profile_id in self.profiles:
            templates = self.profiles.get(profile_id).message_templates
        return stage_content(reward, templates)

    def _forget_previews_of(self, base_url: str) -> int:
        """Drop the remembered previews whose target is on ``base_url``; how many."""
        prefix = _catalog_key(base_url) + "/"
        stale = [target for target in self._previews if target[0].startswith(prefix)]
        for target in stale:
            del self._previews[target]
        return len(stale)

    # --- profiles: queries (in memory, no I/O) ------------------------------------------

    @property
    def sandbox_url(self) -> str | None:
        return self.sandbox.url if self.sandbox else None

    def profile_list(self) -> list[Profile]:
        return list(self.profiles.profiles())

    def profile(self, profile_id: str) -> Profile:
        return self.profiles.get(profile_id)

    def rules(self, profile_id: str) -> ProfileRules:
        return profile_rules(self.profiles.get(profile_id))

    def base_url_for(self, profile: Profile) -> str:
        """The endpoint a form shows: the embedded sandbox's real URL for a profile that uses it."""
        return profile.to_request(self.sandbox_url).base_url

    def stored_values(self, profile_id: str) -> tuple[str, dict[str, str]]:
        """(endpoint, the five fields) as stored: what the form shows for a profile with no edits."""
        profile = self.profiles.get(profile_id)
        return self.base_url_for(profile), {name: getattr(profile, name) for name in BODY_FIELDS}

    def exportable_profiles(self) -> list[Profile]:
        return self.profiles.exportable()

    # --- requests and keys ---------------------------------------------------------------

    def resolve(self, profile_id: str, base_url: str | None = None,
                fields: dict[str, str] | None = None) -> RewardRequest:
        """The request for a profile, with the form's unsaved values in place of the stored ones
        (``None``: the stored value). Not validated: the client refuses an invalid one."""
        profile = self.profiles.get(profile_id)
        request = profile.to_request(self.sandbox_url)
        changes: dict[str, Any] = {}
        if base_url is not None:
            changes["base_url"] = base_url
        if fields is not None:
            changes.update({name: fields.get(name, "") for name in BODY_FIELDS})
        return replace(request, **changes)

    def _key_for(self, profile: Profile) -> str:
        """Blocking (the keyring may answer over D-Bus): call through run_blocking."""
        if profile.uses_embedded_sandbox:
            if self.sandbox is None:
                raise SandboxNotRunningError()
            return self.sandbox.api_key  # held in memory only, never written to the keyring
        key = self.credentials.get_key(profile.id)
        if not key:
            raise MissingKeyError()
        return key

    async def api_key(self, profile: Profile) -> str:
        if profile.uses_embedded_sandbox:
            # Held in memory (no keyring, no I/O): no worker thread to start on a preview's critical path.
            return self._key_for(profile)
        return await self._keychain(self._key_for, profile)

    async def _keychain(self, fn: Callable[..., T], *args: Any) -> T:
        """A keychain call: like ``_blocking``, on a thread that closing does not wait for beyond a bound."""
        return await self._blocking(fn, *args, runner=self._run_keychain)

    async def _blocking(self, fn: Callable[..., T], *args: Any, context: str = "",
                        runner: RunBlocking | None = None) -> T:
        """``fn(*args)`` off the caller's thread; a MomentsError passes, anything else becomes UnexpectedError."""
        try:
            return await (runner or self._run_blocking)(fn, *args)
        except MomentsError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            raise errorlog.unexpected(exc, context) from exc

    # --- preview ---------------------------------------------------------------------

    async def preview(self, profile_id: str, base_url: str | None = None,
                      fields: dict[str, str] | None = None, *,
                      answered: Callable[[CallResult], None] | None = None) -> CallResult:
        """getRewardInfo (free) with the profile's key, journaled and remembered for the claim plan.

        ``answered``, if given, is handed the result (redacted, remembered) as soon as the answer came back,
        before its journal write, so the window can show it first; the journal is still written before this
        returns (a preview is free: nothing depends on its row being first; a claim's order is never changed).
        Raises MomentsError when nothing could be sent for a reason of ours (no key, keychain, sandbox
        not running); an answer of any kind, errors included, is the CallResult."""
        profile = self.profiles.get(profile_id)
        request = self.resolve(profile_id, base_url, fields)
        key = await self.api_key(profile)

        def remembered(result: CallResult) -> None:
            self._remember_preview(request, result)
            if answered is not None:
                answered(result)
        try:
            return await self._journaled_preview(ProfileRef(profile.id, profile.name), request, key,
                                                 profile.preview_deadline_s, "preview", answered=remembered)
        finally:
            del key

    async def _journaled_preview(self, ref: ProfileRef, request: RewardRequest, key: str,
                                 deadline: float | None, context: str, *,
                                 answered: Callable[[CallResult], None] | None = None) -> CallResult:
        """One journaled getRewardInfo, with a key the server echoed redacted before anything shows it
        (``answered`` too: see ``preview``)."""
        def redacted(result: CallResult) -> None:
            result.reward = redact_echoed_secrets(result.exchange, result.error, (key,), result.reward)
            if answered is not None:
                answered(result)
        try:
            return await self._ops.preview(ref, request, key, deadline=deadline, answered=redacted)
        except MomentsError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise errorlog.unexpected(exc, context) from exc

    async def test_key(self, profile_id: str, base_url: str | None = None,
                       fields: dict[str, str] | None = None) -> MomentsError | None:
        """None when the stored key works, else why not. Any answer past authentication (a reward,
        ``[]``, a business message) proves the key; journaled like any preview."""
        try:
            result = await self.preview(profile_id, base_url, fields)
        except MomentsError as exc:
            return exc
        return None if key_works(result) else (result.error or UnexpectedError())

    # --- message preview (the Message tab) -------------------------------------------------

    async def message_outcomes(self, profile_id: str, base_url: str | None = None,
                               fields: dict[str, str] | None = None) -> list[PreviewOutcome]:
        """One answer per OutcomeKind for the templates to be rendered against, from free calls only
        (getRewardInfo, each journaled as a preview, never as a claim; see core/message_outcomes.py).
        The reward is the profile's real answer; on a sandbox on this computer the others are the
        sandbox's real behaviour, elsewhere their documented shapes. Raises MomentsError when the
        profile's own call got no answer (no key, unreachable, timeout)."""
        profile = self.profiles.get(profile_id)
        request = self.resolve(profile_id, base_url, fields)
        key = await self.api_key(profile)
        ref = ProfileRef(profile.id, profile.name)

        async def preview(req: RewardRequest, deadline: float | None) -> CallResult:
            return await self._journaled_preview(ref, req, key, deadline, "message preview")

        from .message_outcomes import OutcomeGatherer  # the Message tab's; not paid by a preview or `moments info`

        embedded = self.sandbox is not None and _catalog_key(request.base_url) == _catalog_key(self.sandbox.url)
        gatherer = OutcomeGatherer(
            preview=preview, http=self.http, journal=self.journal, run_blocking=self._run_blocking,
            catalog=self.catalog, admin_token=self.sandbox.admin_token if embedded else None,
            deadline=profile.preview_deadline_s)
        try:
            return await gatherer.gather(request)
        finally:
            del key

    def render_messages(self, templates: MessageTemplates, outcomes: list[PreviewOutcome]) -> list[RenderedMessage]:
        """Every channel against every outcome (outcome by outcome, channels in order). Never raises."""
        # Imported here: python-liquid costs about 100 ms to import, paid on the first rendering, not at start-up.
        from .message_preview import render_all

        return render_all(templates, outcomes)

    def message_report(self, templates: MessageTemplates, outcomes: list[PreviewOutcome]) -> MessagePreviewReport:
        """What the Message tab shows: every channel × outcome rendered (the static checks alone while
        there are no outcomes), the problems to list (GetReward's cost first, each once) and the images
        the renderings show. Never raises."""
        from .message_preview import preview_report  # python-liquid: paid on the first rendering

        return preview_report(templates, outcomes)

    async def save_message_templates(self, profile_id: str, templates: MessageTemplates) -> Profile:
        """Write a profile's message templates (the built-in profile's too: they spend nothing, and the
        built-in profile is then exported like any other, so its templates travel; see
        ProfileStore.exportable)."""
        return await self._blocking(self._write(
            lambda: self.profiles.edit(profile_id, message_templates=templates)))

    def image_deadline(self, profile_id: str) -> float:
        """The overall limit (seconds) for downloading a reward image of this profile."""
        own = self.profiles.get(profile_id).image_deadline_s if profile_id in self.profiles else None
        return self._client.deadlines.image if own is None else own

    def _remember_preview(self, request: RewardRequest, result: CallResult) -> None:
        """Keep the newest answered preview per target; a transport failure teaches nothing, so it is skipped.
        An answer with no reward fields is kept: the claim confirmation warns that it was no reward."""
        if result.outcome not in (Outcome.SUCCESS, Outcome.NO_REWARD) and not isinstance(result.error,
                                                                                      EmptyAnswerError):
            return
        try:
            target = request.validated().target()
        except ValidationError:
            return
        self._previews[target] = LastPreview(at=datetime.now().astimezone(),
                                             reward=result.reward if result.ok else None, error=result.error)
        self._previews.move_to_end(target)
        while len(self._previews) > MAX_REMEMBERED_PREVIEWS:
            self._previews.popitem(last=False)

    def last_preview(self, request: RewardRequest) -> LastPreview | None:
        try:
            return self._previews.get(request.validated().target())
        except ValidationError:
            return None

    # --- campaign sweep: getRewardInfo for every combination (core/sweep.py) ------------------

    def plan_sweep(self, profile_id: str, value_lists: Mapping[str, Sequence[str]], *, base_url: str | None = None,
                   fields: dict[str, str] | None = None) -> SweepPlan:
        """The combinations of ``value_lists`` (per field; a field absent or empty keeps the profile's, or the
        form's, one value), with the key's rate limit for the estimate. Sends nothing.

        Raises ValidationError naming the field (and the value) for a value the client would refuse, for an
        endpoint that is not a URL, and for a plan of more than MAX_SWEEP_COMBINATIONS; SandboxNotRunningError
        for a profile of the built-in sandbox while it is not running."""
        from .sweep import MAX_SWEEP_COMBINATIONS, SweepPlan

        profile = self.profiles.get(profile_id)
        request = self.resolve(profile_id, base_url, fields)
        if request.base_url.strip() == EMBEDDED_SANDBOX_URL:
            raise SandboxNotRunningError()  # what preview says too, not "the endpoint is not a URL"
        problems: dict[str, str] = {}
        unknown = [name for name in value_lists if name not in BODY_FIELDS]
        for name in unknown:
            problems[name] = f"Not a request field (the fields are {', '.join(BODY_FIELDS)})."
        url_problem = validate_base_url(request.base_url, allow_insecure=request.allow_insecure)
        if url_problem:
            problems["base_url"] = url_problem
        values: dict[str, tuple[str, ...]] = {}
        for name in BODY_FIELDS:
            swept = _distinct(value_lists.get(name) or ())
            if not swept:  # not swept: the profile's (or the form's) one value, checked as a preview would
                problem = validate_field(name, getattr(request, name))
                if problem:
                    problems[name] = problem
                swept = (getattr(request, name).strip(),) if isinstance(getattr(request, name), str) else ("",)
            else:
                bad = [(value, validate_field(name, value)) for value in swept]
                bad = [(value, problem) for value, problem in bad if problem]
                if bad:
                    value, problem = bad[0]
                    more = f" ({len(bad) - 1} more value{'s' if len(bad) > 2 else ''} of {name} too)" \
                        if len(bad) > 1 else ""
                    problems[name] = f"“{self.renderer.field_value(name, value)}”: {problem}{more}"
            values[name] = swept
        if problems:
            raise ValidationError(problems)
        count = math.prod(len(values[name]) for name in BODY_FIELDS)
        if count > MAX_SWEEP_COMBINATIONS:
            sizes = " × ".join(str(len(values[name])) for name in BODY_FIELDS if len(values[name]) > 1)
            raise ValidationError({"combinations": f"{count:,} combinations ({sizes}); a sweep sends at most "
                                                   f"{MAX_SWEEP_COMBINATIONS:,}. Choose fewer values."})
        calls, window = self._client.rate_limit
        return SweepPlan(profile_id=profile.id, profile_name=profile.name,
                         base_url=request.base_url.strip().rstrip("/"), values=values, calls=calls, window=window)

    async def sweep_choices(self, base_url: str) -> SweepChoices | None:
        """The values the endpoint's sandbox catalog offers per field; None when it is no sandbox."""
        from .sweep import sweep_choices

        catalog = await self.catalog(base_url)
        return None if catalog is None else sweep_choices(catalog)

    async def run_sweep(self, run: SweepRun,
                        on_card: Callable[[SweepCard, SweepProgress], None] | None = None) -> SweepResult:
        """getRewardInfo - only ever that - for every combination of ``run.plan``, through the client's rate
        limiter, each call journaled as a preview; ``on_card`` is called on the loop's thread as each answer
        arrives (in any order), after ``run`` recorded it.

        Raises MomentsError before the first call for a reason of ours (no key, keychain, sandbox not
        running). Cancelling the task stops at once: calls in flight are cancelled (journaled as cancelled
        when they had been sent), none is started after, and CancelledError propagates; ``run`` keeps every
        card that came back (``run.result(cancelled=True)``). An endpoint that stops answering (``unanswered_limit``
        cards in a row with nothing back) stops the run as Cancel does, with SweepStoppedError (its ``result``
        and ``run`` keep the cards). A sweep of the built-in sandbox raises SandboxResettingError, sending
        nothing, while "Reset sandbox for the next demo" is in flight (checked again once the key is read)."""
        from .sweep import Combination, SweepCard, SweepStatus, SweepStoppedError, card_of_result, unanswered_limit

        plan = run.plan
        if self._closed:
            raise UnexpectedError("the session is closing")
        self._refuse_sweep_while_resetting(plan.base_url)
        profile = self.profiles.get(plan.profile_id)
        base = self.resolve(plan.profile_id, plan.base_url)  # the profile's allow_insecure with the plan's URL
        # Registered before the first await, so an aclose() while the key is read closes this owner too (no
        # worker can start after), and checked again after it: no call goes out on a closed Session.
        owner = TaskOwner("sweep")
        self._sweeps.add(owner)
        try:
            key = await self.api_key(profile)
        except BaseException:
            self._sweeps.discard(owner)
            raise
        if self._closed:
            self._sweeps.discard(owner)
            del key
            raise UnexpectedError("the session is closing")
        if not is_sendable_key(key.strip()):
            self._sweeps.discard(owner)
            raise UnsendableKeyError()
        try:
            self._refuse_sweep_while_resetting(plan.base_url)  # a reset started while the key was read
        except SandboxResettingError:
            self._sweeps.discard(owner)
            del key
            raise
        ref = ProfileRef(profile.id, profile.name)
        deadline = profile.preview_deadline_s
        # One iterator shared by the workers: each takes the next combination when it is free, so a plan
        # of 10,000 is never held as 10,000 requests, and nothing is taken once they are cancelled.
        work = enumerate(plan.combinations())

        async def sweep_one(index: int, combination: Combination) -> SweepCard:
            request = replace(base, **combination.fields())
            try:
                result = await self._journaled_preview(ref, request, key, deadline, "sweep")
            except MomentsError as exc:  # the journal, or an unexpected error: this card, not the run
                return SweepCard(index, combination, SweepStatus.ERROR, problem=exc.message)
            self._remember_preview(request, result)
            return card_of_result(index, combination, result)

        unanswered_in_a_row = 0
        stop: list[int] = []  # the cards back when the endpoint was found gone (empty: not stopped)
        workers: list[asyncio.Task | None] = []

        async def worker() -> None:
            nonlocal unanswered_in_a_row
            for index, combination in work:
                try:
                    card = await sweep_one(index, combination)
                except Exception as exc:  # noqa: BLE001 - one combination's failure never stops the run
                    card = SweepCard(index, combination, SweepStatus.ERROR,
                                     problem=errorlog.unexpected(exc, "sweep").message)
                progress = run.record(card)
                unanswered_in_a_row = unanswered_in_a_row + 1 if card.unanswered else 0
                if unanswered_in_a_row >= limit and not stop and len(run.cards) < plan.count:
                    # The endpoint is gone: stop as Cancel does (the calls in flight are cancelled, none
                    # starts after), rather than wait out every combination's time limit.
                    stop.append(len(run.cards))
                    for other in workers:
                        if other is not None and other is not asyncio.current_task():
                            other.cancel()
                if on_card is not None:
                    try:
                        on_card(card, progress)
                    except Exception as exc:  # noqa: BLE001 - the caller's display must not stop the run
                        errorlog.log_exception(exc, "sweep: on_card")
                if stop:
                    return

        try:
            run.workers = max(1, min(plan.count, plan.calls, MAX_SWEEP_WORKERS))
            limit = unanswered_limit(run.workers)
            run.start()
            workers.extend(owner.start(worker(), name=f"worker {n}") for n in range(run.workers))
            # return_exceptions: a worker cancelled by aclose() (the Session closing) ends the run with the
            # cards so far; the caller's own cancellation still raises here, and the finally cancels them.
            await asyncio.gather(*[w for w in workers if w is not None], return_exceptions=True)
        finally:
            await owner.aclose()
            self._sweeps.discard(owner)
            del key
        if stop:
            error = SweepStoppedError(
                f"after {stop[0]:,} of {plan.count:,} combinations, the last {limit} in a row got no answer "
                f"(the cards that came back are kept)")
            error.result = run.result(stopped=error.message)
            raise error
        return run.result(cancelled=len(run.cards) < plan.count)

    async def save_baseline(self, result: SweepResult, path: str | Path) -> Baseline:
        """Every card of ``result`` in a baseline file (written atomically; never a key). BaselineError naming
        the file when it cannot be written; IncompleteBaselineError (nothing written) for a cancelled or stopped
        sweep: a baseline is a whole sweep, so a later one never reads a combination it did not reach as new."""
        from .sweep_baseline import IncompleteBaselineError, baseline_of, write_baseline

        if result.cancelled:
            raise IncompleteBaselineError(f"{len(result.cards):,} of {result.plan.count:,} combinations came back; "
                                          f"{path} was not written")
        baseline = baseline_of(result)
        await self._blocking(write_baseline, Path(path), baseline, context="sweep: save baseline")
        return baseline

    async def load_baseline(self, path: str | Path) -> Baseline:
        """BaselineError (a MomentsError) with the file named for a missing, unreadable or foreign file."""
        from .sweep_baseline import read_baseline

        return await self._blocking(read_baseline, Path(path), context="sweep: load baseline")

    def _refuse_sweep_while_resetting(self, base_url: str) -> None:
        if self._resetting_sandbox and self.sandbox is not None \
                and _catalog_key(base_url) == _catalog_key(self.sandbox.url):
            raise SandboxResettingError()

    def compare_sweep(self, result: SweepResult, baseline: Baseline) -> SweepDiff:
        """Per combination, what changed since ``baseline`` (core/sweep_baseline.compare: a cancelled sweep's
        unreached combinations are neither changed nor gone)."""
        from .sweep_baseline import compare

        return compare(result, baseline)

    async def sweep_image(self, profile_id: str, url: str) -> CachedImage:
        """A reward image in the on-disk cache (downloaded once per URL, with the profile's image deadline):
        the Sweep tab decodes thumbnails from the file, the HTML report embeds its bytes. ImageFetchError
        (a MomentsError) says why there is none."""
        if self._image_cache is None:
            from . import paths
            from .images import ImageCache

            # The default folder is found (and created) by the cache's first disk job, off the loop.
            self._image_cache = ImageCache(self._image_cache_dir or paths.cache_location() / "images")
        deadline = self.image_deadline(profile_id)
        try:
            return await self._image_cache.get(self.http, url, deadline=deadline, run_blocking=self._run_blocking)
        except MomentsError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            raise errorlog.unexpected(exc, "sweep image") from exc

    async def write_sweep_report(self, result: SweepResult, diff: SweepDiff | None, path: str | Path,
                                 fmt: SweepReportFormat, *, fail_on_change: bool = False) -> None:
        """HTML (images embedded from the cache), CSV or JUnit XML, written atomically; identifiers through
        ``self.renderer`` (masked in presenter mode).

        For HTML each distinct image URL is asked of ``sweep_image`` once; one that cannot be had
        (ImageFetchError) is drawn as a placeholder, not a failed report. SweepReportError (a MomentsError)
        naming the path when the file cannot be written."""
        from .sweep_report import SweepReportFormat, read_report_images, report_text, write_report

        fmt = SweepReportFormat(fmt)
        path = Path(path)
        cached: dict[str, CachedImage | None] = {}
        if fmt is SweepReportFormat.HTML:
            cached = await self._report_images(result)
        renderer = self.renderer

        def write() -> None:  # reading the cached files and rendering 1,000 cards: off the caller's thread
            text = report_text(result, diff, fmt, renderer, images=read_report_images(cached),
                               fail_on_change=fail_on_change)
            write_report(path, text, fmt)

        await self._blocking(write, context="sweep: write report")

    async def _report_images(self, result: SweepResult) -> dict[str, CachedImage | None]:
        """Each distinct image URL of ``result``'s cards from the image cache, a few at a time; None for one
        that cannot be had."""
        urls = list(dict.fromkeys(card.image_url for card in result.cards if card.image_url))
        found: dict[str, CachedImage | None] = {}
        gate = asyncio.Semaphore(REPORT_IMAGE_DOWNLOADS)

        async def fetch(url: str) -> None:
            async with gate:
                try:
                    found[url] = await self.sweep_image(result.plan.profile_id, url)
                except MomentsError:  # ImageFetchError, or an unexpected one sweep_image logged: a placeholder
                    found[url] = None

        try:
            async with asyncio.TaskGroup() as group:  # cancelled with the caller, and awaited: none outlives it
                for url in urls:
                    group.create_task(fetch(url))
        except BaseExceptionGroup as failed:  # not an image's own failure (those are placeholders): the first
            error = failed.exceptions[0]
            if isinstance(error, MomentsError):
                raise error from None
            raise errorlog.unexpected(error, "sweep: report images") from error
        return {url: found.get(url) for url in urls}

    # --- exports (copy as cURL, HTTPie, Python, PowerShell, Braze) -----------------------------

    async def export(self, profile_id: str, endpoint: Endpoint, fmt: ExportFormat, *, base_url: str | None = None,
                     fields: dict[str, str] | None = None, include_key: bool = False,
                     cache_max_age: int | None = None) -> Export:
        """The request ``preview`` or ``claim`` would send for the profile and the form's values, as a snippet
        (core/exports.py), built by the client's own request builder. Sends nothing, journals nothing.

        Raises ValidationError (per field) for values the client would refuse, ExportRefusedError for a cache
        the export must not carry. The key is a placeholder unless ``include_key``; then it is read from the
        keychain off the caller's thread (MissingKeyError, KeyringUnavailableError as for a preview) and
        lives only in the returned Export."""
        from .exports import ExportFormat, export_request  # imported by the first export, not with the Session

        endpoint, fmt = Endpoint(endpoint), ExportFormat(fmt)
        profile = self.profiles.get(profile_id)
        request = self.resolve(profile_id, base_url, fields).validated()
        key = ""
        try:
            if include_key:
                key = (await self.api_key(profile)).strip()
                if not is_sendable_key(key):
                    raise UnsendableKeyError()
            return export_request(build_request(request, endpoint, key), fmt, include_key=include_key,
                                  cost_per_action=profile.cost_per_action, currency=profile.currency,
                                  cache_max_age=cache_max_age, renderer=self.renderer)
        finally:
            del key

    def export_entry(self, entry: JournalEntry, fmt: ExportFormat) -> Export:
        """The request of a journal row (History) as a snippet. The journal stores the key redacted, so the
        key is always the placeholder. A row whose request the client refused (NOT_SENT for invalid values)
        raises ValidationError, as the client would."""
        from .exports import ExportFormat, ExportRefusedError, export_request

        fmt = ExportFormat(fmt)
        try:
            endpoint = Endpoint(entry.endpoint)
        except ValueError:
            raise ExportRefusedError(f"the entry's endpoint {entry.endpoint!r} is not a Moments endpoint") from None
        url = entry.request_url or ""
        body = entry.request_body if isinstance(entry.request_body, dict) else None
        if not url.endswith(endpoint.path) or body is None:
            raise ExportRefusedError("the entry does not hold a complete request (its URL or body is missing)")
        profile = self.profiles.get(entry.profile_id) if entry.profile_id in self.profiles else None
        request = RewardRequest(
            base_url=url[: -len(endpoint.path)], allow_insecure=bool(profile and profile.allow_insecure),
            **{name: body.get(name, "") if isinstance(body.get(name, ""), str) else "" for name in BODY_FIELDS},
        ).validated()
        return export_request(build_request(request, endpoint, ""), fmt,
                              cost_per_action=profile.cost_per_action if profile else None,
                              currency=profile.currency if profile else "USD", renderer=self.renderer)

    # --- claim (billed) -----------------------------------------------------------------

    @property
    def claim_in_flight(self) -> bool:
        return self._claiming

    async def interrupted_claim(self) -> JournalEntry | None:
        """The journal row of the claim this Session last started, as it stands now: how a claim the caller
        cancelled (Ctrl+C) really ended. None when it wrote no intent, so nothing was sent. JournalError
        when the row cannot be read: then the outcome is not known."""
        entry_id = self._ops.last_claim_entry_id if self._claim_reached_operations else None
        if entry_id is None:
            return None
        return await self._run_blocking(self.journal.get, entry_id)

    def plan_claim(self, profile_id: str, base_url: str | None = None,
                   fields: dict[str, str] | None = None) -> ClaimPlan:
        """What the confirmation shows; raises ValidationError when the values cannot be sent.
        Sends nothing."""
        if self.claims_disabled_reason:
            raise ClaimsDisabledError(advice=self.claims_disabled_reason)
        profile = self.profiles.get(profile_id)
        request = self.resolve(profile_id, base_url, fields)
        if request.base_url.strip() == EMBEDDED_SANDBOX_URL:
            raise SandboxNotRunningError()  # what preview says too, not "the endpoint is not a URL"
        request = request.validated()
        unsaved_endpoint = self._endpoint_changed(profile, request)
        return ClaimPlan(
            profile_id=profile.id, profile_name=profile.name, request=request,
            live=profile.live or unsaved_endpoint, unsaved_endpoint=unsaved_endpoint,
            embedded_sandbox=profile.uses_embedded_sandbox and not unsaved_endpoint,
            cost_per_action=profile.cost_per_action,
            currency=profile.currency, last_preview=self._previews.get(request.target()))

    def _endpoint_changed(self, profile: Profile, request: RewardRequest) -> bool:
        """The claim goes somewhere other than the profile's saved endpoint (an unsaved edit of the URL).
        The profile's "test mode" speaks for its own endpoint only, so such a claim is treated as live:
        a test-mode (or built-in sandbox) profile must not claim from a real endpoint unconfirmed."""
        try:
            saved = profile.to_request(self.sandbox_url).validated().base_url
        except ValidationError:
            return True
        return request.base_url != saved

    async def claim(self, plan: ClaimPlan, typed: str | None = None) -> ClaimResult:
        """Send ONE getReward for ``plan``, after the user confirmed it (``typed``: what they typed for a
        live claim). Never retried, for any reason.

        Raises ConfirmationError (nothing sent) when the confirmation does not satisfy the live rule,
        ClaimInProgressError while another claim is in flight, and ClaimStoppedError when the claim
        ended with no exchange to show (``may_have_been_sent`` tells whether a reward may be gone).
        """
        if self.claims_disabled_reason:
            raise ClaimStoppedError(ClaimsDisabledError(advice=self.claims_disabled_reason), False)
        if not confirmation_ok(plan, typed):
            raise ConfirmationError(f"type the campaign ID “{plan.typed_confirmation}” exactly to confirm this "
                                    "claim")
        # Checked and set with no await in between: two activations on one loop cannot both pass.
        if self._claiming or self._closed:
            raise ClaimInProgressError() if self._claiming else ClaimStoppedError(
                UnexpectedError("the session is closing"), False)
        self._claiming = True
        self._claim_reached_operations = False  # a cancel before it (the key read) leaves no row of its own
        try:
            return await self._claim(plan)
        finally:
            self._claiming = False

    async def _claim(self, plan: ClaimPlan) -> ClaimResult:
        profile_ref = ProfileRef(plan.profile_id, plan.profile_name)
        try:
            profile = self.profiles.get(plan.profile_id)
            key = await self.api_key(profile)
        except MomentsError as exc:
            raise ClaimStoppedError(exc, False) from None
        try:
            self._claim_reached_operations = True
            result = await self._ops.claim(profile_ref, plan.request, key, deadline=profile.claim_deadline_s)
            redact_echoed_secrets(result.call.exchange, result.call.error, (key,))  # before anything shows it
        except ClaimInProgressError:
            raise
        except MomentsError as exc:
            # Operations returns journal failures as results (not sent / rescued); anything else that stops a
            # claim here may have stopped it after sending: whether a reward was consumed is unknown.
            self._claim_may_have_been_sent(plan.request)
            raise ClaimStoppedError(exc, True) from None
        except Exception as exc:  # noqa: BLE001
            self._claim_may_have_been_sent(plan.request)
            raise ClaimStoppedError(errorlog.unexpected(exc, "claim: after sending"), True) from None
        finally:
            del key
        if result.call.outcome is not Outcome.NOT_SENT:
            self._claim_may_have_been_sent(plan.request)
        return result

    def _claim_may_have_been_sent(self, request: RewardRequest) -> None:
        """Count it against the last preview, and drop the catalog: a reward may be gone."""
        self._note_claim_sent(request)
        self.forget_catalog(request.base_url)  # a live claim changed the stock the choices show

    def _note_claim_sent(self, request: RewardRequest) -> None:
        target = request.target()
        last = self._previews.get(target)
        if last is not None:
            self._previews[target] = replace(last, claims_since=last.claims_since + 1)

    # --- profile changes (profiles.json and the keychain, off the caller's thread) -----------

    def _write(self, change: Callable[..., T], *args: Any) -> Callable[[], T]:
        """A ProfileStore change with an OSError turned into words; a failed write leaves the store as it was."""
        def write() -> T:
            try:
                return change(*args)
            except OSError as exc:
                raise ProfileError(
                    f"profiles.json could not be written ({exc.strerror or type(exc).__name__})",
                    advice=f"Nothing was changed. Check that there is free disk space and that "
                           f"{self.profiles.path.parent} is writable, then try again.") from None
        return write

    def new_profile(self, name: str, template_id: str | None = None) -> Profile:
        """The profile ``create_profile`` would add: body fields, endpoint and claim settings from the
        template (never its key). Made from a profile on the embedded sandbox, it stays on the embedded
        sandbox (in test mode, as the sandbox is), never on production. With no template: the production
        endpoint, declared live, the careful side."""
        if template_id is not None and template_id in self.profiles:
            template = self.profiles.get(template_id)
            # Every setting of the template (its base URL is the embedded sandbox's sentinel, not this
            # run's port), so a field added to Profile is inherited too; not its identity, under which
            # its key is stored, nor its notes.
            inherited = {f.name: getattr(template, f.name) for f in fields(Profile)
                         if f.name not in ("id", "name", "notes")}
            return Profile(name=name, **inherited)
        return Profile(name=name, base_url=DEFAULT_BASE_URL, live=not is_loopback_url(DEFAULT_BASE_URL))

    async def create_profile(self, name: str, template_id: str | None = None) -> Profile:
        new = self.new_profile(name, template_id)
        return await self._blocking(self._write(self.profiles.add, new))

    def _check_rule(self, profile_id: str, allowed: Callable[[ProfileRules], bool], what: str) -> Profile:
        profile = self.profiles.get(profile_id)
        if not allowed(profile_rules(profile)):
            raise BuiltinProfileError(f"“{profile.name}” is built in and cannot be {what}")
        return profile

    async def rename_profile(self, profile_id: str, new_name: str) -> Profile:
        self._check_rule(profile_id, lambda r: r.rename, "renamed")
        return await self._blocking(self._write(self.profiles.rename, profile_id, new_name))

    async def save_profile(self, profile_id: str, base_url: str, fields: dict[str, str]) -> Profile:
        """Write the form's endpoint and body fields to the stored profile."""
        body = {name: fields.get(name, "") for name in BODY_FIELDS}

        def save() -> Profile:
            profile = self.profiles.get(profile_id)
            url = base_url
            if profile.uses_embedded_sandbox and _catalog_key(url) == _catalog_key(self.base_url_for(profile)):
                url = profile.base_url  # keep the sentinel, not this run's sandbox port
            if profile.is_builtin and url != profile.base_url:
                # Its test mode cannot be changed (no settings), so it must never point elsewhere.
                raise BuiltinProfileError(f"“{profile.name}” always uses the built-in sandbox",
                                          advice="Duplicate it to use another endpoint.")
            return self.profiles.edit(profile_id, base_url=url, **body)
        return await self._blocking(self._write(save))

    async def save_settings(self, profile_id: str, *, live: bool, cost_per_action: Decimal | None,
                            currency: str, notes: str, deadlines: dict[str, float | None] | None = None,
                            is_sandbox: bool | None = None) -> Profile:
        """The claim-related settings: test mode or live, cost per claim, notes; the time limits
        (``deadlines``: Profile.*_deadline_s by name, None for the app's default; left out: unchanged); whether
        the endpoint is a sandbox (``None``: unchanged)."""
        self._check_rule(profile_id, lambda r: r.edit_settings, "changed")
        sandbox_flag = {} if is_sandbox is None else {"is_sandbox": is_sandbox}
        return await self._blocking(self._write(
            lambda: self.profiles.edit(profile_id, live=live, cost_per_action=cost_per_action,
                                       currency=currency, notes=notes, **(deadlines or {}), **sandbox_flag)))

    async def delete_profile(self, profile_id: str, *, even_if_key_remains: bool = False) -> str | None:
        """Delete a profile together with its API key; a warning for the user, or None.

        The key goes first: if the keychain is unavailable the profile is kept (KeyringUnavailableError)
        unless ``even_if_key_remains``, which deletes the profile and warns that the key stayed behind.
        """
        self._check_rule(profile_id, lambda r: r.delete, "deleted")
        warning = None
        try:
            await self._keychain(self.credentials.delete_key, profile_id)
        except KeyringUnavailableError as exc:
            if not even_if_key_remains:
                raise
            warning = key_left_behind_warning(self.credentials, profile_id, exc)
        await self._blocking(self._write(self.profiles.delete, profile_id))
        return warning

    async def duplicate_profile(self, profile_id: str, new_name: str | None = None) -> tuple[Profile, str | None]:
        """Copy a profile and its key: (the copy, a warning or None). When the keychain fails the copy is
        kept without a key and the warning says so: the copy is what was asked for."""
        source = self.profiles.get(profile_id)
        copy = await self._blocking(self._write(self.profiles.duplicate, profile_id, new_name))
        if source.uses_embedded_sandbox:  # the embedded sandbox's key is never in the keychain
            return copy, None

        def copy_key() -> None:
            key = self.credentials.get_key(profile_id)
            if key is not None:
                self.credentials.set_key(copy.id, key)
            del key
        try:
            await self._keychain(copy_key)
        except KeyringUnavailableError as exc:
            return copy, (f"“{copy.name}” was created without the API key: {exc.title.lower()}. "
                          "Enter the key for the copy.")
        return copy, None

    # --- history (the journal the window's History tab shows) ----------------------------

    async def history(self, filters: JournalFilter | None = None, limit: int = 100,
                      offset: int = 0) -> list[JournalEntry]:
        """Journal rows matching ``filters``, newest first (keys are stored redacted)."""
        return await self._blocking(self.journal.query, filters, offset, limit, context="history")

    async def resolve_entry(self, entry_id: int, note: str) -> JournalEntry:
        """Record what the user found out about an unknown outcome (the row is kept, never retried).

        The window's rule: only an unknown outcome nobody has resolved yet takes a note, and the note is
        not empty; the first note stays (NotResolvableError otherwise; HistoryEntryNotFoundError for an id
        the journal does not hold)."""
        note = note.strip()

        def resolve() -> JournalEntry:
            try:
                entry = self.journal.get(entry_id)
            except JournalError:
                raise HistoryEntryNotFoundError(f"entry {entry_id} is not in the history") from None
            if entry.outcome != Outcome.UNKNOWN:
                raise NotResolvableError(
                    f"entry {entry_id}'s outcome is {entry.outcome.value}, not unknown",
                    advice="Only an unknown outcome (a claim sent without a complete answer) is resolved.")
            if entry.resolved_note:
                raise NotResolvableError(f"entry {entry_id} was already resolved ({entry.resolved_note})",
                                         advice="The first note is kept.")
            if not note:
                raise NotResolvableError("the note is empty", advice="Write what you found out.")
            return self.journal.resolve(entry_id, note)
        return await self._blocking(resolve, context="history: resolve")

    # --- keys -------------------------------------------------------------------------

    async def has_key(self, profile_id: str) -> bool:
        return await self._keychain(self.credentials.has_key, profile_id)

    async def store_key(self, profile_id: str, key: str) -> str:
        """Store the key (keychain, or the memory store once chosen); the name of the store that holds it."""
        self._check_rule(profile_id, lambda r: r.store_key, "given a key")

        def store() -> str:
            self.credentials.set_key(profile_id, key)
            return self.credentials.backend_name()
        return await self._keychain(store)

    async def delete_key(self, profile_id: str) -> bool:
        """Remove the profile's stored key; False when none was stored."""
        self._check_rule(profile_id, lambda r: r.store_key, "given a key")
        return await self._keychain(self.credentials.delete_key, profile_id)

    def use_memory_fallback(self) -> None:
        """Keys of this run stay in memory only (the user chose it after the keychain failed)."""
        self.credentials.use_memory_fallback()

    async def keychain_name(self) -> str:
        def name() -> str:
            try:
                return self.credentials.backend_name()
            except Exception:  # noqa: BLE001 - a status line must never break anything
                return "unknown"
        return await self._run_keychain(name)

    # --- import / export --------------------------------------------------------------

    async def export_profiles(self, path: str | Path) -> int:
        """Write the exportable profiles (never a key) to ``path``; how many were written."""
        try:
            return await self._blocking(self.profiles.export_profiles, Path(path))
        except UnexpectedError as exc:
            cause = exc.__cause__
            if isinstance(cause, OSError):
                raise ProfileTransferError(f"{path}: {cause.strerror or type(cause).__name__}") from None
            raise

    async def read_import(self, path: str | Path) -> ImportReport:
        """Read and check an import file: a report per profile and field. Changes nothing."""
        return await self._blocking(self.profiles.parse_import, Path(path))

    async def apply_import(self, report: ImportReport) -> list[Profile]:
        """Add the report's valid profiles; the added ones."""
        return await self._blocking(self._write(self.profiles.apply_import, report))

    # --- sandbox catalog (choices for the form) -------------------------------------------

    def cached_catalog(self, base_url: str) -> tuple[bool, SandboxCatalog | None]:
        """(fresh, catalog): a fresh cached answer needs no request; an endpoint that may not be asked
        (``may_ask_for_catalog``) has none, and needs none either."""
        if not self.may_ask_for_catalog(base_url):
            return True, None
        cached = self._catalogs.get(_catalog_key(base_url))
        if cached is not None and cached[0] > self._clock():
            return True, cached[1]
        return False, None

    def may_ask_for_catalog(self, base_url: str) -> bool:
        """Whether the endpoint may be sent ``GET /__sandbox/catalog``: only a sandbox on this computer
        (a loopback address: 127.0.0.0/8, ::1, localhost) or an endpoint a saved profile marks as a sandbox.
        Production and every other endpoint never see the probe; nor does a URL with credentials in it."""
        url = _catalog_key(base_url)
        if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            return False
        if is_loopback_url(url):
            return True
        return any(p.is_sandbox and _catalog_key(self.base_url_for(p)) == url for p in self.profiles.profiles())

    async def catalog(self, base_url: str) -> SandboxCatalog | None:
        """The endpoint's sandbox catalog, or None when it is no sandbox, cannot be reached now, or may not
        be asked (``may_ask_for_catalog``). Cached per URL; one request at a time per URL; no API key is sent."""
        url = _catalog_key(base_url)
        if not self.may_ask_for_catalog(url):
            return None
        fresh, catalog = self.cached_catalog(url)
        if fresh:
            return catalog
        running = self._catalog_fetches.get(url)
        if running is None:
            running = asyncio.ensure_future(self._fetch_catalog(url, self._catalog_generation.get(url, 0)))
            self._catalog_fetches[url] = running
            self._all_fetches.add(running)

            def done(fetch: asyncio.Future) -> None:
                self._all_fetches.discard(fetch)
                if self._catalog_fetches.get(url) is fetch:
                    del self._catalog_fetches[url]
            running.add_done_callback(done)
        return await asyncio.shield(running)

    async def _fetch_catalog(self, url: str, generation: int) -> SandboxCatalog | None:
        from .catalog_choices import NotASandbox

        try:
            catalog: SandboxCatalog | None = await fetch_catalog(self.http, url)
            keep = CATALOG_FRESH_S
        except NotASandbox:
            catalog, keep = None, math.inf  # it answered: it will not become a sandbox
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - unreachable, timeout, ...: just no choices for now
            catalog, keep = None, CATALOG_RETRY_S
        if generation == self._catalog_generation.get(url, 0):  # else it was read before a forget: stale
            self._catalogs[url] = (self._clock() + keep, catalog)
        return catalog

    def forget_catalog(self, base_url: str) -> None:
        """Drop the cached catalog (e.g. after a claim changed the stock). A fetch already running read
        it before: it may still answer whoever waits for it, but it is not cached, nor shared again."""
        url = _catalog_key(base_url)
        self._catalogs.pop(url, None)
        self._catalog_generation[url] = self._catalog_generation.get(url, 0) + 1
        self._catalog_fetches.pop(url, None)

    # --- network: the proxy setting, About and diagnostics (core/settings.py, core/diagnostics.py) ---------

    @property
    def proxy_setting(self) -> ProxySetting:
        """The proxy the HTTP client goes by (the app-wide setting, or the CLI's --proxy)."""
        return self.http.proxy_setting if isinstance(self.http, MomentsHTTPClient) else ProxySetting()

    def proxy_description(self) -> str:
        """The proxy in use, in words, without credentials ('System proxy settings (…)', 'No proxy …')."""
        return describe_proxy(self.proxy_setting)

    async def save_proxy_setting(self, setting: ProxySetting) -> ProxySetting:
        """Keep ``setting`` in settings.json (off this thread) and go out by it from the next request on (one
        in flight finishes as it started). Raises MomentsError when the file cannot be written: the client
        is then left as it was."""
        def write() -> None:
            loaded = load_settings()
            try:
                save_settings(loaded.settings.with_proxy(setting))
            except OSError as exc:
                raise SettingsUnwritableError(
                    f"{settings_path()} could not be written ({exc.strerror or exc})") from None

        await self._run_blocking(write)
        if isinstance(self.http, MomentsHTTPClient):
            self.http.set_proxy(setting)
        return setting

    def about(self, *, keychain: str, qt_version: str | None = None,
              pyside_version: str | None = None) -> list[Row]:
        """Help > About's rows (no secret; nothing here names a profile)."""
        from .diagnostics import about_rows  # importlib.metadata and platform: only when asked

        rows = about_rows(keychain=keychain, proxy=self.proxy_setting, qt_version=qt_version,
                          pyside_version=pyside_version)
        # The proxy's host is a company's own name: masked in presenter mode like an endpoint's.
        return [replace(row, value=self.renderer.text(row.value)) if row.label == "Proxy" else row for row in rows]

    def diagnostics(self, *, keychain: str, qt_version: str | None = None, pyside_version: str | None = None) -> str:
        """"Copy diagnostics": About's rows and more, no secret, every identifier masked (whatever presenter
        mode says)."""
        from .diagnostics import diagnostics_rows, diagnostics_text

        return diagnostics_text(diagnostics_rows(self, keychain=keychain, qt_version=qt_version,
                                                 pyside_version=pyside_version))

    # --- lifetime ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Close the HTTP client and the journal. The caller has cancelled and awaited its own tasks."""
        if self._closed:
            return
        self._closed = True
        for sweep in list(self._sweeps):  # a sweep still running: its calls stop before the client closes
            await sweep.aclose()
        fetches = list(self._all_fetches)
        for fetch in fetches:
            fetch.cancel()
        # return_exceptions: their cancellation (or error) is moot now; our own cancellation still raises.
        await asyncio.gather(*fetches, return_exceptions=True)
        if self._image_cache is not None:  # its downloads end before the client they use closes
            await self._image_cache.aclose()
        await self.http.aclose()
        # A closed socket transport finishes closing in a callback on the loop's next turn
        # (connection_lost); let it run before our caller stops the loop, so no transport is left open.
        await asyncio.sleep(0)
        await finish_async_generator_finalizers()
        await self._jobs.wait_idle()
        await self._keychain_jobs.wait_idle(KEYCHAIN_CLOSE_WAIT_S)
        self.journal.close()


async def fetch_catalog(http: httpx.AsyncClient, base_url: str, *args: Any, **kwargs: Any) -> SandboxCatalog:
    """core/catalog_choices.py's, imported by the first catalog read (the form's choices), not with the Session;
    a name of this module, so a test can count or stall the Session's reads."""
    from .catalog_choices import fetch_catalog as fetch

    return await fetch(http, base_url, *args, **kwargs)


def key_works(result: CallResult) -> bool:
    """The key-test verdict: the server answered past authentication (any 2xx, ``[]`` included)."""
    status = result.exchange.status
    return status is not None and 200 <= status < 300


def _distinct(values: Sequence[str]) -> tuple[str, ...]:
    """Trimmed, blanks dropped, the first of each kept in order: the values a field is swept over."""
    seen: dict[str, None] = {}
    for value in values:
        text = value.strip() if isinstance(value, str) else value
        if text != "":
            seen.setdefault(text, None)
    return tuple(seen)


def _catalog_key(base_url: str) -> str:
    return base_url.strip().rstrip("/")


__all__ = [
    "BuiltinProfileError", "ClaimPlan", "ClaimsDisabledError", "ClaimResult", "ClaimStoppedError", "ConfirmationError",
    "ConfirmationMissing", "DEMO_PROFILE_ID", "EmbeddedSandbox", "HistoryEntryNotFoundError", "LastPreview",
    "NotResolvableError", "ProfileRules", "ProfileTransferError", "SANDBOX_RESET_DEADLINE_S", "SandboxReset",
    "SandboxResetError", "SandboxResetUnavailableError", "SandboxResettingError", "Session",
    "confirmation_missing", "confirmation_ok", "key_works", "profile_rules",
]

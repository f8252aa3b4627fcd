"""The one QObject between the widgets and the core Session: it schedules, the Session decides.

Widgets call ``start_*``/``preview``/``claim`` here and render what the signals carry; no widget
opens a socket, a file or the keyring, and no rule is decided here (see core/session.py). Every
piece of work is an asyncio task owned by one TaskOwner, made on the running qasync loop when
the bridge is built; ``aclose()`` cancels and awaits all of them before the Session closes the
HTTP client and the journal, so closing the window leaves nothing pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from moments_desktop.core import errorlog
from moments_desktop.core.errors import MomentsError
from moments_desktop.api_schema import Outcome
from moments_desktop.core.profiles import ImportReport, Profile
from moments_desktop.core.render import Renderer
from moments_desktop.core.session import ClaimPlan, ClaimStoppedError, ProfileRules, SandboxResetError, Session
from moments_desktop.core.tasks import TaskOwner

from .image_loader import ImageLoadError, fetch_image
from .sweep_thumbnails import THUMBNAIL_SIZE, ThumbnailError, decode_thumbnail

# How often the cards of a running sweep reach the widgets: one batch per interval keeps the window's longest
# pause short however fast the answers come (a card per answer would repaint the grid hundreds of times a second).
SWEEP_FLUSH_MS = 100
# Thumbnails downloaded and decoded at once (the sandbox answers fast; a real CDN needs no more for a grid).
THUMBNAIL_JOBS = 4

# The kinds of network call; one at a time (see SessionBridge._start_call).
PREVIEW, KEY_TEST, CLAIM = "preview", "key test", "claim"
MESSAGE_OUTCOMES = "message outcomes"
SANDBOX_RESET = "sandbox reset"


class SessionBridge(QObject):
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
    journal_changed = Signal()  # a call was journaled (or a claim ended): the history refreshes
    # Results of work in a worker thread: the value, or the MomentsError that stopped it.
    profile_write_busy_changed = Signal(bool)  # a profile or its key is being written
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
    import_read = Signal(object)  # ImportReport, or the error
    import_applied = Signal(object)  # list of the added Profiles, or the error
    profiles_exported = Signal(str, object)  # path, number of profiles written or the error
    copy_as_ready = Signal(object, object)  # the caller's token, the Export (core/exports.py) or the error
    # The Message tab (message preview): every outcome's answer, the images its messages show, its saves.
    message_outcomes_started = Signal()
    message_outcomes_finished = Signal(str, object)  # profile id, list[PreviewOutcome] or the MomentsError
    message_outcomes_cancelled = Signal()
    message_image_loaded = Signal(str, object)  # URL, QImage or the reason it could not be shown (str)
    message_templates_saved = Signal(str, object)  # profile id, the saved Profile or the error
    # The Sweep tab (getRewardInfo only, for every combination): its run, baselines, reports, thumbnails.
    sweep_choices_loaded = Signal(str, object)  # base URL (no trailing slash), SweepChoices or None
    sweep_started = Signal(object)  # SweepPlan
    sweep_cards = Signal(object, object)  # list[SweepCard] arrived since the last batch, the SweepProgress after them
    sweep_finished = Signal(object)  # SweepResult (cancelled=True when Cancel or closing stopped it)
    sweep_failed = Signal(object)  # MomentsError raised before the first call (no key, sandbox not running…)
    sweep_running_changed = Signal(bool)
    baseline_saved = Signal(str, object)  # path, the Baseline written or the error
    baseline_loaded = Signal(str, object)  # path, the Baseline read or the error
    sweep_report_written = Signal(str, object)  # path, None when written or the error
    sweep_thumbnail_loaded = Signal(str, object)  # URL, QImage (thumbnail size) or why there is none (str)
    # Presenter mode turned on or off: every view re-renders what it shows through the (now masked) renderer.
    presenter_changed = Signal(bool)
    network_settings_saved = Signal(object)  # the saved ProxySetting, or the error
    # "Reset sandbox for the next demo" (presenter mode's stage): started, then the SandboxReset or the MomentsError.
    sandbox_reset_started = Signal()
    sandbox_reset_finished = Signal(object)

    def __init__(self, session: Session, parent: QObject | None = None):
        """Build inside the running qasync loop: the task owner binds to it."""
        super().__init__(parent)
        self.session = session
        self.tasks = TaskOwner("window")
        # The one network call in flight (a preview, a key test or a claim), and which kind it is:
        # busy and claiming are read off these, so they cannot disagree with what runs.
        self._call_task: asyncio.Task | None = None
        self._call_kind: str | None = None
        self._image_task: asyncio.Task | None = None
        # A preview's start on its way to the widgets (see _start_call): the loop's handle, and the announcing.
        self._announcing: tuple[asyncio.Handle, Callable[[], None]] | None = None
        self._profile_writes = 0
        self._closing: asyncio.Task | None = None
        # The running sweep (its own task: previews and claims are not held up by it, and it keeps its plan
        # whatever the form does meanwhile), and what waits for the next batch to the widgets.
        self._sweep_task: asyncio.Task | None = None
        self._sweep_pending: list[Any] = []
        self._sweep_progress: Any = None
        self._sweep_flush = QTimer(self)
        self._sweep_flush.setInterval(SWEEP_FLUSH_MS)
        self._sweep_flush.timeout.connect(self._flush_sweep)
        # Thumbnails: URLs waiting (newest asked first: those are the cards in view), those being loaded.
        self._thumbnail_queue: list[tuple[str, str]] = []
        self._thumbnails_loading: set[str] = set()
        self._thumbnail_workers = 0

    # --- queries (in memory) -------------------------------------------------------------

    @property
    def renderer(self) -> Renderer:
        return self.session.renderer

    @property
    def sandbox_url(self) -> str | None:
        return self.session.sandbox_url

    @property
    def presenter(self) -> bool:
        return self.session.presenter

    def set_presenter(self, on: bool) -> None:
        if self.session.set_presenter(on):
            self.presenter_changed.emit(bool(on))

    @property
    def journal(self):
        """For the history's service, which reads it off the UI thread."""
        return self.session.journal

    def profiles(self) -> list[Profile]:
        return self.session.profile_list()

    def profile(self, profile_id: str) -> Profile:
        return self.session.profile(profile_id)

    def rules(self, profile_id: str) -> ProfileRules:
        return self.session.rules(profile_id)

    def stored_values(self, profile_id: str) -> tuple[str, dict[str, str]]:
        return self.session.stored_values(profile_id)

    def exportable_profiles(self) -> list[Profile]:
        return self.session.exportable_profiles()

    @property
    def busy(self) -> bool:
        """A preview, key test or claim is in flight."""
        return self._call_task is not None

    @property
    def claiming(self) -> bool:
        """A getReward is in flight (busy is True as well)."""
        return self._call_kind == CLAIM

    @property
    def closed(self) -> bool:
        return self.tasks.closed

    @property
    def profile_write_busy(self) -> bool:
        """A profile change is being written (profiles.json, the keychain or both)."""
        return self._profile_writes > 0

    # --- plumbing ----------------------------------------------------------------------

    def _spawn(self, make: Callable[[], Awaitable[Any]], name: str) -> asyncio.Task | None:
        """Run ``make()`` as an owned task. A factory, not a coroutine: a task cancelled before its first
        step then never leaves a coroutine object that was never awaited."""
        async def run() -> Any:
            return await make()
        return self.tasks.start(run(), name=name)

    @staticmethod
    async def _outcome(make: Callable[[], Awaitable[Any]], context: str) -> Any:
        """The value of ``make()``, or the MomentsError it raised (anything else: logged, UnexpectedError)."""
        try:
            return await make()
        except MomentsError as exc:
            return exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            return errorlog.unexpected(exc, context)

    def _run(self, make: Callable[[], Awaitable[Any]], emit: Callable[[Any], None], name: str) -> None:
        async def run() -> None:
            emit(await self._outcome(make, name))
        self._spawn(run, name)

    def _write(self, make: Callable[[], Awaitable[Any]], emit: Callable[[Any], None], name: str) -> None:
        """An exclusive profile change: profile_write_busy is True from the call until its result is
        emitted, and released before the emit so a slot reacting to it may start the next one."""
        self._profile_writes += 1
        if self._profile_writes == 1:
            self.profile_write_busy_changed.emit(True)
        released = False

        def release(*_args: Any) -> None:
            nonlocal released
            if released:
                return
            released = True
            self._profile_writes -= 1
            if self._profile_writes == 0 and not self.closed:
                self.profile_write_busy_changed.emit(False)

        async def run() -> None:
            try:
                result = await self._outcome(make, name)
            finally:
                release()
            emit(result)
        task = self._spawn(run, name)
        if task is None:
            release()
        else:
            task.add_done_callback(release)  # a task cancelled before its first step never runs its body

    # --- profile changes, keys, import/export (results arrive as signals) --------------------

    def start_create_profile(self, name: str, template_id: str | None = None) -> None:
        self._write(lambda: self.session.create_profile(name, template_id), self.profile_created.emit,
                    "create profile")

    def start_rename_profile(self, profile_id: str, new_name: str) -> None:
        self._write(lambda: self.session.rename_profile(profile_id, new_name),
                    lambda r: self.profile_renamed.emit(profile_id, r), "rename profile")

    def start_save_profile(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        fields = dict(fields)
        self._write(lambda: self.session.save_profile(profile_id, base_url, fields),
                    lambda r: self.profile_saved.emit(profile_id, r), "save profile")

    def start_save_settings(self, profile_id: str, live: bool, cost_per_action: Decimal | None, currency: str,
                            notes: str, deadlines: dict[str, float | None] | None = None,
                            is_sandbox: bool | None = None) -> None:
        self._write(lambda: self.session.save_settings(profile_id, live=live, cost_per_action=cost_per_action,
                                                       currency=currency, notes=notes, deadlines=deadlines,
                                                       is_sandbox=is_sandbox),
                    lambda r: self.profile_settings_saved.emit(profile_id, r), "save settings")

    def start_delete_profile(self, profile_id: str, *, even_if_key_remains: bool = False) -> None:
        self._write(lambda: self.session.delete_profile(profile_id, even_if_key_remains=even_if_key_remains),
                    lambda r: self.profile_deleted.emit(profile_id, r), "delete profile")

    def start_duplicate_profile(self, profile_id: str) -> None:
        self._write(lambda: self.session.duplicate_profile(profile_id),
                    lambda r: self.profile_duplicated.emit(profile_id, r), "duplicate profile")

    def start_save_key(self, profile_id: str, key: str) -> None:
        self._write(lambda: self.session.store_key(profile_id, key),
                    lambda r: self.key_saved.emit(profile_id, r), "save key")

    def start_key_check(self, profile_id: str) -> None:
        self._run(lambda: self.session.has_key(profile_id), lambda r: self.key_checked.emit(profile_id, r),
                  "key check")

    def start_save_proxy(self, setting: Any) -> None:
        """File > Network settings' Save: settings.json written off the UI thread, the client goes by it."""
        self._run(lambda: self.session.save_proxy_setting(setting), self.network_settings_saved.emit,
                  "save network settings")

    def refresh_keyring_name(self) -> None:
        self._run(self.session.keychain_name, self.keyring_name_changed.emit, "keychain name")

    def use_memory_fallback(self) -> None:
        self.session.use_memory_fallback()  # no backend call: sets a dict

    def start_export(self, path: str | Path) -> None:
        self._run(lambda: self.session.export_profiles(path), lambda r: self.profiles_exported.emit(str(path), r),
                  "export profiles")

    def start_copy_as(self, token: object, profile_id: str, endpoint: Any, fmt: Any, base_url: str,
                      fields: dict[str, str], *, include_key: bool = False,
                      cache_max_age: int | None = None) -> None:
        """The request as a snippet (Session.export) → ``copy_as_ready``; the key, if asked for, is read
        from the keychain off the UI thread."""
        fields = dict(fields)
        self._run(lambda: self.session.export(profile_id, endpoint, fmt, base_url=base_url, fields=fields,
                                              include_key=include_key, cache_max_age=cache_max_age),
                  lambda r: self.copy_as_ready.emit(token, r), "copy as")

    def export_entry(self, entry: Any, fmt: Any) -> Any:
        """A History entry's request as a snippet (Session.export_entry: in memory, no key, no I/O)."""
        return self.session.export_entry(entry, fmt)

    def start_import_read(self, path: str | Path) -> None:
        self._run(lambda: self.session.read_import(path), self.import_read.emit, "read import")

    def start_apply_import(self, report: ImportReport) -> None:
        self._write(lambda: self.session.apply_import(report), self.import_applied.emit, "import profiles")

    def load_catalog(self, base_url: str) -> None:
        """The endpoint's sandbox catalog → ``catalog_loaded`` (None when it is no sandbox). A fresh cached
        answer is emitted at once; otherwise one request per URL at a time."""
        url = base_url.strip().rstrip("/")
        fresh, catalog = self.session.cached_catalog(url)
        if fresh:
            self.catalog_loaded.emit(url, catalog)
            return

        async def run() -> None:
            self.catalog_loaded.emit(url, await self.session.catalog(url))
        self._spawn(run, "catalog")

    # --- network calls (one at a time) ---------------------------------------------------

    def _start_call(self, kind: str, make: Callable[[], Awaitable[None]], *,
                    announce_after_send: Callable[[], None] | None = None) -> bool:
        """Start the network call ``make()`` unless one is in flight; busy is set before this returns,
        so a second activation in the same event-loop turn is refused.

        ``announce_after_send`` (a preview's): busy_changed(True) and this (preview_started) reach the widgets
        on the loop's next turn, right after the call's first step (which writes its request), rather than
        now: Qt repaints what they change before it runs any loop callback, and the whole window's repaint
        would otherwise go before the request. They always reach the widgets before the call's outcome."""
        if self.busy or self.closed:
            return False
        task = self._spawn(make, kind)
        if task is None:
            return False
        self._call_kind = kind
        self._call_task = task
        task.add_done_callback(self._call_done)
        if announce_after_send is None:
            self.busy_changed.emit(True)
        else:
            def announce() -> None:
                self._announcing = None
                if not self.closed:
                    self.busy_changed.emit(True)
                    announce_after_send()
            self._announcing = (self.tasks.loop.call_soon(announce), announce)
        return True

    def _announced(self) -> None:
        """The call's start reaches the widgets now if it has not yet (before anything of its outcome)."""
        if self._announcing is not None:
            handle, announce = self._announcing
            handle.cancel()
            announce()

    def _call_done(self, task: asyncio.Task) -> None:
        if task is not self._call_task:
            return
        self._announced()
        kind = self._call_kind
        self._call_task = self._call_kind = None
        if kind == PREVIEW and task.cancelled() and not self.closed:
            self.preview_cancelled.emit()
        if kind == MESSAGE_OUTCOMES and task.cancelled() and not self.closed:
            self.message_outcomes_cancelled.emit()
        if not self.closed:
            self.busy_changed.emit(False)
        if kind == CLAIM and not self.closed:
            # However the claim ended (answer, error, cancelled after send) its intent row may have changed.
            self.journal_changed.emit()

    def preview(self, profile_id: str, base_url: str, fields: dict[str, str]) -> bool:
        """Start getRewardInfo for the profile with the form's values (refused while busy)."""
        fields = dict(fields)
        if self.busy or self.closed:
            return False
        self._cancel_image()
        return self._start_call(PREVIEW, lambda: self._run_preview(profile_id, base_url, fields),
                                announce_after_send=self.preview_started.emit)

    async def _run_preview(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        # The answer is shown as soon as it came back, while its journal row is written (Session.preview's
        # ``answered``), and the image's GET goes out before the widgets render the answer: the image task is
        # started first and the answer handed to the widgets on the loop's next turn, once that task has
        # written its request, so the window's repaint overlaps the image server's time instead of delaying
        # the request. The history learns of the row once it is written.
        loop = asyncio.get_running_loop()
        pending: list[asyncio.Handle] = []

        def show(result: Any) -> None:
            pending.clear()
            if self.closed:
                return
            self._announced()
            self.preview_finished.emit(result)
            if result.ok and not result.reward.image_url:
                self._show_image(None, profile_id)  # "The reward has no image.", over the card just shown

        def answered(result: Any) -> None:
            if result.ok and result.reward.image_url:
                self._show_image(result.reward.image_url, profile_id)
            pending.append(loop.call_soon(show, result))

        try:
            result = await self.session.preview(profile_id, base_url, fields, answered=answered)
        except MomentsError as exc:
            for handle in pending:  # the answer came, then its journal write failed: say that instead
                handle.cancel()
            pending.clear()
            self._announced()
            self.preview_failed.emit(exc)
            return
        except asyncio.CancelledError:
            for handle in pending:
                handle.cancel()
            raise
        if pending:  # the journal was written before the loop's next turn: show the answer now
            pending[0].cancel()
            show(result)
        self.journal_changed.emit()

    def test_key(self, profile_id: str, base_url: str, fields: dict[str, str]) -> bool:
        """Run getRewardInfo with the stored key → ``key_test_finished`` (refused while busy)."""
        fields = dict(fields)

        async def run() -> None:
            verdict = await self.session.test_key(profile_id, base_url, fields)
            self.journal_changed.emit()
            self.key_test_finished.emit(verdict)
        return self._start_call(KEY_TEST, run)

    def cancel(self) -> None:
        """Stop a preview or key test. Never a claim: stopping one after it was sent only makes its outcome
        unknown, which is worse than waiting for the answer or the timeout (both bounded by the client)."""
        if self._call_task is not None and self._call_kind != CLAIM:
            self._call_task.cancel()

    # --- the message preview (free calls only) ---------------------------------------------

    def message_outcomes(self, profile_id: str, base_url: str, fields: dict[str, str]) -> bool:
        """Ask for every outcome the message preview shows → ``message_outcomes_finished`` (refused while
        busy; cancelled with ``cancel``). The Session makes free calls only."""
        fields = dict(fields)

        async def run() -> None:
            try:
                result = await self._outcome(
                    lambda: self.session.message_outcomes(profile_id, base_url, fields), MESSAGE_OUTCOMES)
            finally:
                # However it ended (done, failed, cancelled), up to five previews were journaled.
                if not self.closed:
                    self.journal_changed.emit()
            self.message_outcomes_finished.emit(profile_id, result)
        if not self._start_call(MESSAGE_OUTCOMES, run):
            return False
        self.message_outcomes_started.emit()
        return True

    def message_report(self, templates, outcomes):
        """The Message tab's preview: renderings, problems to list, images shown (pure Python, in memory)."""
        return self.session.message_report(templates, outcomes)

    def load_message_image(self, url: str, profile_id: str) -> None:
        """A message's image by its own GET (deadline, size cap, off-thread decode) → ``message_image_loaded``."""
        deadline = self.session.image_deadline(profile_id)

        async def run() -> None:
            try:
                result: Any = await fetch_image(self.session.http, url, deadline=deadline)
            except ImageLoadError as exc:
                result = str(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                errorlog.log_exception(exc, "message image")
                result = f"The image could not be loaded ({type(exc).__name__})."
            self.message_image_loaded.emit(url, result)
        self._spawn(run, "message image")

    def start_save_message_templates(self, profile_id: str, templates) -> None:
        self._write(lambda: self.session.save_message_templates(profile_id, templates),
                    lambda r: self.message_templates_saved.emit(profile_id, r), "save message templates")

    # --- campaign sweep (getRewardInfo only) ---------------------------------------------------

    @property
    def sweep_running(self) -> bool:
        return self._sweep_task is not None

    def plan_sweep(self, profile_id: str, value_lists: dict[str, list[str]], base_url: str,
                   fields: dict[str, str]) -> Any:
        """The SweepPlan (sends nothing); raises ValidationError per field, SandboxNotRunningError."""
        return self.session.plan_sweep(profile_id, value_lists, base_url=base_url, fields=dict(fields))

    def load_sweep_choices(self, base_url: str) -> None:
        """The values the endpoint's sandbox catalog offers per field → ``sweep_choices_loaded`` (None: none)."""
        url = base_url.strip().rstrip("/")

        async def run() -> None:
            result = await self._outcome(lambda: self.session.sweep_choices(url), "sweep choices")
            self.sweep_choices_loaded.emit(url, None if isinstance(result, MomentsError) else result)
        self._spawn(run, "sweep choices")

    def start_sweep(self, plan: Any) -> bool:
        """Run getRewardInfo for every combination of ``plan`` (refused while a sweep runs). The cards reach
        the widgets in batches (``sweep_cards``), then ``sweep_finished`` or ``sweep_failed``."""
        if self._sweep_task is not None or self.closed:
            return False
        from moments_desktop.core.sweep import SweepRun

        run = SweepRun(plan)
        self._sweep_pending, self._sweep_progress = [], None

        def on_card(card: Any, progress: Any) -> None:
            self._sweep_pending.append(card)
            self._sweep_progress = progress

        async def sweep() -> None:
            from moments_desktop.core.sweep import SweepStoppedError

            try:
                result = await self.session.run_sweep(run, on_card)
            except SweepStoppedError as exc:  # the endpoint stopped answering: the cards, with why it stopped
                self._flush_sweep()
                self.sweep_finished.emit(exc.result if exc.result is not None else run.result(stopped=exc.message))
                return
            except MomentsError as exc:
                self._flush_sweep()
                self.sweep_failed.emit(exc)
                return
            except asyncio.CancelledError:
                if not self.closed:  # Cancel: every card that came back is the result
                    self._flush_sweep()
                    self.sweep_finished.emit(run.result(cancelled=True))
                raise
            except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
                self._flush_sweep()
                self.sweep_failed.emit(errorlog.unexpected(exc, "sweep"))
                return
            self._flush_sweep()
            self.sweep_finished.emit(result)

        task = self._spawn(sweep, "sweep")
        if task is None:
            return False
        self._sweep_task = task
        task.add_done_callback(self._sweep_done)
        self._sweep_flush.start()
        self.sweep_started.emit(plan)
        self.sweep_running_changed.emit(True)
        return True

    def cancel_sweep(self) -> None:
        """Stop the sweep now: calls in flight are cancelled, none is started after (Session.run_sweep)."""
        if self._sweep_task is not None:
            self._sweep_task.cancel()

    def _flush_sweep(self) -> None:
        if self.closed or (not self._sweep_pending and self._sweep_progress is None):
            return
        cards, progress = self._sweep_pending, self._sweep_progress
        self._sweep_pending, self._sweep_progress = [], None
        self.sweep_cards.emit(cards, progress)

    def _sweep_done(self, task: asyncio.Task) -> None:
        if task is not self._sweep_task:
            return
        self._sweep_task = None
        self._sweep_flush.stop()
        self._sweep_pending, self._sweep_progress = [], None
        if not self.closed:
            self.journal_changed.emit()  # every call was journaled as a preview
            self.sweep_running_changed.emit(False)

    def compare_sweep(self, result: Any, baseline: Any) -> Any:
        """What changed per combination since ``baseline`` (in memory)."""
        return self.session.compare_sweep(result, baseline)

    def start_save_baseline(self, result: Any, path: str | Path) -> None:
        self._run(lambda: self.session.save_baseline(result, path), lambda r: self.baseline_saved.emit(str(path), r),
                  "save baseline")

    def start_load_baseline(self, path: str | Path) -> None:
        self._run(lambda: self.session.load_baseline(path), lambda r: self.baseline_loaded.emit(str(path), r),
                  "load baseline")

    def start_write_sweep_report(self, result: Any, diff: Any, path: str | Path, fmt: Any) -> None:
        self._run(lambda: self.session.write_sweep_report(result, diff, path, fmt),
                  lambda r: self.sweep_report_written.emit(str(path), r), "sweep report")

    def load_sweep_thumbnail(self, profile_id: str, url: str) -> None:
        """A card's thumbnail: the image from the Session's on-disk cache (downloaded once per URL), decoded
        at thumbnail size off the UI thread → ``sweep_thumbnail_loaded``. At most THUMBNAIL_JOBS at once;
        the newest asked goes first (the cards in view)."""
        if url in self._thumbnails_loading or self.closed:
            return
        self._thumbnails_loading.add(url)
        self._thumbnail_queue.append((profile_id, url))
        self._next_thumbnails()

    def forget_sweep_thumbnails(self) -> None:
        """Drop the thumbnails still waiting (a new sweep: its cards ask again)."""
        for _profile_id, url in self._thumbnail_queue:
            self._thumbnails_loading.discard(url)
        self._thumbnail_queue.clear()

    def _next_thumbnails(self) -> None:
        while self._thumbnail_queue and self._thumbnail_workers < THUMBNAIL_JOBS and not self.closed:
            profile_id, url = self._thumbnail_queue.pop()
            self._thumbnail_workers += 1

            async def run(profile_id: str = profile_id, url: str = url) -> None:
                try:
                    result: Any = await self._thumbnail(profile_id, url)
                finally:
                    self._thumbnail_workers -= 1
                    self._thumbnails_loading.discard(url)
                self.sweep_thumbnail_loaded.emit(url, result)
                self._next_thumbnails()
            if self._spawn(lambda run=run: run(), "sweep thumbnail") is None:
                self._thumbnail_workers -= 1

    async def _thumbnail(self, profile_id: str, url: str) -> Any:
        cached = await self._outcome(lambda: self.session.sweep_image(profile_id, url), "sweep thumbnail")
        if isinstance(cached, MomentsError):
            return cached.title
        try:
            return await asyncio.to_thread(decode_thumbnail, cached.path, THUMBNAIL_SIZE)
        except ThumbnailError as exc:
            return str(exc)

    # --- claim (billed) -----------------------------------------------------------------

    def plan_claim(self, profile_id: str, base_url: str, fields: dict[str, str]) -> ClaimPlan:
        """What the confirmation shows; raises ValidationError when the values cannot be sent."""
        return self.session.plan_claim(profile_id, base_url, fields)

    def claim(self, plan: ClaimPlan, typed: str | None = None) -> bool:
        """Send ONE getReward for the confirmed ``plan``. Returns False (and sends nothing) while anything is
        in flight; the Session refuses an unconfirmed or concurrent claim as the last backstop."""
        if self.busy or self.closed:
            return False
        self._cancel_image()
        if not self._start_call(CLAIM, lambda: self._run_claim(plan, typed)):
            return False
        self.claim_started.emit()
        return True

    async def _run_claim(self, plan: ClaimPlan, typed: str | None) -> None:
        try:
            result = await self.session.claim(plan, typed)
        except ClaimStoppedError as exc:
            self.claim_failed.emit(exc.error, exc.may_have_been_sent)
            return
        except MomentsError as exc:  # not confirmed, or another claim in flight: nothing was sent
            self.claim_failed.emit(exc, False)
            return
        self.claim_finished.emit(result)
        if result.reward_url and result.call.outcome is Outcome.SUCCESS:
            self._show_image(result.call.reward.image_url, plan.profile_id)

    # --- presenter mode's customer stage ---------------------------------------------------

    def stage_content(self, profile_id: str | None, reward: Any) -> Any:
        """What the stage shows for a preview's reward (Session.stage_content, in memory)."""
        return self.session.stage_content(profile_id, reward)

    def sandbox_reset_blocker(self, profile_id: str | None, base_url: str | None = None) -> MomentsError | None:
        """Why the sandbox may not be reset now for this profile and endpoint (None: it may). A network call in
        flight holds it too: the reset is one of the calls made one at a time."""
        if self.busy:
            return SandboxResetError("another call is in flight", advice="Reset once it has ended.")
        if self.sweep_running:  # its answers would mix the stock before and after
            return SandboxResetError("a sweep is running", advice="Reset once it has ended (or cancel it).")
        return self.session.sandbox_reset_blocker(profile_id, base_url)

    def reset_sandbox_for_demo(self, profile_id: str | None, base_url: str | None = None) -> bool:
        """Reset the embedded sandbox's inventory, keeping its ledger (Session.reset_sandbox_for_demo)
        → ``sandbox_reset_finished``. One of the one-at-a-time calls (refused while busy; busy while it runs)."""
        async def run() -> None:
            try:
                result = await self._outcome(lambda: self.session.reset_sandbox_for_demo(profile_id, base_url),
                                             SANDBOX_RESET)
            except asyncio.CancelledError:
                if not self.closed:  # Cancel: say so rather than leave the button's status hanging
                    self.sandbox_reset_finished.emit(SandboxResetError(
                        "it was cancelled", advice="The sandbox may or may not have been reset: reset again."))
                raise
            self.sandbox_reset_finished.emit(result)
        if not self._start_call(SANDBOX_RESET, run):
            return False
        self.sandbox_reset_started.emit()
        return True

    # --- the reward image ---------------------------------------------------------------

    def _show_image(self, url: str | None, profile_id: str) -> None:
        if not url:
            self.image_failed.emit("The reward has no image.")
            return
        deadline = self.session.image_deadline(profile_id)
        self._image_task = self._spawn(lambda: self._run_image(url, deadline), "image")

    async def _run_image(self, url: str, deadline: float) -> None:
        self.image_loading.emit()
        try:
            image = await fetch_image(self.session.http, url, deadline=deadline)
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
        """The window is closing: stop the work now (a claim in flight is journaled as unknown on the
        way out; a sweep is cancelled), and start nothing new. Whoever owns the loop then awaits ``aclose()``."""
        self._sweep_flush.stop()
        self._thumbnail_queue.clear()
        self.tasks.stop()

    async def aclose(self) -> None:
        """Cancel and await every task, then close the Session (HTTP client, journal). Idempotent:
        every caller awaits the same closing."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._aclose())
        await asyncio.shield(self._closing)

    async def _aclose(self) -> None:
        await self.tasks.aclose()
        await self.session.aclose()

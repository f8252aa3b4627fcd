"""``moments-desktop``: wires the Qt UI, the core and the qasync event loop together.

This is the only module that knows all of ui/, core/ and the embedded sandbox. Startup:

1. parse the command line; install the crash reporter (unexpected exceptions go to a log
   file and a short message, never a bare traceback in a terminal the user does not have);
2. create the QApplication and start the embedded sandbox on its background thread (a
   failure is explained in a message box and the app opens without it);
3. run the qasync loop; inside it open the profiles and the journal off the UI thread (a damaged
   file is set aside, a locked journal waited for, a read-only one run with claims turned off: each
   told in a dialog or the window's banner, see core/startup.py), then build the core Session, the
   bridge and the main window, and run until the window closes; then cancel and await every task
   before the loop stops;
4. stop the sandbox. An exception from any of these is logged and told (the crash reporter is
   uninstalled last).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from moments_desktop import APP_ID, APP_NAME, __version__
from moments_desktop.core import errorlog, startup
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.core.session import EmbeddedSandbox, Session
from moments_desktop.core.settings import ProxySetting, load_settings
from moments_desktop.core.tasks import ThreadJobs
from moments_desktop.ui.bridge import SessionBridge
from moments_desktop.ui import theme
from moments_desktop.ui.main_window import THEME_SETTING, MainWindow, window_settings
from moments_desktop.ui.startup_dialogs import (
    OPENED,
    READ_ONLY,
    SET_ASIDE,
    LoadingWindow,
    StartupBanner,
    StartupDialog,
    corrupt_journal_dialog,
    locked_journal_dialog,
)

if TYPE_CHECKING:  # the sandbox's stack (uvicorn, Starlette, the catalog) is imported by its start only
    from moments_desktop.sandbox.catalog import Catalog
    from moments_desktop.sandbox.server import SandboxServer

# Hidden, for screenshots and demos only: press "Preview reward" once when the window opens.
AUTOPREVIEW_ENV = "MOMENTS_DESKTOP_AUTOPREVIEW"
# Hidden, for tests/bench/bench_startup.py only: a file the app appends JSON lines to — once the window is shown
# and the loop idle ({"idle": time.monotonic(), "rss_kib": VmRSS}); then it closes its window and, after the
# shutdown, tells how long the UI thread was blocked meanwhile ({"close_blocked_ms": longest heartbeat gap}).
STARTUP_PROBE_ENV = "MOMENTS_DESKTOP_STARTUP_PROBE"


def _vm_rss_kib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:  # not Linux
        pass
    return 0


class StartupProbe:
    """What tests/bench/bench_startup.py reads (STARTUP_PROBE_ENV): the moment the window is shown and the loop
    is idle, the RSS then, and the longest the UI thread went without running a 1 ms heartbeat while the window
    closed and the app shut down."""

    SETTLE_MS = 300  # after idle, before the close: the sandbox and the first paint settled

    def __init__(self, path: str):
        self.path = path
        self.beats: list[float] = []
        self._timer = None

    def _write(self, **data: Any) -> None:
        import json

        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(data) + "\n")

    def window_shown(self, window: QWidget) -> None:
        from PySide6.QtCore import QTimer

        def idle() -> None:
            self._write(idle=time.monotonic(), rss_kib=_vm_rss_kib())
            QTimer.singleShot(self.SETTLE_MS, close)

        def close() -> None:
            self._timer = QTimer()
            self._timer.setInterval(1)
            self._timer.timeout.connect(lambda: self.beats.append(time.perf_counter()))
            self._timer.start()
            self.beats.append(time.perf_counter())
            window.close()

        QTimer.singleShot(0, idle)

    def shut_down(self) -> None:
        """After DesktopApp.aclose: the longest gap between two heartbeats (or the last one and now)."""
        if self._timer is None:
            return
        self._timer.stop()
        self.beats.append(time.perf_counter())
        gaps = [b - a for a, b in zip(self.beats, self.beats[1:])]
        self._write(close_blocked_ms=max(gaps, default=0.0) * 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moments-desktop",
        description=f"{APP_NAME}: test and preview Amazon Moments rewards. "
        "Starts a built-in sandbox of the Moments API unless --no-sandbox is given.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--sandbox-catalog", metavar="FILE", help="catalog JSON file for the embedded sandbox (default: built-in)"
    )
    parser.add_argument("--no-sandbox", action="store_true", help="do not start the embedded sandbox")
    parser.add_argument(
        "--sandbox-port", type=int, default=0, metavar="PORT",
        help="port of the embedded sandbox on 127.0.0.1 (default: 0, a free one)",
    )
    parser.add_argument("--presenter", action="store_true",
                        help="start in presenter mode: identifiers masked, the API key never drawn (View > Presenter mode)")
    parser.add_argument("--self-test", action="store_true", help="check the installation without opening a window; exit 0 when it works")
    return parser


class CrashReporter:
    """Logs unexpected exceptions to a file and tells the user briefly, once per burst."""

    def __init__(self):
        self._previous_hook = None
        self._open_box: QMessageBox | None = None

    def install(self) -> None:
        self._previous_hook = sys.excepthook
        sys.excepthook = self.excepthook

    def uninstall(self) -> None:
        if self._previous_hook is not None and sys.excepthook == self.excepthook:
            sys.excepthook = self._previous_hook
        self._previous_hook = None

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            self.report("".join(traceback.format_exception(exc_type, exc, tb)), exc_type.__name__)
        except Exception:  # noqa: BLE001 - the reporter must never raise from the hook
            sys.__excepthook__(exc_type, exc, tb)

    def loop_exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's handler for exceptions nobody awaited (they never reach sys.excepthook)."""
        exc = context.get("exception")
        message = context.get("message", "unhandled error in the event loop")
        if exc is not None:
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.report(f"{message}\n{details}", type(exc).__name__)
        else:
            self.report(f"{message}\n{context!r}\n", "event loop error")

    @property
    def log_path(self) -> Path:
        return errorlog.log_path()

    def report(self, details: str, summary: str) -> None:
        written = errorlog.write(details)
        where = f"Details were saved to {written}." if written else "The details could not be saved."
        print(f"{APP_NAME}: unexpected error ({summary}). {where}", file=sys.stderr)
        self._show(f"Something went wrong ({summary}).\n\n{where}\n\n"
                   "You can keep working, but if the app behaves oddly, restart it.")

    def _show(self, text: str) -> None:
        if QApplication.instance() is None or threading.current_thread() is not threading.main_thread():
            return
        if self._open_box is not None:  # one message at a time; the log has every error
            return
        box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME, text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._box_closed)
        self._open_box = box  # keep the wrapper alive while it is shown
        box.show()  # not exec(): no nested event loop inside the qasync loop

    def _box_closed(self) -> None:
        self._open_box = None

    def report_fatal(self, exc: BaseException) -> None:
        """An exception that ended start-up or shutdown: logged, said on stderr, and (Qt being up, the loop
        gone) in a modal box, so a user without a terminal learns where the log is."""
        written = errorlog.log_exception(exc, "start-up or shutdown")
        where = f"Details were saved to {written}." if written else "The details could not be saved."
        summary = type(exc).__name__
        print(f"{APP_NAME}: could not run ({summary}). {where}", file=sys.stderr)
        if QApplication.instance() is None or threading.current_thread() is not threading.main_thread():
            return
        box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME,
                          f"{APP_NAME} could not run ({summary}).\n\n{where}")
        box.setObjectName("fatalErrorBox")
        self._open_box = box
        try:
            box.exec()  # the event loop has ended: nothing else is running
        finally:
            self._open_box = None


class DesktopApp:
    """The embedded sandbox, the core Session and the main window, with one place that starts and stops them.

    The sandbox (a server on its own thread) starts before the event loop; the profiles and the journal
    are opened inside the running qasync loop, off the UI thread (``prepare``), asking the user where a
    start-up state needs a decision (a journal that is not a database, one another process holds); the
    Session, the bridge and the window are built after (``open_window``), so nothing is scheduled before
    the loop runs, and ``aclose`` awaits every task before the HTTP client and the journal close.
    """

    # Between two tries to open a journal another process holds (each try waits PROBE_TIMEOUT_S at most).
    LOCK_RETRY_S = 0.5

    def __init__(self, sandbox_catalog: str | None = None, use_sandbox: bool = True, sandbox_port: int = 0,
                 presenter: bool = False):
        self.sandbox_catalog = sandbox_catalog
        self.presenter = presenter  # --presenter: the Session starts masked, before the window is drawn
        self.use_sandbox = use_sandbox
        self.sandbox_port = sandbox_port
        self.sandbox: SandboxServer | None = None
        self.embedded: EmbeddedSandbox | None = None  # its URL and demo key: held in memory, never in the keyring
        self.window: MainWindow | None = None
        self.profiles: ProfileStore | None = None
        self.journal: Journal | None = None
        self.claims_disabled_reason: str | None = None
        self.proxy: ProxySetting = ProxySetting()  # the app-wide network setting (settings.json)
        self.notices: list[str] = []  # told in the window's banner: files set aside, claims turned off
        self.dialog: StartupDialog | None = None  # the start-up question on screen, if any
        self._jobs = ThreadJobs()  # the blocking opens (profiles, journal), awaited by aclose()
        self._sandbox_start: Future | None = None  # begin_sandbox's outcome, until taken
        self._sandbox_stops: list[tuple[threading.Thread, asyncio.Future]] = []  # stop_sandbox's, in the loop
        self._sandbox_start_thread: threading.Thread | None = None
        self._reserved: socket.socket | None = None  # reserve_sandbox's listening socket, until a server takes it
        self._reserve_problem: str | None = None  # why reserve_sandbox could not listen, told once the window shows
        self.session: Session | None = None
        self._problem_box: QMessageBox | None = None
        self._closing = False

    # --- the sandbox: its address first, its server after the first paint ---------------------

    def reserve_sandbox(self) -> None:
        """Before the window, cheaply (stdlib only): the sandbox's socket bound on 127.0.0.1 and listening, so its
        URL is known at once; its admin token; its demo key. The Session is built over these, and the server
        itself (uvicorn, Starlette, the catalog: ~200 ms of imports that share the GIL with the window's build)
        starts on its thread after the first paint (``begin_sandbox``). A call made before it accepts waits in
        the socket's backlog, bounded by the call's own deadline. A port that cannot be listened on is told
        once the window is shown, and the app opens without the sandbox."""
        if not self.use_sandbox or self._reserved is not None or self.embedded is not None \
                or self._sandbox_start is not None:
            return
        import secrets

        host = "127.0.0.1"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # see SandboxServer._bind
        try:
            if sys.platform != "win32":  # on Windows SO_REUSEADDR lets another process steal the port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, self.sandbox_port))
            sock.listen(socket.SOMAXCONN)  # uvicorn listens again with its own backlog when it serves
        except OSError as exc:
            sock.close()
            self._reserve_problem = (f"The built-in sandbox could not start:\n\nCannot listen on {host}:"
                                     f"{self.sandbox_port}: {exc.strerror or exc}\n\n"
                                     f"{APP_NAME} will open without the sandbox.")
            self.use_sandbox = False
            return
        sock.set_inheritable(False)
        self._reserved = sock
        url = f"http://{host}:{sock.getsockname()[1]}"
        self.embedded = EmbeddedSandbox(url, self._demo_key_unvalidated(), admin_token=secrets.token_urlsafe(24))

    def _demo_key_unvalidated(self) -> str:
        """The catalog's demo key (its first app's first key, as ``Catalog.demo``) read straight from the JSON:
        importing and validating the catalog (~30 ms) waits for the server's start, after the first paint, which
        then puts the validated key in place. A catalog that cannot be read gives "" here, and its start fails
        with the catalog's own message."""
        import json

        from moments_desktop.core.resources import resources_dir

        path = Path(self.sandbox_catalog) if self.sandbox_catalog else resources_dir() / "catalog.json"
        try:
            key = json.loads(path.read_text(encoding="utf-8"))["apps"][0]["api_keys"][0]
        except (OSError, ValueError, LookupError, TypeError):
            return ""
        return key if isinstance(key, str) else ""

    def begin_sandbox(self) -> None:
        """Start the sandbox on a thread of its own and return at once: importing its stack (uvicorn, Starlette,
        the catalog) and starting it overlap the QApplication's creation and the opening of the files.
        ``sandbox_ready()`` (in the loop) or ``start_sandbox()`` (before it) take the outcome."""
        if not self.use_sandbox or self._sandbox_start is not None:
            return
        started: Future = Future()
        self._sandbox_start = started
        sock, self._reserved = self._reserved, None  # reserve_sandbox's, served by this start
        thread = threading.Thread(target=self._start_sandbox_thread, args=(started, sock),
                                  name="moments-sandbox-start", daemon=True)
        self._sandbox_start_thread = thread
        thread.start()

    def _start_sandbox_thread(self, started: Future, sock: socket.socket | None = None) -> None:
        try:
            from moments_desktop.sandbox.catalog import load_catalog, load_default_catalog
            from moments_desktop.sandbox.server import SandboxServer

            catalog = load_catalog(self.sandbox_catalog) if self.sandbox_catalog else load_default_catalog()
            server = SandboxServer(catalog=catalog, port=self.sandbox_port, sock=sock,
                                   admin_token=self.embedded.admin_token if sock is not None else None)
            sock = None  # the server's now (closed by its stop, or by its failed start)
            url = server.start()  # bounded by its startup_timeout
        except BaseException as exc:  # noqa: BLE001 - told by _sandbox_started, on the UI thread
            if sock is not None:
                sock.close()  # calls to its URL now fail at once ("could not connect")
            started.set_exception(exc)
        else:
            started.set_result((server, catalog, url))

    def _sandbox_started(self) -> tuple[str | None, str | None]:
        """(url, None) once the sandbox runs; (None, the problem to tell) when it could not start."""
        started, self._sandbox_start = self._sandbox_start, None
        if started is None:
            return None, None
        started.exception()  # waits for the outcome (start_sandbox, before the loop)
        thread, self._sandbox_start_thread = self._sandbox_start_thread, None
        if thread is not None:
            thread.join()  # it only returns after setting the outcome: no thread left behind
        try:
            server, catalog, url = started.result()
        except Exception as exc:  # noqa: BLE001 - explained below
            from moments_desktop.sandbox.catalog import CatalogError
            from moments_desktop.sandbox.server import SandboxStartError

            if isinstance(exc, CatalogError):
                problem = f"The sandbox catalog cannot be used:\n\n{exc}"
            else:
                if not isinstance(exc, SandboxStartError):  # e.g. missing resource files; logged, then explained
                    sys.excepthook(type(exc), exc, exc.__traceback__)
                problem = f"The built-in sandbox could not start:\n\n{exc}"
            return None, f"{problem}\n\n{APP_NAME} will open without the sandbox."
        self._adopt_sandbox(server, catalog, url)
        return url, None

    def _adopt_sandbox(self, server: SandboxServer, catalog: Catalog, url: str) -> None:
        self.sandbox = server
        # The demo key straight from the catalog object (never over HTTP); the token the server made.
        embedded = EmbeddedSandbox(url, catalog.demo().api_key, admin_token=server.admin_token)
        if embedded != self.embedded:
            self.embedded = embedded
            if self.session is not None:  # reserve_sandbox's unvalidated key differed (not in a valid catalog)
                self.session.sandbox = embedded

    def start_sandbox(self) -> str | None:
        """Start the sandbox and wait for it (before the loop runs); on failure explain it in a message box
        and return None."""
        self.begin_sandbox()
        url, problem = self._sandbox_started()
        if problem is not None:
            QMessageBox.warning(None, APP_NAME, problem)
        return url

    def start_after_first_paint(self) -> None:
        """Right after the window is shown: the server on its thread once Qt has painted (the next turn of the
        loop), and then its outcome told; or the reserved port's problem told now."""
        from PySide6.QtCore import QTimer

        if self._reserve_problem is not None:
            self._tell_sandbox_problem(self._reserve_problem)
            self._reserve_problem = None
        if self._reserved is not None:
            QTimer.singleShot(0, self._begin_after_paint)

    def _begin_after_paint(self) -> None:
        if self._closing or self._reserved is None:
            return
        self.begin_sandbox()
        started = self._sandbox_start
        if started is not None:
            asyncio.wrap_future(started).add_done_callback(self._sandbox_came_up)

    def _sandbox_came_up(self, done: asyncio.Future) -> None:
        """The server's start ended (in the loop): adopted, or its failure told; ``done`` mirrors the start's
        future, its outcome taken from that future by ``_sandbox_started``."""
        if not done.cancelled():
            done.exception()  # retrieved: _sandbox_started tells it
        if self._sandbox_start is None or not self._sandbox_start.done():  # taken already (aclose)
            return
        _url, problem = self._sandbox_started()
        if problem is not None and not self._closing:
            self._tell_sandbox_problem(problem)

    def _tell_sandbox_problem(self, problem: str) -> None:
        """Non-modal, over the window that is open meanwhile (calls to the sandbox's URL fail fast)."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, problem, parent=self.window)
        box.setObjectName("sandboxProblemBox")
        box.setModal(False)  # the window works on meanwhile
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._problem_box_closed)
        self._problem_box = box
        box.show()  # not exec(): no nested event loop inside the qasync loop

    def _problem_box_closed(self) -> None:
        self._problem_box = None

    def _release_reserved(self) -> None:
        sock, self._reserved = self._reserved, None
        if sock is not None:
            sock.close()

    async def sandbox_ready(self) -> str | None:
        """Inside the loop: wait for the sandbox ``begin_sandbox`` started (the loop runs meanwhile); a failure
        is told in a message box the user closes before the window opens without the sandbox."""
        if self._sandbox_start is None:
            return self.embedded.url if self.embedded is not None else None
        await asyncio.wrap_future(self._sandbox_start)
        url, problem = self._sandbox_started()
        if problem is not None:
            box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, problem)
            box.setObjectName("sandboxProblemBox")
            answered = asyncio.get_running_loop().create_future()
            box.finished.connect(lambda *_: answered.done() or answered.set_result(None))
            box.show()  # not exec(): no nested event loop inside the qasync loop
            try:
                await answered
            finally:
                box.deleteLater()
        return url

    # --- opening the files (inside the loop, off the UI thread) ---------------------------

    async def prepare(self) -> bool:
        """Open the profiles and the journal in worker threads; False when the user chose to quit."""
        loading = LoadingWindow()
        loading.start()  # shown only if this takes a while (a very large profiles.json)
        try:
            self.profiles = await self._jobs.run(startup.load_profiles)
            self.notices.extend(self.profiles.load_warnings)
            settings = await self._jobs.run(load_settings)
            self.proxy = settings.settings.proxy
            if settings.warning:
                self.notices.append(settings.warning)
        finally:
            loading.stop()
        opened = await self._open_journal()
        if opened is None:
            return False
        self.journal = opened.journal
        self.claims_disabled_reason = opened.claims_disabled_reason
        if opened.notice:
            self.notices.append(opened.notice)
        rescued = startup.rescue_notice(self.journal)
        if rescued:
            self.notices.append(rescued)
        return True

    async def _open_journal(self) -> startup.OpenedJournal | None:
        path = startup.journal_location()
        while True:
            try:
                return startup.OpenedJournal(await self._jobs.run(startup.open_journal, path))
            except startup.JournalCorrupt as problem:
                if await self._ask(corrupt_journal_dialog(str(path), problem.detail)) != SET_ASIDE:
                    return None
                try:
                    moved = await self._jobs.run(startup.set_journal_aside, path)
                except OSError as exc:
                    return await self._jobs.run(startup.fallback_journal, startup.JournalUnwritable(
                        path, f"it could not be renamed ({exc.strerror or exc})"))
                self.notices.append(f"The history file {path} could not be read ({problem.detail}). It was "
                                    f"renamed to {moved} and a new, empty history was started.")
            except startup.JournalLocked as problem:
                waited = await self._wait_for_lock(problem)
                if not isinstance(waited, startup.JournalProblem):
                    return waited
                # no longer locked but something else (e.g. replaced meanwhile): probe and ask again

            except startup.JournalUnwritable as problem:
                return await self._jobs.run(startup.fallback_journal, problem)

    async def _wait_for_lock(self, problem: startup.JournalLocked
                             ) -> startup.OpenedJournal | startup.JournalProblem | None:
        """Try again every LOCK_RETRY_S while the dialog is up; the user may cancel or open it read-only."""
        dialog = locked_journal_dialog(str(problem.path), problem.readable)
        self.dialog = dialog
        answered = dialog.answer_future()
        tries = 1
        try:
            while True:
                attempt = asyncio.ensure_future(self._try_open(problem.path))
                done, _pending = await asyncio.wait({answered, attempt}, return_when=asyncio.FIRST_COMPLETED)
                if answered in done:
                    opened = await attempt  # at most PROBE_TIMEOUT_S (or the journal's own lock wait)
                    if isinstance(opened, startup.OpenedJournal):
                        opened.journal.close()  # the user answered first: go their way
                    if answered.result() == READ_ONLY:
                        return await self._jobs.run(startup.fallback_journal, problem)
                    return None
                opened = attempt.result()
                if opened is not None:
                    dialog.choose(OPENED)
                    return opened
                tries += 1
                dialog.attempts.setText(f"Tried {tries} times; still in use.")
                sleeping = asyncio.ensure_future(asyncio.sleep(self.LOCK_RETRY_S))
                await asyncio.wait({answered, sleeping}, return_when=asyncio.FIRST_COMPLETED)
                sleeping.cancel()
                await asyncio.gather(sleeping, return_exceptions=True)
                if answered.done():
                    if answered.result() == READ_ONLY:
                        return await self._jobs.run(startup.fallback_journal, problem)
                    return None
        finally:
            self.dialog = None
            if not answered.done():
                dialog.choose(OPENED)
            dialog.deleteLater()

    async def _try_open(self, path: Path) -> startup.OpenedJournal | startup.JournalProblem | None:
        """The journal; None while it is still locked; another problem as a value (to be asked about)."""
        try:
            return startup.OpenedJournal(await self._jobs.run(startup.open_journal, path))
        except startup.JournalLocked:
            return None
        except startup.JournalProblem as other:
            return other

    async def _ask(self, dialog: StartupDialog) -> str:
        self.dialog = dialog
        try:
            return await dialog.answer()
        finally:
            self.dialog = None
            dialog.deleteLater()

    # --- the session and the window ---------------------------------------------------------

    def make_session(self) -> Session:
        """The Session over the prepared files (or, without ``prepare``, the default ones opened here)."""
        profiles = self.profiles if self.profiles is not None else ProfileStore()
        journal = self.journal if self.journal is not None else Journal()
        self.profiles, self.journal = profiles, journal
        session = Session(profiles, CredentialStore(), journal, make_client(proxy=self.proxy), sandbox=self.embedded,
                          claims_disabled_reason=self.claims_disabled_reason)
        session.set_presenter(self.presenter)
        self.session = session
        return session

    def open_window(self) -> MainWindow:
        """Build the Session, its bridge and the window. Call inside the running loop."""
        asyncio.get_running_loop()  # RuntimeError here, not a task that never runs
        self.window = MainWindow(SessionBridge(self.make_session()))
        if self.notices:
            self.window.add_notice_banner(StartupBanner(self.notices, self.window))
        self.window.closed.connect(self.stop_sandbox)
        return self.window

    async def aclose(self) -> None:
        """Cancel and await everything the window started, then close the Session; stop the sandbox and wait
        until it has stopped (its thread joined: the loop runs meanwhile)."""
        self._closing = True
        self._release_reserved()  # reserved, never served (closed before the first paint)
        if self._problem_box is not None:
            self._problem_box.close()
        await self._jobs.wait_idle()
        if self.window is not None:
            await self.window.aclose()
        elif self.journal is not None:  # opened, but the window never was (the user quit)
            self.journal.close()
        if self._sandbox_start is not None:  # started, never taken (the user quit at a start-up question)
            await asyncio.wrap_future(self._sandbox_start)
            self._sandbox_started()
        self.stop_sandbox()
        while self._sandbox_stops:
            thread, stopped = self._sandbox_stops.pop()
            await stopped
            thread.join()  # returning, if not already done

    def stop_sandbox(self) -> None:
        """Begin stopping the sandbox, on a thread of its own: uvicorn notices it should exit on its next tick
        (up to 0.1 s) and then closes its connections, which the UI thread (the window closing) does not wait
        for. ``aclose()`` inside the loop, or ``wait_sandbox_stopped()`` after it, wait for the stop. Called with
        no loop running (a script, after the loop), it stops the sandbox before returning, as it always did."""
        server, self.sandbox = self.sandbox, None
        if server is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            server.stop()
            return
        stopped = loop.create_future()

        def stop() -> None:
            try:
                server.stop()
            finally:
                try:
                    loop.call_soon_threadsafe(lambda: stopped.done() or stopped.set_result(None))
                except RuntimeError:  # the loop closed meanwhile: nobody awaits it any more
                    pass

        thread = threading.Thread(target=stop, name="moments-sandbox-stop")
        thread.start()
        self._sandbox_stops.append((thread, stopped))

    def wait_sandbox_stopped(self) -> None:
        """Outside the loop: the sandbox stopped (begun here if not yet) and its stopping thread joined."""
        self._closing = True
        self._release_reserved()
        if self._sandbox_start is not None:
            self._sandbox_started()
        self.stop_sandbox()
        while self._sandbox_stops:
            self._sandbox_stops.pop()[0].join()


def freeze_startup_objects() -> None:
    """The objects of start-up (Qt wrappers, modules, the window) live as long as the app: moved out of the
    collector's sight, a full collection scans only what came after. With them in it, one took 70 ms in the
    middle of a 1,000-card sweep (tests/bench/bench_sweep.py): a visible freeze.

    ``main`` runs start-up with the collector off (a full pass fell in the middle of building the window), and
    no collection precedes the freeze: on a fresh start one here found nothing to free and cost as much as
    building the window (Step 14, profiles/startup-gc.txt). The collector is on again from here."""
    gc.freeze()
    gc.enable()


async def main_async(desktop: DesktopApp) -> None:
    """Open the files, build the window inside the running loop, show it and run until it closes (or the
    application is asked to quit); then await every task it started before the loop stops."""
    closed = asyncio.get_running_loop().create_future()

    def finish() -> None:
        if not closed.done():
            closed.set_result(None)

    app = QApplication.instance()
    app.aboutToQuit.connect(finish)
    probe = StartupProbe(os.environ[STARTUP_PROBE_ENV]) if os.environ.get(STARTUP_PROBE_ENV) else None
    try:
        if not await desktop.prepare():
            return  # the user chose Quit at a start-up question
        await desktop.sandbox_ready()  # only if begun before the loop (begin_sandbox; main reserves instead)
        window = desktop.open_window()
        window.closed.connect(finish)
        window.show()
        freeze_startup_objects()
        if probe is not None:
            probe.window_shown(window)
        desktop.start_after_first_paint()  # the reserved sandbox's server, once the window is painted
        if os.environ.get(AUTOPREVIEW_ENV) == "1":
            window.preview()
        await closed
    finally:
        app.aboutToQuit.disconnect(finish)
        await desktop.aclose()
        if probe is not None:
            probe.shut_down()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:
        from moments_desktop import selftest

        return selftest.main()

    reporter = CrashReporter()
    reporter.install()
    collecting = gc.isenabled()
    gc.disable()  # until the window is shown (freeze_startup_objects): no full pass in the middle of start-up
    try:
        return _run(args, reporter)
    except Exception as exc:  # noqa: BLE001 - start-up or shutdown: logged and told, never a bare traceback
        reporter.report_fatal(exc)
        return 1
    finally:
        reporter.uninstall()  # only now: every exception above has reached it
        if collecting:
            gc.enable()
        else:
            gc.disable()


def _run(args: argparse.Namespace, reporter: CrashReporter) -> int:
    in_main_thread = threading.current_thread() is threading.main_thread()
    # Qt's loop never returns to Python for a KeyboardInterrupt: let Ctrl+C end the process.
    previous_sigint = signal.signal(signal.SIGINT, signal.SIG_DFL) if in_main_thread else None
    desktop = DesktopApp(sandbox_catalog=args.sandbox_catalog, use_sandbox=not args.no_sandbox,
                         sandbox_port=args.sandbox_port, presenter=args.presenter)
    desktop.reserve_sandbox()  # its socket, URL, token and demo key; its server starts after the first paint
    app: QApplication | None = None
    quit_on_last = True
    try:
        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_ID])
        app.setApplicationName(APP_NAME)
        app.setDesktopFileName(APP_ID)
        app.setWindowIcon(theme.app_icon())
        # Fusion and the palette of the saved choice (View > Theme) before anything is drawn.
        theme.current().install(app, window_settings().value(THEME_SETTING, theme.DEFAULT_CHOICE, type=str))
        quit_on_last = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)  # main_async ends the loop; Qt must not stop it under asyncio
        # asyncio.Runner(loop_factory=...) is Python 3.11's spelling of asyncio.run(..., loop_factory=...).
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            runner.get_loop().set_exception_handler(reporter.loop_exception_handler)
            try:
                runner.run(main_async(desktop))
            except RuntimeError as exc:
                # Qt quit underneath asyncio (the display server went away). Nothing is lost: the
                # journal is committed as it goes and an open claim intent is recovered next start.
                if "stopped before Future completed" not in str(exc):
                    raise
                print(f"{APP_NAME}: the display closed; exiting.", file=sys.stderr)
                return 1
        return 0
    finally:
        desktop.wait_sandbox_stopped()  # normally stopped by aclose already
        if app is not None:
            app.setQuitOnLastWindowClosed(quit_on_last)
        if previous_sigint is not None:
            signal.signal(signal.SIGINT, previous_sigint)

if __name__ == "__main__":
    sys.exit(main())

"""``moments-desktop``: wires the Qt UI, the core and the qasync event loop together.

This is the only module that knows all of ui/, core/ and the embedded sandbox. Startup:

1. parse the command line; install the crash reporter (unexpected exceptions go to a log
   file and a short message, never a bare traceback in a terminal the user does not have);
2. create the QApplication and start the embedded sandbox on its background thread (a
   failure is explained in a message box and the app opens without it);
3. run the qasync loop; inside it build the core Session, the bridge and the main window, and run
   until the window closes; then cancel and await every task before the loop stops;
4. stop the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from moments_desktop import APP_ID, APP_NAME, __version__
from moments_desktop.core import errorlog
from moments_desktop.core.credentials import CredentialStore
from moments_desktop.core.http import make_client
from moments_desktop.core.journal import Journal
from moments_desktop.core.profiles import ProfileStore
from moments_desktop.core.session import EmbeddedSandbox, Session
from moments_desktop.sandbox.catalog import CatalogError, load_catalog, load_default_catalog
from moments_desktop.sandbox.server import SandboxServer, SandboxStartError
from moments_desktop.ui.bridge import SessionBridge
from moments_desktop.ui.main_window import MainWindow

# Hidden, for screenshots and demos only: press "Preview reward" once when the window opens.
AUTOPREVIEW_ENV = "MOMENTS_DESKTOP_AUTOPREVIEW"


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


class DesktopApp:
    """The embedded sandbox, the core Session and the main window, with one place that starts and stops them.

    The sandbox (a server on its own thread) starts before the event loop; the Session, the bridge and
    the window are built inside the running qasync loop (``open_window``), so nothing is scheduled
    before the loop runs, and ``aclose`` awaits every task before the HTTP client and the journal close.
    """

    def __init__(self, sandbox_catalog: str | None = None, use_sandbox: bool = True):
        self.sandbox_catalog = sandbox_catalog
        self.use_sandbox = use_sandbox
        self.sandbox: SandboxServer | None = None
        self.embedded: EmbeddedSandbox | None = None  # its URL and demo key: held in memory, never in the keyring
        self.window: MainWindow | None = None

    def start_sandbox(self) -> str | None:
        """Start the sandbox; on failure explain it in a message box and return None."""
        if not self.use_sandbox:
            return None
        try:
            catalog = load_catalog(self.sandbox_catalog) if self.sandbox_catalog else load_default_catalog()
            server = SandboxServer(catalog=catalog)
            url = server.start()
        except CatalogError as exc:
            problem = f"The sandbox catalog cannot be used:\n\n{exc}"
        except SandboxStartError as exc:
            problem = f"The built-in sandbox could not start:\n\n{exc}"
        except Exception as exc:  # noqa: BLE001 - e.g. missing resource files; logged, then explained
            sys.excepthook(type(exc), exc, exc.__traceback__)
            problem = f"The built-in sandbox could not start:\n\n{exc}"
        else:
            self.sandbox = server
            self.embedded = EmbeddedSandbox(url, catalog.demo().api_key)
            return url
        QMessageBox.warning(
            None, APP_NAME, f"{problem}\n\n{APP_NAME} will open without the sandbox."
        )
        return None

    def make_session(self) -> Session:
        return Session(ProfileStore(), CredentialStore(), Journal(), make_client(), sandbox=self.embedded)

    def open_window(self) -> MainWindow:
        """Build the Session, its bridge and the window. Call inside the running loop."""
        asyncio.get_running_loop()  # RuntimeError here, not a task that never runs
        self.window = MainWindow(SessionBridge(self.make_session()))
        self.window.closed.connect(self.stop_sandbox)
        return self.window

    async def aclose(self) -> None:
        """Cancel and await everything the window started, then close the Session; stop the sandbox."""
        if self.window is not None:
            await self.window.aclose()
        self.stop_sandbox()

    def stop_sandbox(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


async def main_async(desktop: DesktopApp) -> None:
    """Build the window inside the running loop, show it and run until it closes (or the application
    is asked to quit); then await every task it started before the loop stops."""
    closed = asyncio.get_running_loop().create_future()

    def finish() -> None:
        if not closed.done():
            closed.set_result(None)

    app = QApplication.instance()
    app.aboutToQuit.connect(finish)
    try:
        window = desktop.open_window()
        window.closed.connect(finish)
        window.show()
        if os.environ.get(AUTOPREVIEW_ENV) == "1":
            window.preview()
        await closed
    finally:
        app.aboutToQuit.disconnect(finish)
        await desktop.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:
        from moments_desktop import selftest

        return selftest.main()

    reporter = CrashReporter()
    reporter.install()
    in_main_thread = threading.current_thread() is threading.main_thread()
    # Qt's loop never returns to Python for a KeyboardInterrupt: let Ctrl+C end the process.
    previous_sigint = signal.signal(signal.SIGINT, signal.SIG_DFL) if in_main_thread else None
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_ID])
    app.setApplicationName(APP_NAME)
    app.setDesktopFileName(APP_ID)
    quit_on_last = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)  # main_async ends the loop; Qt must not stop it under asyncio
    desktop = DesktopApp(sandbox_catalog=args.sandbox_catalog, use_sandbox=not args.no_sandbox)
    try:
        desktop.start_sandbox()
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
        desktop.stop_sandbox()
        app.setQuitOnLastWindowClosed(quit_on_last)
        if previous_sigint is not None:
            signal.signal(signal.SIGINT, previous_sigint)
        reporter.uninstall()


if __name__ == "__main__":
    sys.exit(main())

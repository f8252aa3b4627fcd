"""What the user sees while the app opens its files: the questions a start-up state needs, and the banner.

Each dialog is shown with ``open()`` and answered through a future (``answer``), never ``exec()``: the
qasync loop keeps running underneath, so a locked journal is retried while its dialog is up and the
window never freezes. Widgets only: what each state means is decided in core/startup.py and app.py.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from moments_desktop import APP_NAME

SET_ASIDE = "set_aside"
QUIT = "quit"
READ_ONLY = "read_only"
OPENED = "opened"


class StartupDialog(QDialog):
    """A titled message with named buttons; ``answer()`` awaits the one pressed (QUIT when closed)."""

    def __init__(self, object_name: str, heading: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(APP_NAME)
        self.setMinimumWidth(520)
        self._choice = QUIT
        self._future: asyncio.Future | None = None
        layout = QVBoxLayout(self)
        self.heading = QLabel(f"<b>{_escape(heading)}</b>", self)
        self.heading.setObjectName("startupHeading")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.text = QLabel(text, self)
        self.text.setObjectName("startupText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.extra = QVBoxLayout()
        layout.addLayout(self.extra)
        self.buttons = QDialogButtonBox(self)
        layout.addWidget(self.buttons)
        self.finished.connect(self._finished)

    def add_choice(self, text: str, choice: str, object_name: str, *, default: bool = False,
                   role: QDialogButtonBox.ButtonRole = QDialogButtonBox.ButtonRole.AcceptRole) -> QPushButton:
        button = self.buttons.addButton(text, role)
        button.setObjectName(object_name)
        button.setDefault(default)
        button.setAutoDefault(default)
        button.clicked.connect(lambda: self.choose(choice))
        return button

    def choose(self, choice: str) -> None:
        self._choice = choice
        self.done(QDialog.DialogCode.Accepted if choice != QUIT else QDialog.DialogCode.Rejected)

    def _finished(self, _code: int) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(self._choice)

    def answer_future(self) -> asyncio.Future:
        """Show the dialog (not modal to a nested loop) and return the future of its answer."""
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
            self.open()
        return self._future

    async def answer(self) -> str:
        return await self.answer_future()


def corrupt_journal_dialog(path: str, detail: str) -> StartupDialog:
    dialog = StartupDialog(
        "corruptJournalDialog", "The history file cannot be read",
        f"{path}\n\nis not a database the app can read ({detail}). It may have been damaged, or replaced "
        "by another file.\n\nThe app can rename it (nothing is deleted: it keeps its contents under the new "
        "name, shown once it is done) and start a new, empty history. Or quit and look at the file first.")
    dialog.add_choice("Set it aside and start a new history", SET_ASIDE, "setAsideButton", default=True)
    dialog.add_choice("Quit", QUIT, "quitButton", role=QDialogButtonBox.ButtonRole.RejectRole)
    return dialog


def locked_journal_dialog(path: str, readable: bool) -> StartupDialog:
    text = (f"{path}\n\nis in use by another program (another copy of {APP_NAME}, or a tool that has it "
            "open). The app is waiting for it to be free and opens as soon as it is.")
    if readable:
        text += ("\n\nYou can also open the history read-only now: previews work, but claims are turned off "
                 "until the file is free, because a claim must be recorded before it is sent.")
    dialog = StartupDialog("lockedJournalDialog", "Waiting for the history file", text)
    waiting = QProgressBar(dialog)
    waiting.setObjectName("lockWaitIndicator")
    waiting.setRange(0, 0)
    waiting.setTextVisible(False)
    waiting.setMaximumHeight(10)
    dialog.extra.addWidget(waiting)
    dialog.attempts = QLabel("", dialog)
    dialog.attempts.setObjectName("lockAttempts")
    dialog.extra.addWidget(dialog.attempts)
    if readable:
        dialog.add_choice("Open read-only", READ_ONLY, "readOnlyButton")
    dialog.add_choice("Cancel and quit", QUIT, "quitButton", role=QDialogButtonBox.ButtonRole.RejectRole)
    return dialog


class LoadingWindow(QDialog):
    """Shown only when opening the files takes a while (a very large profiles.json): the app is working."""

    SHOW_AFTER_MS = 400

    def __init__(self, text: str = "Opening your saved profiles and history…"):
        super().__init__(None)
        self.setObjectName("startupLoading")
        self.setWindowTitle(APP_NAME)
        layout = QVBoxLayout(self)
        label = QLabel(text, self)
        label.setObjectName("startupLoadingText")
        layout.addWidget(label)
        bar = QProgressBar(self)
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        layout.addWidget(bar)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.show)

    def start(self) -> None:
        self._timer.start(self.SHOW_AFTER_MS)

    def stop(self) -> None:
        self._timer.stop()
        self.hide()
        self.deleteLater()


class StartupBanner(QFrame):
    """Above the window's controls: what happened while opening (a file set aside, claims turned off)."""

    def __init__(self, notices: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("startupBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Colours from the palette (no hex strings): a highlighted frame, readable in light and dark themes.
        self.setAutoFillBackground(True)
        self.setBackgroundRole(self.palette().ColorRole.ToolTipBase)
        self.setForegroundRole(self.palette().ColorRole.ToolTipText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel("\n\n".join(notices), self)
        self.label.setObjectName("startupBannerText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setObjectName("dismissStartupBanner")
        self.dismiss.setAutoDefault(False)
        self.dismiss.clicked.connect(self.hide)
        layout.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)

    @property
    def text(self) -> str:
        return self.label.text()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""How a claim ended, each outcome with its own look and words.

- success: the reward URL, selectable, with Copy and Open;
- declined: the API answered without a reward; its own rewardNotificationText, verbatim;
- refused: the API answered with an error (403, 429, 4xx, 5xx);
- not sent: nothing left this machine, nothing was spent;
- unknown: sent, no complete answer; a reward may have been consumed — check before claiming again.

Whatever the outcome, the detail says where the answer is kept: its journal entry, or the rescue file
when the journal could not take it (the URL is shown all the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from moments_desktop.core.render import REVEAL_SECONDS, Renderer
from moments_desktop.core.errors import ApiError, BusinessError, MomentsError, NoRewardError, UnexpectedError
from moments_desktop.core.exchange import Outcome
from moments_desktop.core.operations import ClaimResult

from .text_direction import follow_text
from .theme import ThemePalette, styled

NOT_SENT_TITLE = "Not sent — nothing was spent"
UNKNOWN_TITLE = "Outcome unknown: check before claiming again"
RESCUED_TITLE = "Reward claimed — not yet in the history"
REVEAL_TIP = f"Shows the reward URL in clear for {REVEAL_SECONDS} seconds, then masks it again"


class ClaimKind(StrEnum):
    SUCCESS = "success"
    DECLINED = "declined"
    REFUSED = "refused"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"


# The theme role of each outcome's border and title (its background is the role tinted toward the base).
KIND_ROLES = {
    ClaimKind.SUCCESS: "success",
    ClaimKind.DECLINED: "warning",
    ClaimKind.REFUSED: "danger",
    ClaimKind.NOT_SENT: "neutral",
    ClaimKind.UNKNOWN: "unknown",
}


def kind_colours(kind: ClaimKind, p: ThemePalette) -> tuple[str, str, str]:
    """(background, border, title colour) of an outcome in the palette."""
    colour = getattr(p, KIND_ROLES[kind])
    return p.mix(colour, p.base, 0.88), colour, colour


@dataclass(frozen=True)
class ClaimPresentation:
    kind: ClaimKind
    title: str
    message: str  # the main text (the API's own words for a declined claim)
    detail: str = ""
    reward_url: str | None = None


def is_web_url(url: str) -> bool:
    """Only http(s) addresses are handed to the desktop: a server could send file: or other schemes."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _journal_note(journal_id: int | None, outcome: str) -> str:
    return f"Recorded in the journal as {outcome} (entry #{journal_id})." if journal_id is not None else ""


def _note(result: ClaimResult, outcome: str) -> str:
    """Where this answer is kept: the journal's entry, or, when the journal could not take it, the rescue file."""
    if not result.answer_not_journaled:
        return _journal_note(result.journal_id, outcome)
    reason = result.journal_error.reason if result.journal_error else "it could not be written"
    if result.rescue_path is not None:
        return (f"The history could not record this answer ({reason}). It is kept safe in {result.rescue_path}; "
                "the history gets it as soon as it can be written again, at the latest the next time the app starts.")
    return (f"The history could not record this answer ({reason}), and the backup file could not be written "
            f"either ({result.rescue_error}). Copy what you need now: it is kept only while the app runs.")


def present_result(result: ClaimResult) -> ClaimPresentation:
    call = result.call
    outcome = call.exchange.outcome
    error = call.error
    status = call.exchange.status
    if result.reward_url:
        return ClaimPresentation(
            ClaimKind.SUCCESS, RESCUED_TITLE if result.answer_not_journaled else "Reward claimed",
            "One reward was claimed. Its redemption URL, as the customer would receive it:",
            _note(result, "success"), result.reward_url)
    if outcome is Outcome.UNKNOWN:
        reason = error.detail if isinstance(error, MomentsError) and error.detail else "no complete answer came back"
        return ClaimPresentation(
            ClaimKind.UNKNOWN, UNKNOWN_TITLE,
            f"The request was sent, but {reason}. A reward may have been consumed and billed. Check the "
            "campaign (or the sandbox ledger) before claiming again; the app never retries a claim.",
            _note(result, "unknown"))
    if outcome is Outcome.NOT_SENT:
        return present_not_sent(error or UnexpectedError())
    if outcome is Outcome.NO_REWARD:
        if isinstance(error, BusinessError) and error.notification_text:
            message = error.notification_text  # the docs: show the API's own words, verbatim
        elif isinstance(error, NoRewardError):
            message = f"{error.title}. {error.advice}"
        else:
            message = error.message if error else "The API answered without a reward URL."
        detail = "The service answered" + (f" (HTTP {status})" if status is not None else "") + \
                 " but issued no reward URL."
        return ClaimPresentation(ClaimKind.DECLINED, "No reward was issued", message,
                                 " ".join(p for p in (detail, _note(result, "no reward")) if p))
    err = error or UnexpectedError()
    detail_parts = []
    if isinstance(err, ApiError) and err.notification_text:
        detail_parts.append(f"The API said: {err.notification_text}")
    if status is not None:
        detail_parts.append(f"HTTP status {status}.")
    detail_parts.append(_note(result, "error"))
    message = err.title + (f": {err.detail}" if err.detail else "") + "." + (f" {err.advice}" if err.advice else "")
    return ClaimPresentation(ClaimKind.REFUSED, "The claim was refused", message.replace("..", "."),
                             "\n".join(p for p in detail_parts if p))


def present_not_sent(error: MomentsError) -> ClaimPresentation:
    reason = error.title + (f": {error.detail}" if error.detail else "") + "."
    return ClaimPresentation(ClaimKind.NOT_SENT, NOT_SENT_TITLE, reason.replace("..", "."),
                             error.advice or "")


def present_failure(error: MomentsError, may_have_been_sent: bool) -> ClaimPresentation:
    """A claim that stopped on an error of its own (no exchange to show)."""
    if not may_have_been_sent:
        return present_not_sent(error)
    return ClaimPresentation(
        ClaimKind.UNKNOWN, UNKNOWN_TITLE,
        "The claim stopped on an error after it may have been sent, so a reward may have been consumed. "
        "Check the campaign (or the sandbox ledger) before claiming again.",
        error.message)


def reveal_timer(parent: QObject, hide: Callable[[], None]) -> QTimer:
    """The one-shot timer that masks a revealed reward URL again REVEAL_SECONDS after the click on Reveal."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(REVEAL_SECONDS * 1000)
    timer.timeout.connect(hide)
    return timer


class ClaimOutcomeView(QFrame):
    """One claim outcome. ``open_requested(url)`` asks the owner to open the reward URL."""

    open_requested = Signal(str)

    def __init__(self, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.setObjectName("claimOutcome")
        self.kind: ClaimKind | None = None
        self.reward_url: str | None = None  # as received; the field shows it through the renderer
        self.presentation: ClaimPresentation | None = None
        self.revealed = False  # the URL is shown in clear after a click on Reveal (presenter mode)
        self.reveal_timer = reveal_timer(self, self.hide_url)
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 14)
        column.setSpacing(8)
        self.title = QLabel(self)
        self.title.setObjectName("claimTitle")
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.message = QLabel(self)
        self.message.setObjectName("claimMessage")
        self.detail = QLabel(self)
        self.detail.setObjectName("claimDetail")
        for label in (self.title, self.message, self.detail):
            label.setTextFormat(Qt.TextFormat.PlainText)  # server text is never rendered as markup
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.title)
        column.addWidget(self.message)

        self.url_row = QWidget(self)
        url_column = QVBoxLayout(self.url_row)
        url_column.setContentsMargins(0, 0, 0, 0)
        self.url_edit = QLineEdit(self.url_row)
        self.url_edit.setObjectName("rewardUrl")
        self.url_edit.setReadOnly(True)
        self.url_edit.setAccessibleName("Reward URL")
        url_font = QFont("monospace")
        url_font.setStyleHint(QFont.StyleHint.TypeWriter)
        url_font.setPointSizeF(self.font().pointSizeF() * 1.1)
        self.url_edit.setFont(url_font)
        self.url_edit.setMinimumHeight(32)
        url_column.addWidget(self.url_edit)
        row = QHBoxLayout()
        url_column.addLayout(row)
        self.copy_button = QPushButton("Copy", self.url_row)
        self.copy_button.setObjectName("copyRewardUrl")
        self.copy_button.setToolTip("Copy the reward URL to the clipboard (the real one, also in presenter mode)")
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_url)
        row.addWidget(self.copy_button)
        self.reveal_button = QPushButton(f"Reveal for {REVEAL_SECONDS} s", self.url_row)
        self.reveal_button.setObjectName("revealRewardUrl")
        self.reveal_button.setAutoDefault(False)
        self.reveal_button.setToolTip(REVEAL_TIP)
        self.reveal_button.setAccessibleName("Reveal the reward URL")
        self.reveal_button.setAccessibleDescription(REVEAL_TIP)
        self.reveal_button.clicked.connect(self.reveal_url)
        self.reveal_button.hide()
        row.addWidget(self.reveal_button)
        self.open_button = QPushButton("Open redemption page", self.url_row)
        self.open_button.setObjectName("openRewardUrl")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(lambda: self.reward_url and self.open_requested.emit(self.reward_url))
        row.addWidget(self.open_button)
        row.addStretch(1)
        column.addWidget(self.url_row)
        column.addWidget(self.detail)

    def show_presentation(self, p: ClaimPresentation) -> None:
        self.kind = p.kind
        width = 3 if p.kind in (ClaimKind.UNKNOWN, ClaimKind.SUCCESS) else 1

        def style(palette: ThemePalette, kind: ClaimKind = p.kind) -> str:
            background, border, title_colour = kind_colours(kind, palette)
            return (f"QFrame#claimOutcome {{ background: {background}; border: {width}px solid {border};"
                    f" border-radius: 8px; }}"
                    f" QLabel#claimTitle {{ color: {title_colour}; }}")

        styled(self, style)
        # An error's words may quote an endpoint or a proxy: through the renderer (masked in presenter mode).
        self.title.setText(self.renderer.text(p.title))
        self.message.setText(self.renderer.text(p.message))
        follow_text(self.message)  # the API's own words may be right-to-left
        if p.kind is ClaimKind.DECLINED:
            font = QFont(self.message.font())
            font.setPointSizeF(self.font().pointSizeF() * 1.15)
            self.message.setFont(font)
        else:
            self.message.setFont(self.font())
        self.detail.setText(self.renderer.text(p.detail))
        self.detail.setVisible(bool(p.detail))
        self.url_row.setVisible(p.reward_url is not None)
        self.reward_url = p.reward_url
        self.presentation = p
        self.reveal_timer.stop()
        self.revealed = False
        self._show_url()
        self.copy_button.setText("Copy")
        web = p.reward_url is not None and is_web_url(p.reward_url)
        self.open_button.setEnabled(web)
        self.open_button.setToolTip("Opens the reward URL in your browser" if web
                                    else "Not a web address, so it is not opened")

    def _show_url(self) -> None:
        """The URL through the renderer (masked in presenter mode), or in clear while revealed."""
        shown = self.renderer.revealed_url(self.reward_url) if self.revealed else self.renderer.url(self.reward_url)
        self.url_edit.setText(shown)
        self.url_edit.setToolTip(shown)
        self.url_edit.setCursorPosition(0)
        masked = self.renderer.masked and self.reward_url is not None
        self.reveal_button.setVisible(masked)
        self.reveal_button.setEnabled(masked and not self.revealed)
        self.reveal_button.setText(f"Shown for {REVEAL_SECONDS} s" if self.revealed else f"Reveal for {REVEAL_SECONDS} s")

    def rerender(self) -> None:
        """Presenter mode on or off: the URL again through the renderer (a reveal ends)."""
        self.reveal_timer.stop()
        self.revealed = False
        self._show_url()

    def reveal_url(self) -> None:
        """A deliberate click: the URL in clear for REVEAL_SECONDS, then masked again."""
        if self.reward_url is None or not self.renderer.masked:
            return
        self.revealed = True
        self._show_url()
        self.reveal_timer.start()

    def hide_url(self) -> None:
        self.reveal_timer.stop()
        self.revealed = False
        self._show_url()

    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.reward_url or "")
        self.copy_button.setText("Copied")

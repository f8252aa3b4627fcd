"""The confirmation in front of every billed getReward: nothing is sent unless the user confirms here.

Shows exactly what will be sent and to whom (the Session's ClaimPlan, rendered through the one
renderer), whether the profile declares the campaign live, what a claim costs, and what the last
preview of the same parameters said. Cancel is the default button, so Enter, Escape and closing the
window all cancel; a live profile also makes the user type the campaign ID before the confirm button
is enabled (the rule is the Session's ``confirmation_ok``). There is deliberately no "don't ask again".
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.core.errors import EmptyAnswerError
from moments_desktop.core.render import Renderer
from moments_desktop.core.request import BODY_FIELDS
from moments_desktop.core.session import ClaimPlan, LastPreview, confirmation_ok

from .theme import ThemePalette, styled



def live_banner_style(p: ThemePalette) -> str:
    return (f"QLabel#claimModeBanner {{ background: {p.danger}; color: {p.on_danger}; font-weight: bold;"
            " padding: 10px; border-radius: 6px; }")


def test_banner_style(p: ThemePalette) -> str:
    return (f"QLabel#claimModeBanner {{ background: {p.info_background}; color: {p.info}; font-weight: bold;"
            f" padding: 10px; border: 1px solid {p.mix(p.info, p.info_background, 0.6)}; border-radius: 6px; }}")


def preview_ok_style(p: ThemePalette) -> str:
    return (f"QLabel#lastPreviewNote {{ background: {p.success_background}; color: {p.text}; padding: 8px;"
            f" border: 1px solid {p.mix(p.success, p.success_background, 0.6)}; border-radius: 6px; }}")


def preview_warning_style(p: ThemePalette) -> str:
    return (f"QLabel#lastPreviewNote {{ background: {p.warning_background}; color: {p.text}; padding: 8px;"
            f" border: 1px solid {p.mix(p.warning, p.warning_background, 0.5)}; border-radius: 6px; }}")


def live_value_style(p: ThemePalette) -> str:
    return f"color: {p.danger}; font-weight: bold;"


def live_confirm_style(p: ThemePalette) -> str:
    # Padding and weight in every state, so the size hint (taken while disabled) fits the enabled look.
    return ("QPushButton#claimConfirmButton { font-weight: bold; padding: 6px 14px; border-radius: 4px;"
            f" border: 1px solid {p.mix(p.danger, p.base, 0.6)}; background: {p.mix(p.danger, p.base, 0.85)};"
            f" color: {p.mix(p.danger, p.base, 0.45)}; }}"
            f" QPushButton#claimConfirmButton:enabled {{ background: {p.danger}; border-color: {p.hover(p.danger)};"
            f" color: {p.on_danger}; }}"
            f" QPushButton#claimConfirmButton:enabled:hover {{ background: {p.hover(p.danger)}; }}")

DIALOG_WIDTH = 560
MAX_SHOWN_TEXT = 300  # a notification text longer than this is cut in the dialog (the Preview tab has it all)


def describe_cost(summary: ClaimPlan) -> str:
    if summary.cost_per_action is None:
        return "unknown (no cost is set in this profile)"
    return f"{summary.cost_per_action} {summary.currency} per claim (as declared in the profile)"


def describe_mode(summary: ClaimPlan) -> str:
    if summary.unsaved_endpoint:
        return ("LIVE — treated as live: this endpoint is not the profile's saved one, so the profile's "
                "test mode does not speak for it")
    if summary.live:
        return "LIVE — declared by this profile: a real reward is consumed and billed"
    if summary.embedded_sandbox:
        return "Test mode — the built-in sandbox: nothing real is spent"
    return "Test mode — declared by this profile"


def describe_last_preview(last: LastPreview | None) -> tuple[str, bool]:
    """(text, is_warning) for the dialog's last-preview note."""
    if last is None:
        return ("\u26a0 There was no preview of these exact parameters in this session, so you have not seen "
                "the reward or how many are left. Consider pressing “Preview reward” first (it is free)."), True
    when = last.at.strftime("%H:%M:%S")
    since = ""
    if last.claims_since:
        n = last.claims_since
        since = f"\n{n} claim{'s have' if n > 1 else ' has'} been sent since then, so fewer may be left now."
    if isinstance(last.error, EmptyAnswerError):
        return (f"\u26a0 The last preview of these parameters (at {when}) returned no reward ("
                f"{last.error.title.lower()}: {last.error.detail or 'an object with none of them'}). The endpoint "
                "may not be a Moments API; a claim there may be answered the same way, and whether it consumed a "
                f"reward would be unknown.{since}"), True
    if last.reward is None:
        said = getattr(last.error, "notification_text", None) or (last.error.title if last.error else "no reward")
        return (f"\u26a0 The last preview of these parameters (at {when}) returned no reward: {_cut(said)}"
                f"\nA claim will most likely be declined too.{since}"), True
    count = last.reward.remaining_count
    left = "remaining count not reported" if count is None else f"{count} reward{'' if count == 1 else 's'} left"
    text = last.reward.notification_text or "(no announcement text)"
    return f"Last preview of these parameters (at {when}): {left}\n“{_cut(text)}”{since}", bool(count == 0)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_TEXT else text[: MAX_SHOWN_TEXT - 1] + "…"


class _SwallowEnter(QObject):
    """Enter in the typed-confirmation field does nothing: typing the ID is not the same as confirming,
    and letting the key through would press the dialog's default button (Cancel) and lose the typing."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                return True
        return False


class ClaimDialog(QDialog):
    """Emits ``confirmed(typed)`` at most once, when the user presses the confirm button; then closes
    (accepted). ``typed`` is what the user typed for a live claim (None for test mode): the Session
    checks it again before sending.

    Every other way out (Cancel, Escape, Enter, closing the window) rejects and emits nothing.
    """

    confirmed = Signal(object)

    def __init__(self, plan: ClaimPlan, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = summary = plan
        self.renderer = renderer
        self._confirmed = False
        self.setObjectName("claimDialog")
        self.setWindowTitle("Claim a reward — billed")
        self.setModal(True)
        self.setMinimumWidth(DIALOG_WIDTH)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)

        self.mode_banner = QLabel(self)
        self.mode_banner.setObjectName("claimModeBanner")
        self.mode_banner.setWordWrap(True)
        if summary.live:
            self.mode_banner.setText("LIVE CAMPAIGN — this claims a real reward. It is consumed and billed, "
                                     "and it cannot be undone.")
            styled(self.mode_banner, live_banner_style)
        else:
            self.mode_banner.setText("TEST MODE — " + ("the built-in sandbox; nothing real is spent."
                                                      if summary.embedded_sandbox
                                                      else "as declared by this profile."))
            styled(self.mode_banner, test_banner_style)
        layout.addWidget(self.mode_banner)

        billed = "" if summary.embedded_sandbox else ", is billed per action,"
        intro = QLabel(f"One getReward request will be sent with these values. It claims one reward{billed} "
                       "and is never retried.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        details = QFrame(self)
        details.setObjectName("claimDetails")
        form = QFormLayout(details)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, QLabel] = {}
        rows = [("profile", "Profile", ""), ("endpoint", "Endpoint", ""),
                *((name, name, "") for name in BODY_FIELDS),
                ("mode", "Campaign", describe_mode(summary)),
                ("cost", "Cost per claim", describe_cost(summary))]
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        for key, label_text, value in rows:
            value_label = QLabel(value, details)
            value_label.setObjectName(f"claim_{key}")
            value_label.setTextFormat(Qt.TextFormat.PlainText)  # user and server text, never markup
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value_label.setWordWrap(True)
            if key in BODY_FIELDS or key == "endpoint":
                value_label.setFont(mono)
            if key == "mode" and summary.live:
                styled(value_label, live_value_style)
            self.values[key] = value_label
            form.addRow(label_text + ":", value_label)
        layout.addWidget(details)

        note, warning = describe_last_preview(summary.last_preview)
        self.preview_note = QLabel(note, self)
        self.preview_note.setObjectName("lastPreviewNote")
        self.preview_note.setTextFormat(Qt.TextFormat.PlainText)
        self.preview_note.setWordWrap(True)
        styled(self.preview_note, preview_warning_style if warning else preview_ok_style)
        self.preview_is_warning = warning
        layout.addWidget(self.preview_note)

        self.typed_edit: QLineEdit | None = None
        self.typed_prompt: QLabel | None = None
        if summary.needs_typed_confirmation:
            self.typed_prompt = ask = QLabel(self)
            ask.setObjectName("typeCampaignPrompt")
            ask.setTextFormat(Qt.TextFormat.PlainText)
            ask.setWordWrap(True)
            layout.addWidget(ask)
            self.typed_edit = QLineEdit(self)
            self.typed_edit.setObjectName("typedCampaignId")
            self.typed_edit.setPlaceholderText("type the campaign ID here")
            self.typed_edit.setAccessibleName("Type the campaign ID to confirm")
            self.typed_edit.setFont(mono)
            self._enter_filter = _SwallowEnter(self)
            self.typed_edit.installEventFilter(self._enter_filter)
            self.typed_edit.textChanged.connect(self._update_confirm)
            ask.setBuddy(self.typed_edit)
            layout.addWidget(self.typed_edit)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("claimCancelButton")
        self.cancel_button.setToolTip("Send nothing and close (Enter and Escape do the same)")
        # Cancel is the default: Enter anywhere in the dialog (outside the typed field) cancels.
        self.cancel_button.setAutoDefault(True)
        self.cancel_button.setDefault(True)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button = QPushButton("Claim one LIVE reward" if summary.live else "Claim one reward", self)
        self.confirm_button.setObjectName("claimConfirmButton")
        # Never default, never auto-default: only a click (or Space on the focused button) confirms.
        self.confirm_button.setAutoDefault(False)
        self.confirm_button.setDefault(False)
        self.confirm_button.setToolTip("Sends one getReward request now. Billed per action.")
        if summary.live:
            styled(self.confirm_button, live_confirm_style)
        self.confirm_button.clicked.connect(self._confirm)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)

        self.rerender()
        self._update_confirm()
        (self.typed_edit or self.cancel_button).setFocus()
        # The size hint assumes the narrowest width, which leaves the wrapped labels padded with blank
        # lines at the real width; size the dialog for the width it opens with instead.
        self.resize(DIALOG_WIDTH, layout.heightForWidth(DIALOG_WIDTH))

    def rerender(self, *_args) -> None:
        """The identifiers through the renderer: masked in presenter mode, in clear otherwise (called again
        when presenter mode changes while the dialog is open)."""
        renderer, plan = self.renderer, self.summary
        shown = {"profile": renderer.profile_name(plan.profile_name), "endpoint": renderer.url(plan.claim_url),
                 **dict(renderer.fields(plan.fields))}
        for key, text in shown.items():
            self.values[key].setText(text)
        if self.typed_prompt is not None:
            campaign = renderer.identifier(plan.typed_confirmation)
            masked = " (masked in presenter mode: type it from your records)" if renderer.masked else ""
            self.typed_prompt.setText(f"To confirm, type the campaign ID exactly: {campaign}{masked}")
        if self.typed_edit is not None:
            # What is typed is the campaign ID itself: not drawn in presenter mode.
            self.typed_edit.setEchoMode(QLineEdit.EchoMode.Password if renderer.masked else QLineEdit.EchoMode.Normal)

    def typed(self) -> str | None:
        return self.typed_edit.text() if self.typed_edit is not None else None

    def confirm_allowed(self) -> bool:
        return not self._confirmed and confirmation_ok(self.summary, self.typed())

    def _update_confirm(self, *_args) -> None:
        self.confirm_button.setEnabled(self.confirm_allowed())

    def _confirm(self) -> None:
        if not self.confirm_allowed():
            return
        self._confirmed = True  # a second click on the way out must not send a second claim
        self.confirm_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.confirmed.emit(self.typed())
        self.accept()

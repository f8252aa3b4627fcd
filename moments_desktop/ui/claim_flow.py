"""The claim action of the main window: button → confirmation dialog → one getReward → outcome.

Kept out of main_window.py so the window only creates the button and this object. Safeguards
against a second request, from the outside in: the button is disabled while the dialog is open
and until the outcome is known; the dialog emits ``confirmed`` at most once; the controller
refuses a claim while anything is in flight; Operations refuses a concurrent claim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton, QWidget

from moments_desktop.core.errors import MomentsError

from .claim_dialog import ClaimDialog
from .controller import ClaimSummary

if TYPE_CHECKING:
    from .main_window import MainWindow

CLAIM_BUTTON_STYLE = """
QPushButton#claimButton { background: #c2410c; color: white; font-weight: bold; border: 1px solid #9a3412;
                          border-radius: 4px; padding: 4px 14px; }
QPushButton#claimButton:hover { background: #9a3412; }
QPushButton#claimButton:disabled { background: #e7d3c8; color: #8a7568; border-color: #d8bfb0; }
"""


def make_claim_button(parent: QWidget) -> QPushButton:
    button = QPushButton("Claim reward…", parent)
    button.setObjectName("claimButton")
    button.setToolTip("Billed: claims one reward with getReward, after a confirmation. Never retried.")
    button.setAutoDefault(False)  # Enter in the window previews (free); it never opens the claim
    button.setMinimumHeight(32)
    button.setStyleSheet(CLAIM_BUTTON_STYLE)
    return button


class ClaimFlow(QObject):
    def __init__(self, window: MainWindow, button: QPushButton):
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.button = button
        self.dialog: ClaimDialog | None = None
        button.clicked.connect(self.request_claim)
        window.form.validity_changed.connect(self.update_button)
        self.controller.busy_changed.connect(self.update_button)
        self.controller.claim_started.connect(window.preview_panel.show_claim_busy)
        self.controller.claim_started.connect(lambda: window.tabs.setCurrentWidget(window.preview_panel))
        self.controller.claim_finished.connect(self._show_result)
        self.controller.claim_failed.connect(self._show_failure)
        self.update_button()

    def update_button(self, *_args) -> None:
        self.button.setEnabled(self.window.form.is_valid() and not self.controller.busy and self.dialog is None)

    # --- overridable (tests drive the dialog object directly) --------------------------------

    def make_claim_dialog(self, summary: ClaimSummary) -> ClaimDialog:
        return ClaimDialog(summary, self.window)

    # --- flow ----------------------------------------------------------------------------

    def request_claim(self) -> None:
        """Open the confirmation (window-modal, not exec(): the event loop keeps running). Sends nothing."""
        w = self.window
        profile_id = w.current_profile_id()
        if profile_id is None or not w.form.is_valid() or self.controller.busy or self.dialog is not None:
            return
        try:
            summary = self.controller.claim_summary(profile_id, w.form.base_url(), w.form.fields())
        except MomentsError as exc:
            w.show_error(exc)
            return
        dialog = self.make_claim_dialog(summary)
        self.dialog = dialog
        dialog.confirmed.connect(lambda: self.controller.claim(summary.profile_id, summary.base_url, summary.fields))
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.update_button()
        dialog.open()

    def _dialog_closed(self, dialog: ClaimDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self.update_button()

    def _show_result(self, result) -> None:
        self.window.raw_view.show_exchange(result.call.exchange)
        self.window.preview_panel.show_claim_result(result)

    def _show_failure(self, error: MomentsError, may_have_been_sent: bool) -> None:
        self.window.raw_view.show_note(
            "GetReward: " + ("outcome unknown" if may_have_been_sent else "not sent"),
            f"No exchange to show: the claim stopped before {'its answer' if may_have_been_sent else 'sending'}.\n\n"
            f"{error.message}")
        self.window.preview_panel.show_claim_failed(error, may_have_been_sent)

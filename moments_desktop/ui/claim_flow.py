"""The claim action of the main window: button → confirmation dialog → one getReward → outcome.

Kept out of main_window.py so the window only creates the button and this object, handing it the
parts it works with (no reference to the window). Safeguards against a second request, from the
outside in: the button is disabled while the dialog is open and until the outcome is known; the
dialog emits ``confirmed`` at most once; the bridge refuses a claim while anything is in flight;
the Session refuses an unconfirmed or concurrent claim.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton, QWidget

from moments_desktop.core.errors import MomentsError
from moments_desktop.core.session import ClaimPlan

from .bridge import SessionBridge
from .claim_dialog import ClaimDialog
from .preview_panel import PreviewPanel
from .raw_view import RawView
from .request_form import RequestForm
from .theme import ThemePalette, styled



def claim_button_style(p: ThemePalette) -> str:
    return f"""
QPushButton#claimButton {{ background: {p.billed}; color: {p.on_billed}; font-weight: bold;
                          border: 1px solid {p.hover(p.billed)}; border-radius: 4px; padding: 4px 14px; }}
QPushButton#claimButton:hover {{ background: {p.hover(p.billed)}; }}
QPushButton#claimButton:focus {{ border: 2px solid {p.accent}; }}
QPushButton#claimButton:disabled {{ background: {p.mix(p.billed, p.window, 0.78)}; color: {p.mix(p.billed, p.window, 0.4)};
                                   border-color: {p.mix(p.billed, p.window, 0.65)}; }}
"""


def make_claim_button(parent: QWidget) -> QPushButton:
    button = QPushButton("Claim reward…", parent)
    button.setObjectName("claimButton")
    button.setToolTip("Billed: claims one reward with getReward, after a confirmation. Never retried.")
    button.setAutoDefault(False)  # Enter in the window previews (free); it never opens the claim
    button.setMinimumHeight(32)
    styled(button, claim_button_style)
    return button


class ClaimFlow(QObject):
    def __init__(self, bridge: SessionBridge, button: QPushButton, form: RequestForm, preview_panel: PreviewPanel,
                 raw_view: RawView, *, current_profile_id: Callable[[], str | None],
                 show_error: Callable[[MomentsError | str], None], on_started: Callable[[], None], parent: QWidget):
        super().__init__(parent)
        self.bridge = bridge
        self.button = button
        self.form = form
        self.preview_panel = preview_panel
        self.raw_view = raw_view
        self.current_profile_id = current_profile_id
        self.show_error = show_error
        self.dialog_parent = parent
        self.dialog: ClaimDialog | None = None
        button.clicked.connect(self.request_claim)
        form.validity_changed.connect(self.update_button)
        bridge.busy_changed.connect(self.update_button)
        bridge.claim_started.connect(preview_panel.show_claim_busy)
        bridge.claim_started.connect(on_started)
        bridge.claim_finished.connect(self._show_result)
        bridge.claim_failed.connect(self._show_failure)
        self.update_button()

    def update_button(self, *_args) -> None:
        self.button.setEnabled(self.form.is_valid() and not self.bridge.busy and self.dialog is None)

    # --- overridable (tests drive the dialog object directly) --------------------------------

    def make_claim_dialog(self, plan: ClaimPlan) -> ClaimDialog:
        return ClaimDialog(plan, self.bridge.renderer, self.dialog_parent)

    # --- flow ----------------------------------------------------------------------------

    def request_claim(self) -> None:
        """Open the confirmation (window-modal, not exec(): the event loop keeps running). Sends nothing."""
        profile_id = self.current_profile_id()
        if profile_id is None or not self.form.is_valid() or self.bridge.busy or self.dialog is not None:
            return
        try:
            plan = self.bridge.plan_claim(profile_id, self.form.base_url(), self.form.fields())
        except MomentsError as exc:
            self.show_error(exc)
            return
        dialog = self.make_claim_dialog(plan)
        self.dialog = dialog
        self.bridge.presenter_changed.connect(dialog.rerender)  # until it is deleted
        dialog.confirmed.connect(lambda typed: self.bridge.claim(plan, typed))
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.update_button()
        dialog.open()

    def _dialog_closed(self, dialog: ClaimDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self.update_button()

    def _show_result(self, result) -> None:
        self.raw_view.show_exchange(result.call.exchange)
        self.preview_panel.show_claim_result(result)

    def _show_failure(self, error: MomentsError, may_have_been_sent: bool) -> None:
        self.raw_view.show_note(
            "GetReward: " + ("outcome unknown" if may_have_been_sent else "not sent"),
            f"No exchange to show: the claim stopped before {'its answer' if may_have_been_sent else 'sending'}.\n\n"
            f"{error.message}")
        self.preview_panel.show_claim_failed(error, may_have_been_sent)

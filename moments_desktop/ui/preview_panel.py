"""The reward as a customer would see it, or one clear message when there is no reward.

After a claim it also shows how the claim ended (claim_result.py); on success the customer card's
"Redeem now" opens the reward URL.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.core.errors import ApiError, BusinessError, MomentsError, NoRewardError
from moments_desktop.core.operations import ClaimResult
from moments_desktop.core.render import Renderer
from moments_desktop.core.reward import RewardInfo

from .claim_result import ClaimKind, ClaimOutcomeView, is_web_url, present_failure, present_result
from .text_direction import follow_text
from .theme import ThemePalette, styled

IMAGE_WIDTH, IMAGE_HEIGHT = 380, 214
REDEEM_INERT_TIP = "Previews are free and give no reward URL; claim a reward to make this button work."


def card_style(p: ThemePalette) -> str:
    return f"""
QFrame#rewardCard {{ background: {p.base}; border: 1px solid {p.border}; border-radius: 12px; }}
QFrame#errorPanel {{ background: {p.danger_background}; border: 1px solid {p.mix(p.danger, p.danger_background, 0.6)};
                    border-radius: 8px; }}
QLabel#rewardImage, QLabel#rewardEnd {{ color: {p.muted_text}; }}
QPushButton#redeemButton:enabled {{ background: {p.redeem}; border: 1px solid {p.mix(p.redeem, p.on_redeem, 0.2)};
                                   border-radius: 6px; font-weight: bold; color: {p.on_redeem}; }}
QPushButton#redeemButton:enabled:hover {{ background: {p.redeem_hover}; }}
"""


class PreviewPanel(QStackedWidget):
    def __init__(self, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self._error: MomentsError | None = None  # the error shown, drawn again when presenter mode changes
        styled(self, card_style)
        # How URLs reach the desktop; tests replace it with a recorder.
        self.url_opener = QDesktopServices.openUrl
        self.claimed_url: str | None = None

        self.empty_page = QLabel("Choose a profile and press “Preview reward” (Ctrl+Return).", self)
        self.empty_page.setObjectName("emptyPage")
        self.empty_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_page.setWordWrap(True)
        self.empty_page.setEnabled(False)
        self.addWidget(self.empty_page)

        self.busy_page = QLabel("Asking the endpoint for the reward…", self)
        self.busy_page.setObjectName("busyPage")
        self.busy_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.busy_page.setWordWrap(True)
        self.busy_page.setContentsMargins(40, 0, 40, 0)
        self.addWidget(self.busy_page)

        # --- the reward card -------------------------------------------------------
        holder = QWidget(self)
        outer = QVBoxLayout(holder)
        outer.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        # Above the card after a successful claim: the reward URL with Copy and Open.
        self.claim_banner = ClaimOutcomeView(renderer, holder)
        self.claim_banner.open_requested.connect(self.open_url)
        self.claim_banner.hide()
        self.claim_banner.setMaximumWidth(640)
        outer.addWidget(self.claim_banner)
        self.card = QFrame(holder)
        self.card.setObjectName("rewardCard")
        self.card.setFixedWidth(440)
        self.card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        card = QVBoxLayout(self.card)
        card.setContentsMargins(24, 24, 24, 24)
        card.setSpacing(12)
        self.image_label = QLabel(self.card)
        self.image_label.setObjectName("rewardImage")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setFixedSize(IMAGE_WIDTH, IMAGE_HEIGHT)
        self.image_label.setWordWrap(True)
        card.addWidget(self.image_label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.text_label = QLabel(self.card)
        self.text_label.setObjectName("rewardText")
        self.text_label.setWordWrap(True)
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.text_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.text_label.setFont(font)
        card.addWidget(self.text_label)
        self.count_label = QLabel(self.card)
        self.count_label.setObjectName("rewardCount")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        card.addWidget(self.count_label)
        self.end_label = QLabel(self.card)
        self.end_label.setObjectName("rewardEnd")
        self.end_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        card.addWidget(self.end_label)
        self.redeem_button = QPushButton("Redeem now", self.card)
        self.redeem_button.setObjectName("redeemButton")
        self.redeem_button.setEnabled(False)
        self.redeem_button.setToolTip(REDEEM_INERT_TIP)
        self.redeem_button.setMinimumHeight(36)
        self.redeem_button.clicked.connect(lambda: self.claimed_url and self.open_url(self.claimed_url))
        card.addWidget(self.redeem_button)
        outer.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
        # Scrolls rather than squeezes: banner + card need ~650 px, more than a small window has.
        scroll = QScrollArea(self)
        scroll.setObjectName("cardScroll")
        scroll.setAccessibleName("Reward preview")
        scroll.setAccessibleDescription("The reward as a customer would see it")
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.card_page = scroll
        self.addWidget(scroll)

        # --- the error panel -------------------------------------------------------
        holder = QWidget(self)
        outer = QVBoxLayout(holder)
        outer.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.error_panel = QFrame(holder)
        self.error_panel.setObjectName("errorPanel")
        column = QVBoxLayout(self.error_panel)
        column.setContentsMargins(16, 16, 16, 16)
        self.error_title = QLabel(self.error_panel)
        self.error_title.setObjectName("errorTitle")
        self.error_title.setWordWrap(True)
        title_font = QFont(self.error_title.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.2)
        self.error_title.setFont(title_font)
        self.error_advice = QLabel(self.error_panel)
        self.error_advice.setObjectName("errorAdvice")
        self.error_advice.setWordWrap(True)
        self.error_detail = QLabel(self.error_panel)
        self.error_detail.setObjectName("errorDetail")
        self.error_detail.setWordWrap(True)
        self.error_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (self.error_title, self.error_advice, self.error_detail):
            label.setTextFormat(Qt.TextFormat.PlainText)
            column.addWidget(label)
        outer.addWidget(self.error_panel)
        self.error_page = holder
        self.addWidget(holder)

        # --- a claim that produced no reward URL ------------------------------------
        holder = QWidget(self)
        outer = QVBoxLayout(holder)
        outer.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.claim_outcome = ClaimOutcomeView(renderer, holder)
        self.claim_outcome.open_requested.connect(self.open_url)
        outer.addWidget(self.claim_outcome)
        self.claim_page = holder
        self.addWidget(holder)

    # --- rendering -------------------------------------------------------------------

    def show_busy(self) -> None:
        self.busy_page.setText("Asking the endpoint for the reward…")
        self.setCurrentWidget(self.busy_page)

    def show_reward(self, reward: RewardInfo) -> None:
        """A preview's reward: the customer's card, with an inert "Redeem now" (a preview has no URL)."""
        self.claim_banner.hide()
        self.claimed_url = None
        self.redeem_button.setEnabled(False)
        self.redeem_button.setToolTip(REDEEM_INERT_TIP)
        self._fill_card(reward)

    def _fill_card(self, reward: RewardInfo) -> None:
        self.text_label.setText(reward.notification_text or "(The reward has no announcement text.)")
        follow_text(self.text_label)  # an Arabic announcement reads from the right
        count = reward.remaining_count
        if count is None:
            self.count_label.setText("Remaining rewards not reported")
        else:
            self.count_label.setText(f"{count} reward{'' if count == 1 else 's'} left")
        end = reward.campaign_end_text
        self.end_label.setText(f"Campaign ends {end}" if end else "No campaign end date given")
        self.image_label.setPixmap(QPixmap())
        self.image_label.setText("Loading image…")
        self.setCurrentWidget(self.card_page)

    def show_image(self, image: QImage) -> None:
        """The image fitted to the card (aspect kept), in device pixels: sharp on a HiDPI screen. It arrives
        decoded at most at screen size (ui/image_loader.py), so scaling it here is quick; the QImage is scaled
        before it becomes a pixmap, so only the card-sized copy is converted (on the UI thread)."""
        ratio = self.image_label.devicePixelRatioF()
        box = QSize(round(IMAGE_WIDTH * ratio), round(IMAGE_HEIGHT * ratio))
        fitted = image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        pixmap = QPixmap.fromImage(fitted)
        pixmap.setDevicePixelRatio(ratio)
        self.image_label.setPixmap(pixmap)

    def show_image_failed(self, reason: str) -> None:
        self.image_label.setPixmap(QPixmap())
        self.image_label.setText(f"No image\n\n{reason}")

    def show_error(self, error: MomentsError) -> None:
        self._error = error  # drawn again when presenter mode changes
        # An error's words may quote the endpoint's host or a proxy: through the renderer, as identifiers are.
        text = self.renderer.text
        self.error_title.setText(text(error.title))
        self.error_advice.setText(text(error.advice or ""))
        self.error_advice.setVisible(bool(error.advice))
        detail = ""
        if isinstance(error, (BusinessError, NoRewardError)):
            api_text = error.notification_text or error.detail
            detail = f"The API said: {api_text}" if api_text else ""
        elif error.detail:
            detail = error.detail
        if isinstance(error, ApiError) and error.status is not None:
            detail = f"{detail}\nHTTP status {error.status}".strip()
        self.error_detail.setText(text(detail))
        self.error_detail.setVisible(bool(detail))
        self.setCurrentWidget(self.error_page)

    # --- claims ---------------------------------------------------------------------

    def show_claim_busy(self) -> None:
        self.busy_page.setText("Claiming one reward… waiting for the answer.\n\n"
                               "A claim cannot be cancelled: once sent, stopping it would only leave its outcome "
                               "unknown. It ends with the answer or the timeout.")
        self.setCurrentWidget(self.busy_page)

    def show_claim_result(self, result: ClaimResult) -> None:
        presentation = present_result(result)
        if presentation.kind is ClaimKind.SUCCESS:
            self.claim_banner.show_presentation(presentation)
            self.claim_banner.show()
            self.claimed_url = presentation.reward_url
            live = is_web_url(presentation.reward_url or "")
            self.redeem_button.setEnabled(live)
            self.redeem_button.setToolTip("Opens the reward URL, as the customer would" if live
                                          else "The reward URL is not a web address, so it is not opened")
            self._fill_card(result.call.reward)
        else:
            self._show_claim_outcome(presentation)

    def show_claim_failed(self, error: MomentsError, may_have_been_sent: bool) -> None:
        self._show_claim_outcome(present_failure(error, may_have_been_sent))

    def _show_claim_outcome(self, presentation) -> None:
        self.claim_outcome.show_presentation(presentation)
        self.claimed_url = None
        self.redeem_button.setEnabled(False)
        self.redeem_button.setToolTip(REDEEM_INERT_TIP)
        self.setCurrentWidget(self.claim_page)

    def rerender(self) -> None:
        """Presenter mode on or off: what shows a reward URL is rendered again (masked or in clear)."""
        self.claim_banner.rerender()
        self.claim_outcome.rerender()
        if self.currentWidget() is self.error_page and self._error is not None:
            self.show_error(self._error)

    def open_url(self, url: str) -> None:
        if is_web_url(url):
            self.url_opener(QUrl(url))

    def show_cancelled(self) -> None:
        self._error = None
        self.error_title.setText("Preview cancelled")
        self.error_advice.setText("Nothing was spent: a preview never claims a reward. Press “Preview reward” to try again.")
        self.error_advice.show()
        self.error_detail.hide()
        self.setCurrentWidget(self.error_page)

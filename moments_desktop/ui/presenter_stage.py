"""Presenter mode's customer stage: what a customer sees, large and clean, for a shared screen.

A tab "Stage", first and current while presenter mode is on (removed when it ends: ``show_stage_tab``). It shows
the latest preview as the customer would get it: the phone notification, the email and the in-app message side
by side (the frames of ui/customer_frames.py, the Message tab's own), and under them the reward's announcement,
its redemption message and "Redeem now", in larger type. What fills the frames is the Session's decision
(core/stage.py: the profile's own Braze templates rendered for the reward, or defaults from the reward).

- "Redeem now" starts the window's normal claim flow (ClaimFlow: its explicit confirmation dialog); the stage
  never claims by itself. It is offered only for an available reward, while the form still holds the values
  that were previewed (a claim must be for what the stage shows).
- After a claim the outcome is shown with the claim result view (claim_result.py): the reward URL through the
  renderer, so masked in presenter mode; the redemption message is the claim's own text.
- "Reset sandbox for the next demo" resets the built-in sandbox's inventory (its ledger is kept) through
  the bridge; it is disabled, with a tooltip saying why, for a profile that is not on the built-in sandbox.

Nothing identifier-like is drawn here except through ``bridge.renderer`` (the claim result's URL); errors show
their title and advice only (a detail may carry an endpoint), and the frames' app name and sender are generic.
The stage keeps its state while hidden and draws it when shown (rendering a profile's templates is not paid
for previews made with presenter mode off).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QImage
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.core.errors import BusinessError, MomentsError, NoRewardError, UnexpectedError
from moments_desktop.core.message_templates import Channel
from moments_desktop.core.reward import RewardInfo
from moments_desktop.core.stage import StageContent

from . import theme
from .bridge import SessionBridge
from .claim_result import (
    ClaimKind,
    ClaimOutcomeView,
    ClaimPresentation,
    is_web_url,
    present_failure,
    present_result,
)
from .customer_frames import EmailFrame, InAppFrame, MessageFrame, PushFrame

STAGE_TAB_TEXT = "Stage"
# The stage's type, relative to the window's: readable from the back of a meeting room.
STAGE_FONT_SCALE = 1.35
EMPTY_TEXT = "Press Preview to show what a customer sees."
BUSY_TEXT = "Asking for the reward…"
CANCELLED_TEXT = "The preview was cancelled. Press Preview to show what a customer sees."
RESET_DONE_TEXT = "The sandbox was reset for the next demo. Press Preview to show what a customer sees."
UNAVAILABLE_HEADING = "No reward for this customer right now"
REDEMPTION_PENDING = "The redemption message appears here once the reward is redeemed."
CLAIM_BUSY_TEXT = "Redeeming… waiting for the answer."
IMAGE_LOADING = "Loading image…"
RESET_BUTTON_TEXT = "Reset sandbox for the next demo"
RESET_TIP = ("Restores the built-in sandbox's inventory, counters and rate limits for the next demo. "
             "The ledger of claims is kept.")
REDEEM_TIP = "Claims this reward, after the usual confirmation (Claim reward…). Nothing is sent without it."
STALE_TIP = "The form changed since this preview: press Preview again to redeem what the stage shows."
FRAME_CAPTIONS = {Channel.PUSH: "Phone notification", Channel.EMAIL: "Email", Channel.IN_APP: "In-app message"}


def show_stage_tab(tabs: QTabWidget, stage: PresenterStage, on: bool) -> None:
    """Presenter mode on: the stage is the first tab, and the current one. Off: it is removed (kept, with its
    state, for the next time)."""
    index = tabs.indexOf(stage)
    if on:
        if index < 0:
            tabs.insertTab(0, stage, STAGE_TAB_TEXT)
        tabs.setCurrentWidget(stage)
    elif index >= 0:
        tabs.removeTab(index)
        stage.hide()


class PresenterStage(QWidget):
    """The stage. ``claim_flow`` is the window's ClaimFlow (its ``request_claim`` opens the confirmation, its
    ``button`` tells whether a claim may be asked for now); ``current_request()`` gives (profile id, endpoint,
    fields) as the form holds them."""

    def __init__(self, bridge: SessionBridge, claim_flow: Any, *,
                 current_request: Callable[[], tuple[str | None, str, dict[str, str]]],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("presenterStage")
        self.bridge = bridge
        self.renderer = bridge.renderer
        self.claim_flow = claim_flow
        self.current_request = current_request
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * STAGE_FONT_SCALE)
        self.setFont(font)  # before the children: their own fonts (bold, scaled) start from this one

        # What the stage shows, kept while hidden and drawn by _refresh.
        self._page = "empty"  # empty | busy | content | unavailable | error
        self._empty_text = EMPTY_TEXT
        self._previewed: tuple[str | None, str, dict[str, str]] | None = None  # the request at Preview
        self._preview_profile: str | None = None
        self._reward: RewardInfo | None = None
        self._content: StageContent | None = None
        self._content_for: RewardInfo | None = None
        self._error: MomentsError | None = None
        self._unavailable_text = ""
        self._image: QImage | str | None = None  # the reward image, or why there is none
        self._images: dict[str, QImage | str] = {}  # other images the templates show, by URL
        self._claiming = False
        self._claim_tracked = False  # the claim in flight is of what the stage shows
        self.redeeming = False  # "Redeem now" asked for the claim whose confirmation is open
        self._claim: ClaimPresentation | None = None
        self._claim_drawn: ClaimPresentation | None = None  # what the claim view shows now
        self._redemption = ""
        self._redeemed = False
        self._reset_note = ""
        self._reset_failed = False
        self._dirty = True

        column = QVBoxLayout(self)
        column.setContentsMargins(16, 12, 16, 12)
        column.setSpacing(12)
        header = QHBoxLayout()
        self.title_label = QLabel("What the customer sees", self)
        self.title_label.setObjectName("stageTitle")
        title_font = QFont(self.title_label.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.2)
        self.title_label.setFont(title_font)
        header.addWidget(self.title_label)
        header.addStretch(1)
        self.reset_status = QLabel(self)
        self.reset_status.setObjectName("stageResetStatus")
        self.reset_status.setTextFormat(Qt.TextFormat.PlainText)
        self.reset_status.setWordWrap(True)
        self.reset_status.setMaximumWidth(520)
        header.addWidget(self.reset_status, 0, Qt.AlignmentFlag.AlignVCenter)
        self.reset_button = QPushButton(RESET_BUTTON_TEXT, self)
        self.reset_button.setObjectName("resetSandboxButton")
        self.reset_button.setAutoDefault(False)
        self.reset_button.setAccessibleName(RESET_BUTTON_TEXT)
        self.reset_button.setAccessibleDescription(RESET_TIP)
        self.reset_button.clicked.connect(self.reset_sandbox)
        header.addWidget(self.reset_button)
        column.addLayout(header)

        self.pages = QStackedWidget(self)
        self.pages.setObjectName("stagePages")
        column.addWidget(self.pages, 1)

        self.message_page = QLabel(self.pages)  # empty, busy
        self.message_page.setObjectName("stageMessage")
        self.message_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_page.setWordWrap(True)
        message_font = QFont(self.message_page.font())
        message_font.setPointSizeF(message_font.pointSizeF() * 1.3)
        self.message_page.setFont(message_font)
        self.pages.addWidget(self.message_page)

        # No reward now, or an error: a title and the words to act on, large.
        self.notice_page = QWidget(self.pages)
        notice = QVBoxLayout(self.notice_page)
        notice.addStretch(1)
        self.notice_panel = QFrame(self.notice_page)
        self.notice_panel.setObjectName("stageNotice")
        self.notice_panel.setMaximumWidth(900)
        panel = QVBoxLayout(self.notice_panel)
        panel.setContentsMargins(32, 28, 32, 28)
        panel.setSpacing(12)
        self.notice_title = self._label("stageNoticeTitle", scale=1.4, bold=True, parent=self.notice_panel)
        self.notice_text = self._label("stageNoticeText", scale=1.15, parent=self.notice_panel)
        self.notice_hint = self._label("stageNoticeHint", parent=self.notice_panel)
        for label in (self.notice_title, self.notice_text, self.notice_hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            panel.addWidget(label)
        centred = QHBoxLayout()  # stretches on both sides, not an alignment: wrapped labels keep their width
        centred.addStretch(1)
        centred.addWidget(self.notice_panel, 6)
        centred.addStretch(1)
        notice.addLayout(centred)
        notice.addStretch(2)
        self.pages.addWidget(self.notice_page)

        # The reward: three frames side by side, then announcement, redemption message and Redeem now.
        holder = QWidget(self.pages)
        holder.setObjectName("stageContent")
        content = QVBoxLayout(holder)
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(16)
        row = QHBoxLayout()
        row.setSpacing(16)
        self.push_frame = PushFrame(holder)
        self.email_frame = EmailFrame(holder)
        self.in_app_frame = InAppFrame(holder)
        self.frames: dict[Channel, MessageFrame] = {
            Channel.PUSH: self.push_frame, Channel.EMAIL: self.email_frame, Channel.IN_APP: self.in_app_frame}
        self.captions: dict[Channel, QLabel] = {}
        for channel, frame in self.frames.items():
            frame.scale_type(STAGE_FONT_SCALE)
            cell = QVBoxLayout()
            cell.setSpacing(6)
            caption = self._label(f"stageCaption_{channel.value}", bold=True, parent=holder)
            caption.setText(FRAME_CAPTIONS[channel])
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.captions[channel] = caption
            cell.addWidget(caption)
            cell.addWidget(frame)
            cell.addStretch(1)
            row.addLayout(cell, 1)
        content.addLayout(row)

        self.redeem_panel = QFrame(holder)
        self.redeem_panel.setObjectName("stageRedeemPanel")
        redeem = QVBoxLayout(self.redeem_panel)
        redeem.setContentsMargins(28, 20, 28, 20)
        redeem.setSpacing(10)
        self.announcement_label = self._label("stageAnnouncement", scale=1.4, bold=True, parent=self.redeem_panel)
        self.announcement_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.redemption_label = self._label("stageRedemption", scale=1.1, parent=self.redeem_panel)
        self.redemption_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.redeem_button = QPushButton("Redeem now", self.redeem_panel)
        self.redeem_button.setObjectName("stageRedeemButton")
        self.redeem_button.setAutoDefault(False)  # Enter previews (free); it never opens the claim
        self.redeem_button.setMinimumHeight(52)
        self.redeem_button.setMinimumWidth(260)
        self.redeem_button.setAccessibleName("Redeem now")
        self.redeem_button.setAccessibleDescription(REDEEM_TIP)
        button_font = QFont(self.redeem_button.font())
        button_font.setBold(True)
        button_font.setPointSizeF(button_font.pointSizeF() * 1.25)
        self.redeem_button.setFont(button_font)
        self.redeem_button.clicked.connect(self.redeem)
        self.claim_status = self._label("stageClaimStatus", parent=self.redeem_panel)
        self.claim_status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.claim_view = ClaimOutcomeView(self.renderer, self.redeem_panel)
        self.claim_view.setFont(QFont(self.font()))  # set, not inherited: its style sheet would drop the stage's size
        self.claim_view.open_requested.connect(self._open_url)
        redeem.addWidget(self.announcement_label)
        redeem.addWidget(self.redemption_label)
        redeem.addWidget(self.redeem_button, 0, Qt.AlignmentFlag.AlignHCenter)
        redeem.addWidget(self.claim_status)
        redeem.addWidget(self.claim_view)
        content.addWidget(self.redeem_panel)
        content.addStretch(1)
        scroll = QScrollArea(self.pages)
        scroll.setObjectName("stageScroll")
        scroll.setAccessibleName("Customer stage")
        scroll.setAccessibleDescription("What the customer sees: the notification, the email and the in-app message")
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.content_page = scroll
        self.pages.addWidget(scroll)

        self._restyle(theme.current().palette)
        theme.current().changed.connect(self._restyle)
        claim_flow.button.installEventFilter(self)  # its enabled state is whether a claim may be asked for
        bridge.preview_started.connect(self._preview_started)
        bridge.preview_finished.connect(self._preview_finished)
        bridge.preview_failed.connect(self._preview_failed)
        bridge.preview_cancelled.connect(self._preview_cancelled)
        bridge.image_loaded.connect(self._image_loaded)
        bridge.image_failed.connect(self._image_failed)
        bridge.message_image_loaded.connect(self._template_image_loaded)
        bridge.claim_started.connect(self._claim_started)
        bridge.claim_finished.connect(self._claim_finished)
        bridge.claim_failed.connect(self._claim_failed)
        bridge.busy_changed.connect(self._update_buttons)
        bridge.sweep_running_changed.connect(self._update_buttons)
        bridge.presenter_changed.connect(self._presenter_changed)
        bridge.sandbox_reset_started.connect(self._reset_started)
        bridge.sandbox_reset_finished.connect(self._reset_finished)
        # How the reward URL reaches the desktop (a deliberate click on "Open redemption page"); tests record it.
        self.url_opener: Callable[[QUrl], Any] = QDesktopServices.openUrl
        self._refresh()

    # --- helpers ------------------------------------------------------------------------

    def _label(self, name: str, *, scale: float = 1.0, bold: bool = False, parent: QWidget) -> QLabel:
        label = QLabel(parent)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)  # the API's and the templates' texts are never markup
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if scale != 1.0 or bold:
            font = QFont(label.font())
            font.setBold(bold)
            font.setPointSizeF(font.pointSizeF() * scale)
            label.setFont(font)
        return label

    def _restyle(self, palette: theme.ThemePalette) -> None:
        self.setStyleSheet(
            f"QWidget#presenterStage {{ background: {palette.window}; }}"
            f" QLabel#stageMessage, QLabel#stageNoticeHint, QLabel#stageRedemption[pending=\"true\"]"
            f" {{ color: {palette.muted_text}; }}"
            f" QFrame#stageNotice {{ background: {palette.base}; border: 1px solid {palette.border};"
            f" border-radius: 14px; }}"
            f" QFrame#stageNotice[kind=\"error\"] {{ background: {palette.danger_background};"
            f" border-color: {palette.danger}; }}"
            f" QFrame#stageRedeemPanel {{ background: {palette.base}; border: 1px solid {palette.border};"
            f" border-radius: 14px; }}"
            f" QPushButton#stageRedeemButton {{ background: {palette.redeem}; color: {palette.on_redeem};"
            f" border: 1px solid {palette.redeem_hover}; border-radius: 10px; padding: 8px 28px; }}"
            f" QPushButton#stageRedeemButton:hover {{ background: {palette.redeem_hover}; }}"
            f" QPushButton#stageRedeemButton:disabled {{ background: {palette.alternate_base};"
            f" color: {palette.muted_text}; border-color: {palette.border}; }}"
            f" QLabel#stageResetStatus {{ color: {palette.success}; }}"
            f" QLabel#stageResetStatus[failed=\"true\"] {{ color: {palette.danger}; }}")

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.claim_flow.button and event.type() == QEvent.Type.EnabledChange:
            self._update_buttons()
        return False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self._refresh()
        self._update_buttons()

    def _changed(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._refresh()
        else:
            self._update_buttons()

    # --- what the bridge reports -----------------------------------------------------------

    def _preview_started(self) -> None:
        self._previewed = self._request()
        self._preview_profile = self._previewed[0]
        self._reward = self._content = self._content_for = self._error = None
        self._image, self._images = None, {}
        self._claim, self._claiming, self._redemption, self._redeemed = None, False, "", False
        self._claim_tracked = False
        self._page = "busy"
        self._changed()

    def _preview_finished(self, result: Any) -> None:
        if result.ok:
            self._reward = result.reward
            self._image = IMAGE_LOADING if result.reward.image_url else None
            self._page = "content"
        elif isinstance(result.error, (NoRewardError, BusinessError)):
            self._show_unavailable(result.error)
        else:
            self._error, self._page = result.error or UnexpectedError(), "error"
        self._changed()

    def _show_unavailable(self, error: MomentsError) -> None:
        if isinstance(error, BusinessError) and error.notification_text:
            self._unavailable_text = error.notification_text  # the API's own words, verbatim
        else:
            self._unavailable_text = "The service has no reward for these parameters."
        self._page = "unavailable"

    def _preview_failed(self, error: MomentsError) -> None:
        self._error, self._page = error, "error"
        self._changed()

    def _preview_cancelled(self) -> None:
        self._page, self._empty_text = "empty", CANCELLED_TEXT
        self._changed()

    def _image_loaded(self, image: QImage) -> None:
        if self._reward is not None:
            self._image = image
            self._changed()

    def _image_failed(self, reason: str) -> None:
        if self._reward is not None:
            self._image = reason if self._reward.image_url else None
            self._changed()

    def _template_image_loaded(self, url: str, result: Any) -> None:
        if url in self._images:
            self._images[url] = result
            self._changed()

    def _claim_started(self) -> None:
        # Only a claim of what the stage shows (Redeem now, or Claim reward… with the same values) is its own.
        self._claim_tracked = self._page == "content" and self._previewed == self._request()
        if not self._claim_tracked:
            return
        self._claiming, self._claim = True, None
        self._changed()

    def _claim_finished(self, result: Any) -> None:
        if not self._claim_tracked:
            return
        presentation = present_result(result)
        self._claiming, self._claim = False, presentation
        if presentation.kind is ClaimKind.SUCCESS:
            self._redeemed = True
            reward = result.call.reward
            self._redemption = (reward.notification_text if reward is not None else "") or ""
        self._changed()

    def _claim_failed(self, error: MomentsError, may_have_been_sent: bool) -> None:
        if not self._claim_tracked:
            return
        self._claiming, self._claim = False, present_failure(error, may_have_been_sent)
        self._changed()

    def _presenter_changed(self, _on: bool) -> None:
        self._dirty = True
        self._claim_drawn = None  # the claim result's URL is drawn again, through the renderer as it is now
        if self.isVisible():
            self._refresh()

    def request_changed(self, *_args: Any) -> None:
        """The form or the profile changed: whether Redeem and Reset may be used now."""
        self._update_buttons()

    # --- the sandbox reset --------------------------------------------------------------------

    def reset_sandbox(self) -> None:
        profile_id, base_url, _fields = self._request()
        if self.bridge.sandbox_reset_blocker(profile_id, base_url) is not None:
            self._update_buttons()
            return
        self.bridge.reset_sandbox_for_demo(profile_id, base_url)

    def _reset_started(self) -> None:
        self._reset_note, self._reset_failed = "Resetting the sandbox…", False
        self._show_reset_note()

    def _reset_finished(self, result: Any) -> None:
        if isinstance(result, MomentsError):
            self._reset_note, self._reset_failed = result.message, True
        else:
            self._reset_note, self._reset_failed = (
                f"Reset at {result.at.strftime('%H:%M:%S')}: inventory restored, ledger kept.", False)
            # The previews of the sandbox were forgotten by the Session: the stage's is stale too.
            self._page, self._empty_text = "empty", RESET_DONE_TEXT
            self._reward = self._content = self._content_for = None
            self._claim, self._claiming, self._redeemed, self._redemption = None, False, False, ""
        self._show_reset_note()
        self._changed()

    def _show_reset_note(self) -> None:
        self.reset_status.setText(self._reset_note)
        self.reset_status.setProperty("failed", self._reset_failed)
        self._repolish(self.reset_status)

    # --- drawing ------------------------------------------------------------------------------

    def _request(self) -> tuple[str | None, str, dict[str, str]]:
        profile_id, base_url, fields = self.current_request()
        return profile_id, base_url, dict(fields)

    def _refresh(self) -> None:
        self._dirty = False
        if self._page in ("empty", "busy"):
            self.message_page.setText(self._empty_text if self._page == "empty" else BUSY_TEXT)
            self.pages.setCurrentWidget(self.message_page)
        elif self._page == "error":
            error = self._error or UnexpectedError()
            # Title and advice only: a detail can name an endpoint or an identifier.
            text = self.bridge.renderer.text  # a title can name the endpoint's host (a certificate, a proxy)
            self._show_notice("error", text(error.title), text(error.advice or ""),
                              "Nothing was claimed. Fix it, then press Preview again.")
        elif self._page == "unavailable":
            self._show_notice("unavailable", UNAVAILABLE_HEADING, self._unavailable_text,
                              "Nothing can be redeemed now. Press Preview again once the campaign has rewards.")
        else:
            self._show_content()
        self._update_buttons()

    def _show_notice(self, kind: str, title: str, text: str, hint: str) -> None:
        self.notice_panel.setProperty("kind", kind)
        self._repolish(self.notice_panel)
        self.notice_title.setText(title)
        self.notice_text.setText(text)
        self.notice_text.setVisible(bool(text))
        self.notice_hint.setText(hint)
        self.pages.setCurrentWidget(self.notice_page)

    def _show_content(self) -> None:
        reward = self._reward
        assert reward is not None
        if self._content_for is not reward:
            self._content = self.bridge.stage_content(self._preview_profile, reward)
            self._content_for = reward
            for url in self._content.image_urls:
                if url != reward.image_url and url not in self._images and self._preview_profile is not None:
                    self._images[url] = IMAGE_LOADING
                    self.bridge.load_message_image(url, self._preview_profile)
        content = self._content
        assert content is not None
        if not content.available:
            self._show_notice("unavailable", UNAVAILABLE_HEADING, content.announcement,
                              "Nothing can be redeemed now. Press Preview again once the campaign has rewards.")
            return
        self._fill_frames(content)
        self.announcement_label.setText(content.announcement)
        pending = not self._redemption
        self.redemption_label.setText(self._redemption or REDEMPTION_PENDING)
        self.redemption_label.setProperty("pending", pending)
        self._repolish(self.redemption_label)
        self.claim_status.setText(CLAIM_BUSY_TEXT if self._claiming else "")
        self.claim_status.setVisible(self._claiming)
        if self._claim is not None:
            if self._claim_drawn is not self._claim:  # drawn once (a redraw would end a deliberate reveal)
                self.claim_view.show_presentation(self._claim)  # the URL through the renderer: masked if presenting
                self._claim_drawn = self._claim
            if self.claim_view.isHidden():
                self.claim_view.show()
                # Into sight once the layout has placed it (it sits under the frames).
                QTimer.singleShot(0, self, self._scroll_to_claim)
        else:
            self.claim_view.hide()
        self.pages.setCurrentWidget(self.content_page)

    def _scroll_to_claim(self) -> None:
        self.content_page.ensureWidgetVisible(self.claim_view)

    def _image_for(self, url: str) -> QImage | str | None:
        url = url.strip()
        if not url:
            return None
        if self._reward is not None and url == self._reward.image_url:
            return self._image
        found = self._images.get(url)
        return found if found is not None else IMAGE_LOADING

    def _fill_frames(self, content: StageContent) -> None:
        push = content.frame(Channel.PUSH)
        if push is not None:
            if push.aborted is not None:
                self.push_frame.show_not_sent(push.aborted)
            else:
                self.push_frame.show_message(push.field("title"), push.field("body"),
                                             self._image_for(push.field("image_url")))
        email = content.frame(Channel.EMAIL)
        if email is not None:
            if email.aborted is not None:
                self.email_frame.show_not_sent(email.aborted)
            else:
                images = {url: image for url in content.image_urls
                          if isinstance(image := self._image_for(url), QImage)}
                self.email_frame.show_message(email.field("subject"), email.field("html"), images)
        in_app = content.frame(Channel.IN_APP)
        if in_app is not None:
            if in_app.aborted is not None:
                self.in_app_frame.show_not_sent(in_app.aborted)
            else:
                self.in_app_frame.show_message(in_app.field("header"), in_app.field("body"),
                                               in_app.field("button"), self._image_for(in_app.field("image_url")))

    # --- Redeem now: the window's claim flow -----------------------------------------------

    def redeem_blocker(self) -> str | None:
        """Why Redeem now cannot be pressed now (for its tooltip), or None."""
        if self._page != "content" or self._content is None or not self._content.available:
            return "There is no reward to redeem: press Preview first."
        if self._redeemed:
            return "Redeemed. Press Preview to show the next customer."
        if self._claiming or self.bridge.busy:
            return "Wait for the call in flight to end."
        if self._previewed != self._request():
            return STALE_TIP
        if not self.claim_flow.button.isEnabled():
            return "A claim cannot be asked for now (the form is not complete, or a confirmation is open)."
        return None

    def redeem(self) -> None:
        """Open the normal claim confirmation (ClaimFlow); nothing is sent unless it is confirmed there."""
        if self.redeem_blocker() is not None:
            self._update_buttons()
            return
        self.redeeming = True  # the window keeps the stage in sight when this claim starts
        self.claim_flow.request_claim()
        dialog = self.claim_flow.dialog
        if dialog is None:  # refused (the flow's own checks): nothing is asked
            self.redeeming = False
        else:  # confirmed() (and so the claim's start) comes before the dialog closes
            dialog.finished.connect(self._redeem_asked)

    def _redeem_asked(self, *_args: Any) -> None:
        self.redeeming = False

    def _update_buttons(self, *_args: Any) -> None:
        blocker = self.redeem_blocker()
        self.redeem_button.setEnabled(blocker is None)
        self.redeem_button.setText("Redeemed" if self._redeemed else "Redeem now")
        self.redeem_button.setToolTip(REDEEM_TIP if blocker is None else blocker)
        profile_id, base_url, _fields = self._request()
        reset_blocker = self.bridge.sandbox_reset_blocker(profile_id, base_url)
        self.reset_button.setEnabled(reset_blocker is None)
        self.reset_button.setToolTip(RESET_TIP if reset_blocker is None else reset_blocker.message)

    def _open_url(self, url: str) -> None:
        if is_web_url(url):  # a server could send file: or other schemes
            self.url_opener(QUrl(url))


__all__ = ["PresenterStage", "STAGE_TAB_TEXT", "show_stage_tab"]

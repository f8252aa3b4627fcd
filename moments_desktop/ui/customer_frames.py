"""What a customer would see: a phone notification, an email and an in-app message card.

Built once for the Message tab's preview and for presenter mode (Step 13): each frame takes plain values
(strings and an optional QImage), never the Session, and knows three states: empty (nothing to show yet),
not sent (Braze's ``abort_message``: the customer gets nothing) and the message itself.

Images arrive already downloaded and decoded (the bridge's image loading, with its deadline and off-thread
decode); a frame never fetches anything. The email body is rich text shown by a QTextBrowser that loads
no resource but the images it was handed and follows no link, so a template's HTML cannot reach the
network or the disk.

Colours: only palette roles, in FRAME_STYLE below (the one place for them until the theme module exists).
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPalette, QPixmap, QResizeEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .text_direction import follow_text

# The one place for the frames' look: palette roles only, so a light or dark theme carries over.
FRAME_STYLE = """
QFrame#phoneFrame, QFrame#emailFrame, QFrame#inAppFrame {
    background: palette(base); color: palette(text);
    border: 1px solid palette(mid); border-radius: 14px; }
QFrame#phoneFrame { border: 2px solid palette(dark); border-radius: 22px; }
QFrame#pushCard { background: palette(alternate-base); border: 1px solid palette(midlight); border-radius: 12px; }
QLabel#pushAppIcon { background: palette(highlight); color: palette(highlighted-text); border-radius: 5px;
                     font-weight: bold; }
QFrame#emailHeader { border: none; border-bottom: 1px solid palette(midlight); border-radius: 0; }
QTextBrowser#emailBody { border: none; background: palette(base); }
QLabel#frameNotice { color: palette(placeholder-text); }
QFrame#notSentPanel { background: palette(alternate-base); border: 2px dashed palette(mid); border-radius: 10px; }
QPushButton#inAppButton { background: palette(highlight); color: palette(highlighted-text); border: none;
                          border-radius: 6px; padding: 6px 12px; font-weight: bold; }
"""

EMPTY_TEXT = "Nothing to show yet."
NOT_SENT_PREFIX = "This message is not sent"
EMPTY_FIELD = "(empty)"  # a field that rendered to nothing is shown, not hidden: the customer would see a gap
PHONE_WIDTH_HINT = 280
IMAGE_PLACEHOLDER_HEIGHT = 72
MAX_EMAIL_BODY_HEIGHT = 560  # a longer body scrolls inside its frame


def not_sent_text(reason: str) -> str:
    reason = reason.strip()
    return f"{NOT_SENT_PREFIX}: {reason}" if reason else f"{NOT_SENT_PREFIX}."


def _muted(label: QLabel) -> None:
    label.setObjectName("frameNotice")


def _plain_label(parent: QWidget, name: str, *, bold: bool = False, scale: float = 1.0) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # rendered template text is shown, never interpreted
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if bold or scale != 1.0:
        font = QFont(label.font())
        font.setBold(bold)
        if scale != 1.0:
            font.setPointSizeF(font.pointSizeF() * scale)
        label.setFont(font)
    return label


def _set_field(label: QLabel, text: str) -> None:
    """The rendered text, or a visible mark that it rendered empty."""
    label.setText(text if text.strip() else EMPTY_FIELD)
    follow_text(label)  # a right-to-left text reads from the right
    label.setProperty("renderedEmpty", not text.strip())
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText if not text.strip() else QPalette.ColorRole.Text)


class ImageSlot(QWidget):
    """Where a message's image goes: the image drawn at the slot's width with its aspect ratio kept (a
    3000×600 banner becomes a strip, never wider than the image itself), a line saying why there is none
    (loading, failed), or nothing at all when the message has no image.

    It paints itself and sets its own height from its width: layouts do not always honour
    height-for-width (a top-level frame, a scroll area's widget), and the width never depends on the
    height, so this settles. The scaled pixmap is kept per size: a repaint does not rescale."""

    def __init__(self, parent: QWidget | None = None, name: str = "messageImage"):
        super().__init__(parent)
        self.setObjectName(name)
        self._image = QImage()
        self._note = ""
        self._scaled: QPixmap | None = None
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.hide()

    # --- what it shows ------------------------------------------------------------------

    def set_image(self, image: QImage | str | None) -> None:
        """A QImage to draw, a str to say why there is none, None for a message without an image."""
        self._scaled = None
        if image is None or (isinstance(image, QImage) and image.isNull()):
            self._image, self._note = QImage(), ""
            self.setAccessibleName("")
            self.hide()
            return
        if isinstance(image, QImage):
            self._image, self._note = QImage(image), ""
            self.setAccessibleName("Message image")
        else:
            self._image, self._note = QImage(), image
            self.setAccessibleName(f"No image: {image}")
        self.show()
        self._fit_height()
        self.update()

    def image(self) -> QImage:
        return self._image

    def has_image(self) -> bool:
        return not self._image.isNull()

    def note(self) -> str:
        """Why there is no image (empty when one is drawn, or when the message has none)."""
        return self._note

    def drawn_size(self, width: int | None = None) -> QSize:
        """The size the image is drawn at for ``width`` (the slot's own by default)."""
        if self._image.isNull():
            return QSize(0, 0)
        width = self.width() if width is None else width
        width = max(1, min(width, self._image.width()))
        return QSize(width, max(1, round(width * self._image.height() / self._image.width())))

    # --- size ---------------------------------------------------------------------------

    def _fit_height(self) -> None:
        height = self.heightForWidth(self.width())
        if self.minimumHeight() != height or self.maximumHeight() != height:
            self.setFixedHeight(height)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        if self.has_image():
            return self.drawn_size(width).height()
        if not self._note:
            return 0
        lines = self.fontMetrics().boundingRect(0, 0, max(1, width - 16), 10_000,
                                                int(Qt.TextFlag.TextWordWrap), self._note).height()
        return max(IMAGE_PLACEHOLDER_HEIGHT, lines + 16)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(PHONE_WIDTH_HINT, self.heightForWidth(self.width() if self.width() > 0 else PHONE_WIDTH_HINT))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(0, 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        self._scaled = None
        super().resizeEvent(event)
        self._fit_height()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        try:
            if self.has_image():
                size = self.drawn_size()
                if self._scaled is None or self._scaled.size() != size:
                    self._scaled = QPixmap.fromImage(self._image.scaled(
                        size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation))
                painter.drawPixmap((self.width() - size.width()) // 2, 0, self._scaled)
            elif self._note:
                palette = QPalette(self.palette())
                box = self.rect().adjusted(0, 0, -1, -1)
                painter.setPen(QPen(QColor(palette.color(QPalette.ColorRole.Mid)), 1, Qt.PenStyle.DashLine))
                painter.setBrush(QColor(palette.color(QPalette.ColorRole.AlternateBase)))
                painter.drawRoundedRect(box, 6, 6)
                painter.setPen(QColor(palette.color(QPalette.ColorRole.PlaceholderText)))
                painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                                 int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self._note)
        finally:
            painter.end()


class MessageFrame(QFrame):
    """A frame with three pages: empty, not sent, the message (built by the subclass in ``content``)."""

    frame_name = "messageFrame"
    channel_title = "Message"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(self.frame_name)
        self.setStyleSheet(FRAME_STYLE)
        self.setAccessibleName(f"{self.channel_title} preview")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)  # never squeezed
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        # The pages share one box layout and only the one in sight is shown: a stacked widget would size
        # (and height-for-width) to its largest page, making an empty frame as tall as a full email.
        self.pages = QWidget(self)
        self.pages.setObjectName("framePages")
        pages = QVBoxLayout(self.pages)
        pages.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        outer.addStretch(1)  # a frame taller than its message (a row's taller neighbour) keeps it at the top

        self.empty_label = QLabel(EMPTY_TEXT, self)
        _muted(self.empty_label)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setMinimumHeight(80)
        pages.addWidget(self.empty_label)

        self.not_sent_panel = QFrame(self)
        self.not_sent_panel.setObjectName("notSentPanel")
        not_sent = QVBoxLayout(self.not_sent_panel)
        not_sent.setContentsMargins(12, 16, 12, 16)
        self.not_sent_label = _plain_label(self.not_sent_panel, "notSentLabel", bold=True)
        self.not_sent_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        not_sent.addWidget(self.not_sent_label)
        note = QLabel("Braze stops this message for this customer (abort_message): nothing reaches them.",
                      self.not_sent_panel)
        _muted(note)
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        not_sent.addWidget(note)
        pages.addWidget(self.not_sent_panel)

        self.content = QWidget(self)
        self.content.setObjectName("frameContent")
        pages.addWidget(self.content)
        self._page: QWidget = self.empty_label
        self.show_empty()

    def scale_type(self, scale: float) -> None:
        """Draw every text of the frame ``scale`` times its size (presenter mode's stage). Each widget's font
        is set itself: the children of a style-sheeted frame do not follow a font set on a parent."""
        widgets = self.findChildren(QWidget)
        fonts = [QFont(widget.font()) for widget in widgets]  # read them all before any changes
        for widget, font in zip(widgets, fonts, strict=True):
            font.setPointSizeF(font.pointSizeF() * scale)
            widget.setFont(font)
        for slot in self.findChildren(ImageSlot):
            slot._fit_height()  # its placeholder's height follows the font
        self.updateGeometry()

    # --- states -----------------------------------------------------------------------

    def state(self) -> str:
        """"empty", "not_sent" or "message"."""
        page = self._page
        return "empty" if page is self.empty_label else "not_sent" if page is self.not_sent_panel else "message"

    def show_empty(self, text: str = EMPTY_TEXT) -> None:
        self.empty_label.setText(text)
        self._show_page(self.empty_label)

    def show_not_sent(self, reason: str) -> None:
        self.not_sent_label.setText(not_sent_text(reason))
        self._show_page(self.not_sent_panel)

    def _show_page(self, page: QWidget) -> None:
        self._page = page
        for other in (self.empty_label, self.not_sent_panel, self.content):
            other.setVisible(other is page)
        self.updateGeometry()

    def visible_text(self) -> str:
        """Every piece of text the frame shows now, for tests and for screen readers' summaries."""
        page = self._page
        parts = [label.text() for label in page.findChildren(QLabel) if label.isVisibleTo(self)]
        if isinstance(page, QLabel):
            parts.insert(0, page.text())
        parts += [button.text() for button in page.findChildren(QPushButton) if button.isVisibleTo(self)]
        parts += [browser.toPlainText() for browser in page.findChildren(QTextBrowser)]
        parts += [slot.note() for slot in page.findChildren(ImageSlot) if slot.isVisibleTo(self)]
        return "\n".join(part for part in parts if part)


class PushFrame(MessageFrame):
    """A phone's lock screen with one notification: app icon and name, title, body, the rich-push image."""

    frame_name = "phoneFrame"
    channel_title = "Push notification"

    def __init__(self, parent: QWidget | None = None, app_name: str = "Your app"):
        super().__init__(parent)
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        self.clock_label = QLabel("9:41", self.content)
        _muted(self.clock_label)
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.clock_label)

        self.card = QFrame(self.content)
        self.card.setObjectName("pushCard")
        card = QVBoxLayout(self.card)
        card.setContentsMargins(10, 8, 10, 10)
        card.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(6)
        self.app_icon = QLabel(self.card)
        self.app_icon.setObjectName("pushAppIcon")
        self.app_icon.setFixedSize(20, 20)
        self.app_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.app_name_label = QLabel(self.card)
        self.app_name_label.setObjectName("pushAppName")
        self.app_name_label.setTextFormat(Qt.TextFormat.PlainText)
        _small = QFont(self.app_name_label.font())
        _small.setPointSizeF(_small.pointSizeF() * 0.9)
        self.app_name_label.setFont(_small)
        self.when_label = QLabel("now", self.card)
        _muted(self.when_label)
        top.addWidget(self.app_icon)
        top.addWidget(self.app_name_label, 1)
        top.addWidget(self.when_label)
        card.addLayout(top)
        self.title_label = _plain_label(self.card, "pushTitle", bold=True)
        self.body_label = _plain_label(self.card, "pushBody")
        card.addWidget(self.title_label)
        card.addWidget(self.body_label)
        self.image = ImageSlot(self.card, "pushImage")
        card.addWidget(self.image)
        column.addWidget(self.card)
        self.set_app_name(app_name)

    def set_app_name(self, name: str) -> None:
        self.app_name_label.setText(name.upper())
        self.app_icon.setText(name.strip()[:1].upper() or "•")

    def show_message(self, title: str, body: str, image: QImage | str | None = None) -> None:
        _set_field(self.title_label, title)
        _set_field(self.body_label, body)
        self.image.set_image(image)
        self._show_page(self.content)

    def set_image(self, image: QImage | str | None) -> None:
        self.image.set_image(image)


def _transparent_pixel() -> QImage:
    image = QImage(1, 1, QImage.Format.Format_ARGB32)
    image.fill(0)
    return image


_NOTHING_IMAGE = _transparent_pixel()


class SafeTextBrowser(QTextBrowser):
    """Rich text that reaches nothing: no link is followed, and the only resources are the images handed
    in (by their address as the HTML writes it); a template's ``<img src="file:…">`` or a stylesheet link
    loads nothing. Images are fitted to the width, aspect kept."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._images: dict[str, QImage] = {}
        self._html = ""
        self._fitted_width = -1
        self._requested_sizes: list[tuple[int, int, str, float, float]] = []
        self.requested: list[str] = []  # every resource the document asked for (images and others)
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self.updateGeometry())

    def set_content(self, html: str, images: Mapping[str, QImage] | None = None) -> None:
        self._images = {url: image for url, image in (images or {}).items() if not image.isNull()}
        self._html = html
        self.requested.clear()
        # The last document's image positions go first: clearing it can resize the viewport (its scroll bar
        # goes), and a resize fits the images it knows, which must not be positions of a document now gone.
        self._requested_sizes = []
        self.document().clear()  # drops the resources the last document cached
        self.setHtml(html)
        self._fit_images(force=True)

    def set_images(self, images: Mapping[str, QImage]) -> None:
        if {k: v.cacheKey() for k, v in images.items()} != {k: v.cacheKey() for k, v in self._images.items()}:
            self.set_content(self._html, images)

    def loadResource(self, kind: int, url: QUrl):  # noqa: N802 - Qt override
        address = url.toString()
        self.requested.append(address)
        if kind in (QTextDocument.ResourceType.ImageResource, QTextDocument.ResourceType.ImageResource.value):
            image = self._images.get(address)
            if image is not None:
                return image
            # Never None: for a null answer QTextDocument reads a local or relative path itself.
            return _NOTHING_IMAGE
        return ""  # no stylesheet, no file, no network

    def _available_width(self) -> int:
        return max(40, self.viewport().width() - int(2 * self.document().documentMargin()) - 2)

    def _image_fragments(self) -> list[tuple[int, int, str, float, float]]:
        """(position, length, address, width, height) of each image as the document holds it now."""
        found = []
        block = self.document().begin()
        while block.isValid():
            for position in block:
                fragment = position.fragment()
                fmt = fragment.charFormat()
                if fmt.isImageFormat():
                    image_format = fmt.toImageFormat()
                    found.append((fragment.position(), fragment.length(), image_format.name(),
                                  image_format.width(), image_format.height()))
            block = block.next()
        return found

    def _fit_images(self, force: bool = False) -> None:
        """Every image at most the frame's width, its height following (a width="600" in the HTML too)."""
        if force:  # the sizes the HTML asked for, before any fitting
            self._requested_sizes = self._image_fragments()
        width = self._available_width()
        if not force and width == self._fitted_width:
            return
        self._fitted_width = width
        doc = self.document()
        for position, length, address, asked_w, asked_h in self._requested_sizes:
            image = self._images.get(address)
            natural_w, natural_h = (image.width(), image.height()) if image is not None else (asked_w, asked_h)
            if natural_w <= 0:
                continue
            wanted_w = asked_w if 0 < asked_w <= natural_w else natural_w
            drawn_w = min(wanted_w, width)
            cursor = QTextCursor(doc)
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            image_format = cursor.charFormat().toImageFormat()
            if not image_format.isValid() or image_format.name() != address:
                continue
            image_format.setWidth(drawn_w)
            if natural_h > 0:
                image_format.setHeight(drawn_w * natural_h / natural_w)
            cursor.setCharFormat(image_format)

    def image_sizes(self) -> list[tuple[str, float, float]]:
        """(address, drawn width, drawn height) of every image in the document (for tests)."""
        return [(address, w, h) for _pos, _len, address, w, h in self._image_fragments()]

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_images()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # As tall as the body (up to a screenful): the preview column scrolls, not each email.
        # (The slack covers the few lines more that the width a vertical scroll bar takes would wrap.)
        height = int(self.document().size().height()) + 2 * self.frameWidth() + 24
        return QSize(PHONE_WIDTH_HINT, max(60, min(height, MAX_EMAIL_BODY_HEIGHT)))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()  # a squeezed body would scroll inside a column that scrolls already


class EmailFrame(MessageFrame):
    """An email as the inbox opens it: subject, sender, the HTML body (images fitted to the width)."""

    frame_name = "emailFrame"
    channel_title = "Email"

    def __init__(self, parent: QWidget | None = None, sender: str = "Your brand <news@example.com>"):
        super().__init__(parent)
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        header = QFrame(self.content)
        header.setObjectName("emailHeader")
        rows = QVBoxLayout(header)
        rows.setContentsMargins(0, 0, 0, 6)
        rows.setSpacing(2)
        self.subject_label = _plain_label(header, "emailSubject", bold=True, scale=1.1)
        self.sender_label = _plain_label(header, "emailSender")
        _muted(self.sender_label)
        rows.addWidget(self.subject_label)
        rows.addWidget(self.sender_label)
        column.addWidget(header)
        self.body = SafeTextBrowser(self.content)
        self.body.setObjectName("emailBody")
        self.body.setAccessibleName("Email body")
        self.body.setAccessibleDescription("The email as the customer would read it, read-only")
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        column.addWidget(self.body)
        self.sender = sender

    def show_message(self, subject: str, html: str, images: Mapping[str, QImage] | None = None,
                     sender: str | None = None) -> None:
        _set_field(self.subject_label, subject)
        self.sender_label.setText(f"From: {sender if sender is not None else self.sender}")
        self.body.set_content(html if html.strip() else f"<p><i>{EMPTY_FIELD}</i></p>", images)
        self._show_page(self.content)

    def set_images(self, images: Mapping[str, QImage]) -> None:
        self.body.set_images(images)


class InAppFrame(MessageFrame):
    """An in-app message card: image, header, body and the button that would open the reward."""

    frame_name = "inAppFrame"
    channel_title = "In-app message"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        self.image = ImageSlot(self.content, "inAppImage")
        column.addWidget(self.image)
        self.header_label = _plain_label(self.content, "inAppHeader", bold=True, scale=1.2)
        self.header_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body_label = _plain_label(self.content, "inAppBody")
        self.body_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.header_label)
        column.addWidget(self.body_label)
        # Shown as the customer sees it; it opens nothing in a preview.
        self.button = QPushButton(self.content)
        self.button.setObjectName("inAppButton")
        self.button.setAccessibleName("In-app message button (inert in the preview)")
        self.button.setToolTip("The preview opens nothing")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.setMinimumHeight(34)
        column.addWidget(self.button)

    def show_message(self, header: str, body: str, button: str, image: QImage | str | None = None) -> None:
        _set_field(self.header_label, header)
        _set_field(self.body_label, body)
        self.button.setText(button if button.strip() else EMPTY_FIELD)
        self.image.set_image(image)
        self._show_page(self.content)

    def set_image(self, image: QImage | str | None) -> None:
        self.image.set_image(image)

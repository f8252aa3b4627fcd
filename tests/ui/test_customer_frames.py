"""The customer frames (push, email, in-app): plain values in, what a customer would see out."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from moments_desktop.ui.customer_frames import EMPTY_FIELD, EmailFrame, InAppFrame, PushFrame

pytestmark = pytest.mark.gui

LANDING = "https://cdn.example.com/landing-3000x600.png"


def landing_image() -> QImage:
    """The partner page's landing/email image size: 3000×600."""
    image = QImage(3000, 600, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 153, 0))
    return image


def shown(qtbot, frame, width: int = 320):
    """The frame in a column, as the Message tab and presenter mode hold it."""
    column = QWidget()
    qtbot.addWidget(column)
    layout = QVBoxLayout(column)
    layout.addWidget(frame)
    layout.addStretch(1)
    frame.setFixedWidth(width)
    column.resize(width + 40, 900)
    column.show()
    qtbot.waitExposed(column)
    frame.test_column = column  # the column lives as long as the frame the test holds
    return frame


def test_push_frame_shows_title_body_and_the_image_at_the_frame_width(qtbot):
    frame = shown(qtbot, PushFrame(app_name="Game Zone"))
    frame.show_message("Well done, Ana!", "A $5 gift card is yours.", landing_image())
    qtbot.waitUntil(lambda: frame.image.width() > 0)
    picture = frame.image
    assert frame.state() == "message"
    assert frame.title_label.text() == "Well done, Ana!"
    assert frame.body_label.text() == "A $5 gift card is yours."
    assert frame.app_name_label.text() == "GAME ZONE"
    drawn = picture.drawn_size()
    assert 0 < drawn.width() <= frame.width()  # scaled down to the frame, not 3000 px wide
    assert drawn.width() == picture.width()
    assert drawn.height() == round(drawn.width() / 5)  # the 5:1 aspect kept
    assert picture.height() == drawn.height()  # the layout gives the image exactly its scaled height
    grabbed = picture.grab().toImage()
    assert grabbed.pixelColor(drawn.width() // 2, drawn.height() // 2).red() == 255  # really painted


def test_push_frame_text_is_shown_as_written_never_as_markup(qtbot):
    frame = shown(qtbot, PushFrame())
    frame.show_message("<b>bold?</b>", "<img src='x'>", None)
    assert frame.title_label.text() == "<b>bold?</b>"
    assert frame.title_label.textFormat().name == "PlainText"
    assert not frame.image.isVisible()  # no image URL: no image area


def test_email_frame_fits_the_3000x600_landing_image_to_its_width(qtbot):
    frame = shown(qtbot, EmailFrame(sender="Game Zone <hello@example.com>"), 360)
    html = f'<h2>Hi Ana</h2><p><img src="{LANDING}" width="600"></p><p>Your reward is waiting.</p>'
    frame.show_message("Your reward", html, {LANDING: landing_image()})
    qtbot.waitUntil(lambda: frame.body.image_sizes() and frame.body.image_sizes()[0][1] > 0)
    [(address, width, height)] = frame.body.image_sizes()
    assert address == LANDING
    assert width <= frame.body.viewport().width()  # not the HTML's 600, nor the image's 3000
    assert width >= frame.body.viewport().width() - 40
    assert height == pytest.approx(width / 5)
    assert frame.subject_label.text() == "Your reward"
    assert frame.sender_label.text() == "From: Game Zone <hello@example.com>"
    assert "Your reward is waiting." in frame.body.toPlainText()

    frame.setFixedWidth(300)  # narrower: the image follows
    qtbot.waitUntil(lambda: frame.body.image_sizes()[0][1] < width)
    [(_, narrower, narrower_height)] = frame.body.image_sizes()
    assert narrower <= frame.body.viewport().width()
    assert narrower_height == pytest.approx(narrower / 5)


def test_email_body_loads_no_local_file_and_no_unknown_address(qtbot, tmp_path):
    secret = tmp_path / "local.png"
    image = QImage(40, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(0, 0, 255))
    assert image.save(str(secret))
    url = QUrl.fromLocalFile(str(secret)).toString()
    html = f'<img src="{url}"><img src="https://tracker.example.com/pixel.gif"><link rel="stylesheet" href="{url}">'

    # A plain QTextBrowser reads the local file on its own: what the frame must not do.
    plain = QTextBrowser()
    qtbot.addWidget(plain)
    plain.setHtml(html)
    assert plain.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(url)) is not None

    frame = shown(qtbot, EmailFrame())
    frame.show_message("Subject", html, {})
    frame.body.grab()  # lays out and paints: every resource the document wants is asked for now
    assert url in frame.body.requested
    for address in (url, "https://tracker.example.com/pixel.gif", str(secret), "local.png"):
        loaded = frame.body.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(address))
        assert loaded is None or loaded.width() <= 1, address  # at most the frame's own transparent pixel


def test_email_links_are_not_followed(qtbot):
    frame = shown(qtbot, EmailFrame())
    frame.show_message("Subject", '<p>Hello <a href="https://example.com/elsewhere">Redeem now</a></p>')
    browser = frame.body
    cursor = browser.document().find("Redeem")
    rect = browser.cursorRect(cursor)
    qtbot.mouseClick(browser.viewport(), qtbot_left(), pos=rect.center())
    assert browser.source().isEmpty()
    assert "Hello Redeem now" in browser.toPlainText()
    assert not browser.openLinks() and not browser.openExternalLinks()


def qtbot_left():
    from PySide6.QtCore import Qt
    return Qt.MouseButton.LeftButton


def test_in_app_card_shows_header_body_button_and_why_the_image_is_missing(qtbot):
    frame = shown(qtbot, InAppFrame())
    frame.show_message("مرحبا آنا", "لقد ربحت مكافأة", "Redeem now", "The image server answered HTTP 404.")
    assert frame.header_label.text() == "مرحبا آنا"
    assert frame.body_label.text() == "لقد ربحت مكافأة"
    assert frame.button.text() == "Redeem now"
    assert frame.image.isVisible()
    assert frame.image.note() == "The image server answered HTTP 404."
    assert frame.image.height() >= 40  # the reason has room
    assert "The image server answered HTTP 404." in frame.visible_text()


@pytest.mark.parametrize("make", [PushFrame, EmailFrame, InAppFrame])
def test_an_aborted_message_says_it_is_not_sent_and_shows_none_of_its_fields(qtbot, make):
    frame = shown(qtbot, make())
    assert frame.state() == "empty"  # before any message
    frame.show_not_sent("no Moments reward")
    assert frame.state() == "not_sent"
    assert frame.not_sent_label.text() == "This message is not sent: no Moments reward"
    assert frame.not_sent_label.isVisible()
    assert not frame.content.isVisible()


def test_a_field_that_rendered_empty_is_shown_as_empty_not_hidden(qtbot):
    frame = shown(qtbot, PushFrame())
    frame.show_message("", "Body", None)
    assert frame.title_label.isVisible()
    assert frame.title_label.text() == EMPTY_FIELD
    frame.show_empty("Press “Preview every outcome”.")
    assert frame.state() == "empty"
    assert frame.empty_label.text() == "Press “Preview every outcome”."

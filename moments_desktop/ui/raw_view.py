"""The Raw tab: the exchange as it went over the wire (the API key is redacted by core), rendered by
the one renderer (core/render.py), the same text as the history's details."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from moments_desktop.core.exchange import Exchange
from moments_desktop.core.render import Renderer, record_of_exchange


class RawView(QWidget):
    def __init__(self, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.exchange: Exchange | None = None  # the one shown, rendered again when presenter mode changes
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.summary = QLabel("No request sent yet.", self)
        self.summary.setObjectName("rawSummary")
        bar.addWidget(self.summary, 1)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("copyRaw")
        self.copy_button.setToolTip("Copy the exchange below (the API key is never in it)")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy)
        bar.addWidget(self.copy_button)
        layout.addLayout(bar)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("rawText")
        self.text.setAccessibleName("Raw exchange")
        self.text.setAccessibleDescription("The last request and answer as sent and received, read-only")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.text)

    def show_exchange(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.text.setPlainText(self.renderer.exchange(record_of_exchange(exchange)))
        status = f"HTTP {exchange.status}" if exchange.status is not None else "no response"
        self.summary.setText(f"{exchange.endpoint.value}: {status}")
        self.copy_button.setEnabled(True)

    def show_note(self, summary: str, text: str) -> None:
        """No exchange to show (e.g. a claim stopped before a request was built): say so, not the old one."""
        self.exchange = None
        self.text.setPlainText(text)
        self.summary.setText(summary)
        self.copy_button.setEnabled(True)

    def rerender(self) -> None:
        """Presenter mode on or off: the exchange shown, through the renderer again."""
        if self.exchange is not None:
            self.text.setPlainText(self.renderer.exchange(record_of_exchange(self.exchange)))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())

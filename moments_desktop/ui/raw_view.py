"""The Raw tab: the exchange as it went over the wire (the API key is redacted by core), rendered by
the one renderer (core/render.py), the same text as the history's details.

Rendered lazily: an answer only records what to show; the text is rendered when the tab is shown (or when
anyone reads ``text``), so a preview's answer reaches the reward card without waiting for a tab nobody looks at.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFontDatabase, QGuiApplication, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from moments_desktop.core.exchange import Exchange
from moments_desktop.core.render import Renderer, record_of_exchange


class RawView(QWidget):
    def __init__(self, renderer: Renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.exchange: Exchange | None = None  # the one shown, rendered again when presenter mode changes
        self._pending: Callable[[], str] | None = None  # the text to render when next shown (or read)
        self.renders = 0  # how many times the text was rendered (tests)
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
        self._text = QPlainTextEdit(self)
        self._text.setObjectName("rawText")
        self._text.setAccessibleName("Raw exchange")
        self._text.setAccessibleDescription("The last request and answer as sent and received, read-only")
        self._text.setReadOnly(True)
        self._text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self._text)

    @property
    def text(self) -> QPlainTextEdit:
        """The text box, with what it is to show rendered first."""
        self._render_pending()
        return self._text

    @property
    def render_pending(self) -> bool:
        """An exchange arrived (or presenter mode changed) and its text is not rendered yet."""
        return self._pending is not None

    def _show_text(self, make: Callable[[], str]) -> None:
        self._pending = make
        if self.isVisible():
            self._render_pending()

    def _render_pending(self) -> None:
        make, self._pending = self._pending, None
        if make is not None:
            self.renders += 1
            self._text.setPlainText(make())

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        self._render_pending()
        super().showEvent(event)

    def show_exchange(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self._show_text(self._render_exchange)
        status = f"HTTP {exchange.status}" if exchange.status is not None else "no response"
        self.summary.setText(f"{exchange.endpoint.value}: {status}")
        self.copy_button.setEnabled(True)

    def show_note(self, summary: str, text: str) -> None:
        """No exchange to show (e.g. a claim stopped before a request was built): say so, not the old one."""
        self.exchange = None
        self._show_text(lambda: text)
        self.summary.setText(summary)
        self.copy_button.setEnabled(True)

    def rerender(self) -> None:
        """Presenter mode on or off: the exchange shown, through the renderer again."""
        if self.exchange is not None:
            self._show_text(self._render_exchange)

    def _render_exchange(self) -> str:
        """The exchange shown, through the renderer as it is set when this runs (masked or in clear)."""
        assert self.exchange is not None
        return self.renderer.exchange(record_of_exchange(self.exchange))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())

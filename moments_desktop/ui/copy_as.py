""""Copy as" cURL, HTTPie, Python, PowerShell or Braze Connected Content: the request form's menu and the
History detail's. The snippets are the Session's (core/exports.py, through the bridge); this module only
asks, copies and says what it copied.

The real API key goes into a snippet only through the separate "with the real API key…" actions, after a
warning; that text is copied through ``SecretClipboard``, which clears the clipboard 30 s later if it
still holds exactly that text, and is never logged or journaled (nothing here writes it anywhere but to
the clipboard). A Braze GetReward tag is copied only after the duplicate-call warning, with its cost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sys

from PySide6.QtCore import QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QPushButton, QStatusBar, QWidget

from moments_desktop.api_schema import Endpoint
from moments_desktop.core import errorlog
from moments_desktop.core.errors import MomentsError
from moments_desktop.core.exports import CACHE_MAX_AGE_MAX_S, CACHE_MAX_AGE_MIN_S, FORMAT_NAMES, Export, ExportFormat

from .bridge import SessionBridge

CLEAR_AFTER_MS = 30_000
STATUS_MS = 10_000
ENDPOINT_LABELS = {Endpoint.GET_REWARD_INFO: "GetRewardInfo (preview, free)",
                   Endpoint.GET_REWARD: "GetReward (claim, billed)"}


def secret_mime_data(text: str) -> QMimeData:
    """The text, marked as a secret for clipboard managers, as password managers mark it (KeePassXC does the
    same): clearing the clipboard after 30 s is worth little if a clipboard history kept a copy."""
    mime = QMimeData()
    mime.setText(text)
    if sys.platform == "darwin":
        mime.setData("application/x-nspasteboard-concealed-type", text.encode("utf-8"))  # nspasteboard.org
    elif sys.platform == "win32":
        # Windows' clipboard history and cloud sync skip content carrying these formats (Qt names a native
        # format this way). Not tested on Windows here.
        mime.setData('application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"', b"1")
        mime.setData('application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"', b"\0\0\0\0")
    else:
        mime.setData("x-kde-passwordManagerHint", b"secret")  # Klipper and the Wayland/X11 managers honour it
    return mime


class SecretClipboard(QObject):
    """Puts text on the clipboard; a secret is taken off again after ``clear_after_ms`` if the clipboard
    still holds exactly it (whatever the user copied since is left alone)."""

    cleared = Signal(bool)  # True when the secret was still there and was cleared

    def __init__(self, parent: QObject | None = None, clear_after_ms: int = CLEAR_AFTER_MS):
        super().__init__(parent)
        self.clear_after_ms = clear_after_ms
        self._secret: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_now)

    @property
    def holds_secret(self) -> bool:
        """A secret was copied and its clearing is still to come."""
        return self._secret is not None

    def copy(self, text: str, *, secret: bool = False) -> None:
        if secret:
            QGuiApplication.clipboard().setMimeData(secret_mime_data(text))
            self._secret = text
            self._timer.start(self.clear_after_ms)
        else:
            QGuiApplication.clipboard().setText(text)
            self._secret = None  # the secret is no longer on the clipboard: this text replaced it
            self._timer.stop()

    def clear_now(self) -> None:
        """Clear the clipboard if it still holds the secret (the timer's end, or the window closing)."""
        self._timer.stop()
        secret, self._secret = self._secret, None
        if secret is None:
            return
        clipboard = QGuiApplication.clipboard()
        still_there = clipboard.text() == secret
        if still_there:
            clipboard.clear()
        del secret
        self.cleared.emit(still_there)


class CopyAsController(QObject):
    """The "Copy as" actions: asks the bridge for an export, warns where it must, copies, reports."""

    def __init__(self, bridge: SessionBridge, window: QWidget, status_bar: QStatusBar, *,
                 current_request: Callable[[], tuple[str | None, str, dict[str, str]]],
                 show_error: Callable[[MomentsError], None], clipboard: SecretClipboard | None = None):
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.status_bar = status_bar
        self._current_request = current_request
        self._show_error = show_error
        self.clipboard = clipboard or SecretClipboard(self)
        # Queued: the slot may open a dialog, which must not open inside the asyncio task that emitted.
        bridge.copy_as_ready.connect(self._export_ready, Qt.ConnectionType.QueuedConnection)

    # --- menus -------------------------------------------------------------------------------

    def make_button(self, parent: QWidget) -> QPushButton:
        button = QPushButton("Copy as", parent)
        button.setObjectName("copyAsButton")
        button.setAutoDefault(False)
        button.setToolTip("Copy the request as cURL, HTTPie, Python, PowerShell or a Braze Connected Content tag "
                          "(the API key as a placeholder)")
        button.setMenu(self.make_menu(button))
        return button

    def make_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.setObjectName("copyAsMenu")
        for endpoint in Endpoint:
            sub = menu.addMenu(ENDPOINT_LABELS[endpoint])
            sub.setObjectName(f"copyAs{endpoint.value}")
            for fmt in ExportFormat:
                action = sub.addAction(FORMAT_NAMES[fmt])
                action.setObjectName(f"copyAs{endpoint.value}_{fmt.value}")
                action.triggered.connect(lambda _=False, e=endpoint, f=fmt: self.copy(e, f))
            if not endpoint.billed:  # a cached GetReward would hand one reward URL to many recipients
                cached = sub.addAction(f"{FORMAT_NAMES[ExportFormat.BRAZE]}, cached\u2026")
                cached.setObjectName(f"copyAs{endpoint.value}_braze_cached")
                cached.setToolTip("Braze caches a POST's answer only when told to (:cache_max_age), "
                                  f"for {CACHE_MAX_AGE_MIN_S // 60} minutes to {CACHE_MAX_AGE_MAX_S // 3600} hours")
                cached.triggered.connect(lambda _=False, e=endpoint: self.copy_cached_braze(e))
            sub.addSeparator()
            real = sub.addMenu("With the real API key")
            real.setObjectName(f"copyAs{endpoint.value}_withKey")
            for fmt in ExportFormat:
                action = real.addAction(f"{FORMAT_NAMES[fmt]} with the real API key\u2026")
                action.setObjectName(f"copyAs{endpoint.value}_{fmt.value}_withKey")
                action.triggered.connect(lambda _=False, e=endpoint, f=fmt: self.copy(e, f, include_key=True))
        return menu

    @staticmethod
    def make_entry_menu(parent: QWidget, copy: Callable[[ExportFormat], None]) -> QMenu:
        """The History detail's menu: the entry's own request, key always a placeholder."""
        menu = QMenu(parent)
        menu.setObjectName("historyCopyAsMenu")
        for fmt in ExportFormat:
            action = menu.addAction(FORMAT_NAMES[fmt])
            action.setObjectName(f"historyCopyAs_{fmt.value}")
            action.triggered.connect(lambda _=False, f=fmt: copy(f))
        return menu

    # --- overridable dialogs (tests replace these instead of driving modal boxes) ----------------

    def confirm_real_key(self, endpoint: Endpoint, fmt: ExportFormat) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "Copy with the real API key",
                          f"Copy {endpoint.value} as {FORMAT_NAMES[fmt]} with the real API key in it?",
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self.window)
        box.setInformativeText(
            "The text will hold the key in clear: anyone who sees it (a chat, a screen share, a commit) can use "
            f"it. The clipboard is cleared after {max(1, round(self.clipboard.clear_after_ms / 1000))} seconds if it "
            "still holds it. Without the key, the snippets read it from MOMENTS_API_KEY.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Ok

    def ask_cache_max_age(self) -> int | None:
        """Seconds Braze may reuse the answer (its own bounds), or None when the user cancels."""
        seconds, ok = QInputDialog.getInt(
            self.window, "Cache the answer in Braze",
            "Braze reuses the GetRewardInfo answer for this many seconds (:cache_max_age):",
            CACHE_MAX_AGE_MIN_S, CACHE_MAX_AGE_MIN_S, CACHE_MAX_AGE_MAX_S, 60)
        return seconds if ok else None

    def confirm_billed_braze(self, export: Export) -> bool:
        return self.billed_braze_box(export).exec() == QMessageBox.StandardButton.Ok

    def billed_braze_box(self, export: Export) -> QMessageBox:
        """The duplicate-call warning before a Braze GetReward tag is copied, with the tag as a screen may
        show it (masked in presenter mode) under "Show Details"."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Braze may claim more than once per recipient",
                          "Copy the GetReward Connected Content tag?",
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self.window)
        box.setInformativeText(export.warnings[0])
        if export.screen_text:  # the tag as a screen may show it: masked in presenter mode
            box.setDetailedText(export.screen_text)
        box.setObjectName("billedBrazeBox")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box

    # --- actions -----------------------------------------------------------------------------

    def copy(self, endpoint: Endpoint, fmt: ExportFormat, *, include_key: bool = False) -> None:
        """Copy the form's request for ``endpoint``; the Session builds it off the UI thread."""
        profile_id, base_url, fields = self._current_request()
        if profile_id is None:
            return
        if include_key and not self.confirm_real_key(endpoint, fmt):
            self.status_bar.showMessage("Nothing was copied.", STATUS_MS)
            return
        self.bridge.start_copy_as((endpoint, fmt, include_key), profile_id, endpoint, fmt, base_url, fields,
                                  include_key=include_key)

    def copy_cached_braze(self, endpoint: Endpoint) -> None:
        """A Braze tag of the free call with :cache_max_age, the seconds asked for first."""
        profile_id, base_url, fields = self._current_request()
        if profile_id is None:
            return
        seconds = self.ask_cache_max_age()
        if seconds is None:
            self.status_bar.showMessage("Nothing was copied.", STATUS_MS)
            return
        self.bridge.start_copy_as((endpoint, ExportFormat.BRAZE, False), profile_id, endpoint, ExportFormat.BRAZE,
                                  base_url, fields, cache_max_age=seconds)

    def copy_entry(self, entry: Any, fmt: ExportFormat) -> None:
        """Copy a History entry's request (the journal holds no key: always the placeholder)."""
        try:
            export = self.bridge.export_entry(entry, fmt)
        except MomentsError as exc:
            self._show_error(exc)
            return
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self._show_error(errorlog.unexpected(exc, "copy a history entry"))
            return
        self.deliver(export)

    def _export_ready(self, _token: object, result: Any) -> None:
        if isinstance(result, MomentsError):
            self._show_error(result)
            return
        self.deliver(result)

    def deliver(self, export: Export) -> None:
        if export.format is ExportFormat.BRAZE and export.endpoint.billed and not self.confirm_billed_braze(export):
            self.status_bar.showMessage("Nothing was copied.", STATUS_MS)
            return
        self.clipboard.copy(export.text, secret=export.contains_key)
        message = f"Copied {export.endpoint.value} as {export.format_name}"
        if export.contains_key:
            message += (" with the real API key; the clipboard is cleared in "
                        f"{max(1, round(self.clipboard.clear_after_ms / 1000))} s")
        elif export.endpoint.billed:
            message += " (each run claims one billed reward)" if export.format is not ExportFormat.BRAZE else ""
        self.status_bar.showMessage(message + ".", STATUS_MS)

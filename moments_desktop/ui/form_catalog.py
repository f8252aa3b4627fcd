"""Keeps the request form's choices in step with its endpoint.

When the endpoint settles (a profile is chosen, or typing pauses), the bridge asks it
for a sandbox catalog off the UI thread; the answer becomes the form's choices. The choices
are dropped the moment the endpoint changes, so one sandbox's ids never show for another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from moments_desktop.core.catalog_choices import SandboxCatalog
from moments_desktop.core.request import validate_base_url

if TYPE_CHECKING:
    from .bridge import SessionBridge
    from .request_form import RequestForm

TYPING_PAUSE_MS = 400


def _normalized(url: str) -> str:
    return url.strip().rstrip("/")


class FormCatalog(QObject):
    def __init__(self, form: RequestForm, bridge: SessionBridge, parent: QObject | None = None):
        super().__init__(parent)
        self.form = form
        self.bridge = bridge
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)
        self._timer.timeout.connect(self.refresh)
        form.editors["base_url"].textChanged.connect(self._endpoint_changed)
        bridge.catalog_loaded.connect(self._loaded)

    def refresh(self) -> None:
        """Ask the form's endpoint for its catalog now (a usable URL only)."""
        self._timer.stop()
        url = _normalized(self.form.base_url())
        if validate_base_url(url, allow_insecure=self.form.allow_insecure) is None:
            self.bridge.load_catalog(url)

    def _endpoint_changed(self, _text: str) -> None:
        self.form.set_catalog(None)
        self._timer.start()

    def _loaded(self, url: str, catalog: SandboxCatalog | None) -> None:
        if url == _normalized(self.form.base_url()):
            self.form.set_catalog(catalog)

"""The main window: profile picker, request form, Preview/Cancel, preview card and Raw tab.

Widgets only render; every action goes through the PreviewController.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from moments_desktop import APP_NAME
from moments_desktop.core.errors import UnexpectedError
from moments_desktop.core.request import BODY_FIELDS

from .controller import PreviewController
from .preview_panel import PreviewPanel
from .raw_view import RawView
from .request_form import RequestForm


class MainWindow(QMainWindow):
    """Top-level window. ``closed`` is emitted once the window has accepted a close."""

    closed = Signal()

    def __init__(self, controller: PreviewController, sandbox_url: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(APP_NAME)
        self.resize(1100, 680)

        # --- left: profile + form + actions --------------------------------------------
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        profile_row = QHBoxLayout()
        profile_label = QLabel("Profile", left)
        self.profile_combo = QComboBox(left)
        self.profile_combo.setObjectName("profileCombo")
        profile_label.setBuddy(self.profile_combo)
        profile_row.addWidget(profile_label)
        profile_row.addWidget(self.profile_combo, 1)
        left_layout.addLayout(profile_row)

        group = QGroupBox("getRewardInfo request", left)
        group_layout = QVBoxLayout(group)
        self.form = RequestForm(group)
        group_layout.addWidget(self.form)
        left_layout.addWidget(group)

        actions = QHBoxLayout()
        self.preview_button = QPushButton("Preview reward", left)
        self.preview_button.setObjectName("previewButton")
        self.preview_button.setToolTip("Free: calls getRewardInfo (Ctrl+Return)")
        self.preview_button.setDefault(True)
        self.preview_button.setMinimumHeight(32)
        self.cancel_button = QPushButton("Cancel", left)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.hide()
        self.progress = QProgressBar(left)
        self.progress.setObjectName("busyIndicator")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.progress.hide()
        actions.addWidget(self.preview_button)
        actions.addWidget(self.cancel_button)
        actions.addStretch(1)
        left_layout.addLayout(actions)
        left_layout.addWidget(self.progress)
        left_layout.addStretch(1)

        # --- right: tabs ---------------------------------------------------------------
        self.tabs = QTabWidget(self)
        self.preview_panel = PreviewPanel(self.tabs)
        self.raw_view = RawView(self.tabs)
        self.tabs.addTab(self.preview_panel, "Preview")
        self.tabs.addTab(self.raw_view, "Raw")

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([440, 660])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        # --- status bar ------------------------------------------------------------------
        self.sandbox_label = QLabel(self)
        self.sandbox_label.setObjectName("sandboxStatus")
        self.sandbox_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.endpoint_label = QLabel(self)
        self.endpoint_label.setObjectName("endpointStatus")
        self.endpoint_label.setContentsMargins(16, 0, 0, 0)
        self.keyring_label = QLabel(f"Keychain: {controller.keyring_name()}", self)
        self.keyring_label.setObjectName("keyringStatus")
        self.statusBar().addWidget(self.sandbox_label)
        self.statusBar().addWidget(self.endpoint_label, 1)
        self.statusBar().addPermanentWidget(self.keyring_label)
        self.set_sandbox_url(sandbox_url)

        # --- wiring ----------------------------------------------------------------------
        for profile in controller.profiles():
            self.profile_combo.addItem(profile.name, profile.id)
        self.profile_combo.currentIndexChanged.connect(self._profile_chosen)
        self.form.validity_changed.connect(self._update_actions)
        self.form.editors["base_url"].textChanged.connect(self._update_endpoint)
        self.preview_button.clicked.connect(self.preview)
        self.cancel_button.clicked.connect(controller.cancel)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.preview)
        controller.busy_changed.connect(self._set_busy)
        controller.preview_started.connect(self.preview_panel.show_busy)
        controller.preview_finished.connect(self._show_result)
        controller.preview_failed.connect(self.preview_panel.show_error)
        controller.preview_cancelled.connect(self.preview_panel.show_cancelled)
        controller.image_loaded.connect(self.preview_panel.show_image)
        controller.image_failed.connect(self.preview_panel.show_image_failed)
        self._profile_chosen()

    # --- actions -----------------------------------------------------------------------

    def current_profile_id(self) -> str | None:
        return self.profile_combo.currentData()

    def preview(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.form.is_valid() or self.controller.busy:
            return
        self.controller.preview(profile_id, self.form.base_url(), self.form.fields())

    def _profile_chosen(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None:
            return
        profile = self.controller.profile(profile_id)
        self.form.set_values(self.controller.base_url_for(profile),
                             {name: getattr(profile, name) for name in BODY_FIELDS},
                             allow_insecure=profile.allow_insecure)
        self._update_actions()

    def _update_actions(self, *_args) -> None:
        busy = self.controller.busy
        self.preview_button.setEnabled(self.form.is_valid() and not busy)

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)
        self.profile_combo.setEnabled(not busy)
        self.form.setEnabled(not busy)
        self._update_actions()

    def _show_result(self, result) -> None:
        self.raw_view.show_exchange(result.exchange)
        if result.ok:
            self.preview_panel.show_reward(result.reward)
        else:
            self.preview_panel.show_error(result.error or UnexpectedError())

    def _update_endpoint(self, url: str) -> None:
        self.endpoint_label.setText(f"Endpoint: {url.strip() or '(none)'}")

    def set_sandbox_url(self, url: str | None) -> None:
        self.sandbox_label.setText(f"Sandbox: {url}" if url else "Sandbox: not running")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        super().closeEvent(event)
        if event.isAccepted():
            self.controller.shutdown()
            self.closed.emit()

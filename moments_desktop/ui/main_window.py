"""The main window: profile picker, request form, Preview/Cancel, preview card and Raw tab.

Widgets only render; every action goes through the SessionBridge, and every rule is the Session's
(core/session.py). Identifiers reach the screen through the Session's renderer (core/render.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from moments_desktop import APP_NAME
from moments_desktop.core import paths
from moments_desktop.core.credentials import KeyringUnavailableError
from moments_desktop.core.errors import MomentsError, UnexpectedError
from moments_desktop.core.profiles import DEMO_PROFILE_ID

from .bridge import SessionBridge
from .claim_flow import ClaimFlow, make_claim_button
from .copy_as import CopyAsController
from .form_catalog import FormCatalog
from .history_service import HistoryService
from .history_view import HistoryView, UnresolvedBanner
from .questions import ask_save_before_closing, quoted_names
from .preview_panel import PreviewPanel
from .presenter_stage import PresenterStage, show_stage_tab
from .profile_settings import ProfileSettingsDialog
from .profile_transfer import ProfileTransfer
from .raw_view import RawView
from . import theme
from .shortcuts import (MESSAGE_PREVIEW_KEYS, SWEEP_RUN_KEYS, TAB_SHORTCUTS, ShortcutsDialog, by_name,
                        install_shortcuts)
from .theme import THEME_SETTING, styled
from .request_form import RequestForm
from .network_settings import NetworkSettingsDialog
from .window_menus import AboutBox, about_box, install_menus

SETTINGS_FILE = "window.ini"
KEY_HIDDEN_TIP = ("The API key is never shown in presenter mode. To enter or show a key, turn presenter mode off "
                  "(View \u25b8 Presenter mode, Ctrl+Shift+P).")
SHOW_KEY_TIP = "Shows the key while the button is held down"
DIRTY_MARK = " \u2022"

DialogT = TypeVar("DialogT", bound=QDialog)


def _brought_to_front(dialog: QDialog | None) -> bool:
    """An About box or Network settings dialog still open is shown again (its edits kept), not made twice."""
    if dialog is None or not dialog.isVisible():
        return False
    dialog.activateWindow()  # it is window-modal over this window: focusing it is bringing it to the front
    return True


def _fresh(previous: QDialog | None, make: Callable[[], DialogT]) -> DialogT:
    """A new dialog (it shows what is true now), the closed one before it deleted: one per window, not one
    per opening."""
    if previous is not None:
        previous.deleteLater()
    return make()


class _signals_blocked:
    def __init__(self, widget: QWidget):
        self.widget = widget

    def __enter__(self) -> None:
        self._was = self.widget.blockSignals(True)

    def __exit__(self, *_exc: object) -> None:
        self.widget.blockSignals(self._was)


def window_settings() -> QSettings:
    """Window state lives in an INI file next to profiles.json (MOMENTS_DESKTOP_HOME isolates it)."""
    return QSettings(str(paths.config_dir() / SETTINGS_FILE), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """Top-level window. ``closed`` is emitted once the window has accepted a close."""

    closed = Signal()

    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None):
        """Build inside the running qasync loop (the bridge's tasks are bound to it)."""
        super().__init__(parent)
        self.bridge = bridge
        self.renderer = bridge.renderer
        # What save_state compares with, so a close that changed nothing writes nothing (see save_state).
        self._state_watched = False  # from the first turn of the loop after the first show
        self._geometry_changed = False  # moved or resized since then
        self._splitter_shown: object = None
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(theme.app_icon())
        self.resize(1100, 680)

        # --- left: profile + form + actions --------------------------------------------
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        profile_row = QHBoxLayout()
        profile_label = QLabel("Profile", left)
        self.profile_combo = QComboBox(left)
        self.profile_combo.setObjectName("profileCombo")
        self.profile_combo.setAccessibleName("Profile")
        self.profile_combo.setAccessibleDescription("The profile whose endpoint, request and key are used")
        profile_label.setBuddy(self.profile_combo)
        profile_row.addWidget(profile_label)
        profile_row.addWidget(self.profile_combo, 1)
        # Test mode or LIVE, always in sight: it decides how strong the claim confirmation is.
        self.mode_badge = QLabel(left)
        self.mode_badge.setObjectName("profileModeBadge")
        profile_row.addWidget(self.mode_badge)
        left_layout.addLayout(profile_row)

        manage_row = QHBoxLayout()
        self.new_button = self._button("New…", "newProfileButton", left, manage_row)
        self.duplicate_button = self._button("Duplicate", "duplicateProfileButton", left, manage_row)
        self.rename_button = self._button("Rename…", "renameProfileButton", left, manage_row)
        self.delete_button = self._button("Delete…", "deleteProfileButton", left, manage_row)
        self.settings_button = self._button("Settings…", "profileSettingsButton", left, manage_row)
        self.settings_button.setToolTip("Test mode or live, cost per claim, notes")
        manage_row.addStretch(1)
        left_layout.addLayout(manage_row)

        group = QGroupBox("Request (getRewardInfo and getReward)", left)
        group_layout = QVBoxLayout(group)
        self.form = RequestForm(group, renderer=self.renderer)
        group_layout.addWidget(self.form)
        edit_row = QHBoxLayout()
        self.dirty_label = QLabel("", group)
        self.dirty_label.setObjectName("unsavedMarker")
        edit_row.addWidget(self.dirty_label, 1)
        self.save_button = self._button("Save", "saveProfileButton", group, edit_row)
        self.revert_button = self._button("Revert", "revertProfileButton", group, edit_row)
        group_layout.addLayout(edit_row)
        left_layout.addWidget(group)

        # API key: written only to the keychain, never read back into the field.
        self.key_group = QGroupBox("API key", left)
        key_layout = QVBoxLayout(self.key_group)
        key_row = QHBoxLayout()
        self.key_edit = QLineEdit(self.key_group)
        self.key_edit.setObjectName("apiKeyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste the API key")
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setAccessibleDescription("Written only to the keychain, never shown again; Enter saves it")
        key_row.addWidget(self.key_edit, 1)
        # Presenter mode: the key field is never drawn (not even as dots); this stands in its place.
        self.key_hidden = QLineEdit(self.key_group)
        self.key_hidden.setObjectName("apiKeyHidden")
        self.key_hidden.setReadOnly(True)
        self.key_hidden.setPlaceholderText("Hidden in presenter mode")
        self.key_hidden.setToolTip(KEY_HIDDEN_TIP)
        self.key_hidden.setAccessibleName("API key (hidden in presenter mode)")
        self.key_hidden.setAccessibleDescription(KEY_HIDDEN_TIP)
        self.key_hidden.hide()
        key_row.addWidget(self.key_hidden, 1)
        self.show_key_button = self._button("Show", "showKeyButton", self.key_group, key_row)
        self.show_key_button.setToolTip(SHOW_KEY_TIP)
        self.save_key_button = self._button("Save key", "saveKeyButton", self.key_group, key_row)
        self.save_key_button.setToolTip("Store the key in the keychain for this profile")
        self.test_key_button = self._button("Test key", "testKeyButton", self.key_group, key_row)
        self.test_key_button.setToolTip("Run a free preview with this profile's stored key and the form's values")
        key_layout.addLayout(key_row)
        self.key_status = QLabel("", self.key_group)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        key_layout.addWidget(self.key_status)
        left_layout.addWidget(self.key_group)

        actions = QHBoxLayout()
        self.preview_button = QPushButton("Preview reward", left)
        self.preview_button.setObjectName("previewButton")
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
        self.claim_button = make_claim_button(left)  # the billed action; wired by ClaimFlow below
        actions.addWidget(self.claim_button)
        self.copy_as = CopyAsController(
            bridge, self, self.statusBar(),
            current_request=lambda: (self.current_profile_id(), self.form.base_url(), self.form.fields()),
            show_error=lambda error: self.show_error(error))
        self.copy_as_button = self.copy_as.make_button(left)
        actions.addWidget(self.copy_as_button)
        actions.addWidget(self.cancel_button)
        actions.addStretch(1)
        left_layout.addLayout(actions)
        left_layout.addWidget(self.progress)
        left_layout.addStretch(1)

        # --- right: tabs ---------------------------------------------------------------
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("resultTabs")
        self.tabs.setAccessibleName("Results")
        self.tabs.setAccessibleDescription("The preview, the raw exchange, messages, sweeps and the history")
        self.preview_panel = PreviewPanel(self.renderer, self.tabs)
        self.raw_view = RawView(self.renderer, self.tabs)
        self.tabs.addTab(self.preview_panel, "Preview")
        self.tabs.addTab(self.raw_view, "Raw")
        # The Message and Sweep tabs (and History, below) are not seen at the first paint: each is built, and its
        # module imported, when first shown or first asked for (``message_tab``, ``sweep_tab``: issue 17).
        self._deferred_tabs: dict[str, tuple[QWidget, Callable[[], QWidget]]] = {}
        self._built_tabs: dict[str, QWidget] = {}
        self._deferred_keys: dict[str, list[QShortcut]] = {}
        self._defer_tab("message_tab", "Message", self._build_message_tab, MESSAGE_PREVIEW_KEYS, "_preview_shortcut")
        self._defer_tab("sweep_tab", "Sweep", self._build_sweep_tab, SWEEP_RUN_KEYS, "_run_shortcut")
        self.tabs.currentChanged.connect(self._build_shown_tab)

        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([440, 660])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self._add_history()

        # --- status bar ------------------------------------------------------------------
        self.sandbox_label = QLabel(self)
        self.sandbox_label.setObjectName("sandboxStatus")
        self.sandbox_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.endpoint_label = QLabel(self)
        self.endpoint_label.setObjectName("endpointStatus")
        self.endpoint_label.setContentsMargins(16, 0, 0, 0)
        self._keyring_name = "…"  # asked off the UI thread (the keyring may answer over D-Bus)
        self.keyring_label = QLabel(f"Keychain: {self._keyring_name}", self)
        self.keyring_label.setObjectName("keyringStatus")
        self.statusBar().addWidget(self.sandbox_label)
        self.statusBar().addWidget(self.endpoint_label, 1)
        self.statusBar().addPermanentWidget(self.keyring_label)
        self.set_sandbox_url(bridge.sandbox_url)

        # --- wiring ----------------------------------------------------------------------
        # Unsaved edits per profile id: (base_url, fields). Kept in memory until Save/Revert.
        self._drafts: dict[str, tuple[str, dict[str, str]]] = {}
        # Edits being written (off the UI thread): a draft is dropped only once its write succeeded.
        self._saving: dict[str, tuple[str, dict[str, str]]] = {}
        self._closing_after_saves = False  # "Save all" on close is writing; the window closes when done
        self._loading = False
        settings = window_settings()
        last_profile = settings.value("lastProfile", None, type=str)
        self._fill_profiles(last_profile or None)
        self.profile_combo.currentIndexChanged.connect(self._profile_chosen)
        for editor in self.form.editors.values():
            editor.textChanged.connect(self._form_edited)
            editor.textChanged.connect(lambda *_: self._if_built("sweep_tab", lambda tab: tab.request_changed()))
        self.new_button.clicked.connect(self.new_profile)
        self.duplicate_button.clicked.connect(self.duplicate_profile)
        self.rename_button.clicked.connect(self.rename_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.settings_button.clicked.connect(self.edit_settings)
        self.save_button.clicked.connect(self.save_edits)
        self.revert_button.clicked.connect(self.revert_edits)
        self.show_key_button.pressed.connect(
            lambda: self.bridge.presenter or self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal))
        self.show_key_button.released.connect(
            lambda: self.key_edit.setEchoMode(QLineEdit.EchoMode.Password))
        self.key_edit.textChanged.connect(self._update_actions)
        self.key_edit.returnPressed.connect(self.save_key)
        self.save_key_button.clicked.connect(self.save_key)
        self.test_key_button.clicked.connect(self.test_key)
        bridge.key_test_finished.connect(self._show_key_test)
        self.form.validity_changed.connect(self._update_actions)
        self.form.editors["base_url"].textChanged.connect(self._update_endpoint)
        self.preview_button.clicked.connect(self.preview)
        self.cancel_button.clicked.connect(bridge.cancel)
        bridge.busy_changed.connect(self._set_busy)
        bridge.preview_started.connect(self.preview_panel.show_busy)
        bridge.preview_finished.connect(self._show_result)
        bridge.preview_failed.connect(self.preview_panel.show_error)
        bridge.preview_cancelled.connect(self.preview_panel.show_cancelled)
        bridge.image_loaded.connect(self.preview_panel.show_image)
        bridge.image_failed.connect(self.preview_panel.show_image_failed)
        self.claim_flow = ClaimFlow(
            bridge, self.claim_button, self.form, self.preview_panel, self.raw_view,
            current_profile_id=self.current_profile_id, show_error=lambda error: self.show_error(error),
            on_started=lambda: self.stage.redeeming or self.tabs.setCurrentWidget(self.preview_panel), parent=self)
        # Presenter mode's customer stage: the first tab, and the current one, while presenter mode is on.
        self.stage = PresenterStage(bridge, self.claim_flow, parent=self.tabs, current_request=lambda: (
            self.current_profile_id(), self.form.base_url(), self.form.fields()))
        self.stage.hide()
        for editor in self.form.editors.values():
            editor.textChanged.connect(self.stage.request_changed)
        show_stage_tab(self.tabs, self.stage, bridge.presenter)
        bridge.presenter_changed.connect(lambda on: show_stage_tab(self.tabs, self.stage, on))

        # --- keychain results, catalog choices, menus (the work runs off the UI thread) ----
        self._key_status_for: str | None = None  # profile whose running key check may set the status
        bridge.keyring_name_changed.connect(self._show_keyring_name)
        bridge.key_checked.connect(self._show_key_checked)
        bridge.profile_write_busy_changed.connect(self._update_actions)
        # Queued: these may ask a question, and a dialog must not open inside an asyncio task.
        queued = Qt.ConnectionType.QueuedConnection
        bridge.key_saved.connect(self._key_saved, queued)
        bridge.profile_created.connect(self._profile_created, queued)
        bridge.profile_renamed.connect(self._profile_renamed, queued)
        bridge.profile_saved.connect(self._profile_saved, queued)
        bridge.profile_settings_saved.connect(self._profile_settings_saved, queued)
        bridge.profile_deleted.connect(self._profile_deleted, queued)
        bridge.profile_duplicated.connect(self._profile_duplicated, queued)
        self.form_catalog = FormCatalog(self.form, bridge, self)
        self.transfer = ProfileTransfer(
            bridge, self, self.statusBar(), show_error=lambda error: self.show_error(error),
            refresh_profiles=self.refresh_profile_list, has_unsaved_edits=self.has_unsaved_edits)
        self.menu_actions = install_menus(self.menuBar())
        self.menu_actions.import_profiles.triggered.connect(self.transfer.import_profiles)
        self.menu_actions.export_profiles.triggered.connect(self.transfer.export_profiles)
        self.menu_actions.quit.triggered.connect(self.close)
        self.menu_actions.about.triggered.connect(self.show_about)
        self.menu_actions.network_settings.triggered.connect(self.show_network_settings)
        self.menu_actions.presenter.toggled.connect(bridge.set_presenter)
        bridge.presenter_changed.connect(self._presenter_changed)
        bridge.presenter_changed.connect(self._show_presenter)
        self.about_box: AboutBox | None = None
        self.network_dialog: NetworkSettingsDialog | None = None
        self._install_theme_and_shortcuts(settings)
        bridge.refresh_keyring_name()
        self._profile_chosen()
        self._restore_state(settings)
        if bridge.presenter:  # started with --presenter: masked before the window is first drawn
            self._presenter_changed(True)
            self._show_presenter(True)

    # --- actions -----------------------------------------------------------------------

    def current_profile_id(self) -> str | None:
        return self.profile_combo.currentData()

    def preview(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.form.is_valid() or self.bridge.busy:
            return
        if self.bridge.preview(profile_id, self.form.base_url(), self.form.fields()) \
                and self.tabs.currentWidget() not in (self.preview_panel, self.raw_view, self.stage):
            # Pressed with the History tab open, the answer would arrive out of sight: show it.
            self.tabs.setCurrentWidget(self.preview_panel)

    # --- overridable dialogs (tests monkeypatch these instead of driving modal boxes) ---

    def ask_confirm(self, text: str, title: str = APP_NAME) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Ok

    def ask_text(self, title: str, label: str, default: str = "") -> str | None:
        text, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, default)
        return text if ok else None

    def show_error(self, error: MomentsError | str) -> None:
        text = self.renderer.text(error.message if isinstance(error, MomentsError) else str(error))
        QMessageBox.warning(self, APP_NAME, text)

    def ask_unsaved_edits(self, names: list[str]) -> str:
        """"save", "discard" or "cancel" for closing with unsaved edits in the named profiles."""
        return ask_save_before_closing(self, f"Save the unsaved changes to {quoted_names(names)} before closing?",
                                       "Discarded changes cannot be recovered.")

    def ask_close_during_claim(self) -> bool:
        """True to close anyway while a getReward is in flight (its outcome then stays unknown)."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME,
                          "A claim is waiting for its answer. Close anyway?",
                          QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("The request has been sent. If you close now, its outcome is recorded as "
                               "unknown and you will have to check the campaign before claiming again. "
                               "The answer usually arrives within seconds.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Close

    def _presenter_changed(self, on: bool) -> None:
        """Presenter mode on or off (View > Presenter mode, Ctrl+Shift+P, --presenter): the menu's check follows
        the Session, and every view re-renders what it shows (each view connects to bridge.presenter_changed)."""
        if self.menu_actions.presenter.isChecked() != on:
            self.menu_actions.presenter.setChecked(on)

    def _show_presenter(self, on: bool) -> None:
        """Re-render every view the window owns with the renderer's new setting (masked or clear)."""
        self.refresh_profile_list()
        self._update_endpoint(self.form.base_url())
        self.set_sandbox_url(self.bridge.sandbox_url)
        self.form.set_presenter(on)
        self._show_key_field(not on)
        self.preview_panel.rerender()
        self.raw_view.rerender()
        raw = self.tabs.indexOf(self.raw_view)
        if on and self.tabs.currentIndex() == raw:
            self.tabs.setCurrentWidget(self.preview_panel)
        self.tabs.setTabVisible(raw, not on)  # raw exchanges are not shown in presenter mode
        for name in ("history_view", "sweep_tab", "message_tab"):  # one not built yet is built rendered so
            self._if_built(name, lambda tab: tab.rerender())
        self.transfer.rerender()
        dialog = getattr(self, "settings_dialog", None)
        try:
            if dialog is not None and dialog.isVisible():
                dialog.rerender(on)
        except RuntimeError:  # closed and deleted since
            self.settings_dialog = None
        self._update_actions()

    def _show_key_field(self, shown: bool) -> None:
        """Presenter mode hides the key field (what was typed stays, unseen) and disables Show."""
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setVisible(shown)
        self.key_hidden.setVisible(not shown)
        self.show_key_button.setEnabled(shown)
        self.show_key_button.setToolTip(SHOW_KEY_TIP if shown else KEY_HIDDEN_TIP)

    # --- theme and shortcuts (View > Theme, Help > Keyboard shortcuts) ----------------------

    def _install_theme_and_shortcuts(self, settings: QSettings) -> None:
        chosen = theme.current().set_choice(settings.value(THEME_SETTING, theme.DEFAULT_CHOICE, type=str))
        for name, action in self.menu_actions.themes.items():
            action.setChecked(name == chosen)
            action.triggered.connect(lambda _checked=False, choice=name: self.choose_theme(choice))
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.menu_actions.shortcuts.triggered.connect(self.show_shortcuts)

        def click(button: QPushButton):
            return lambda: button.isEnabled() and button.click()  # as if clicked: only when it could be

        handlers = {
            "preview": self.preview, "claim": click(self.claim_button), "cancel": self.bridge.cancel,
            "copy_as": self._open_copy_as_menu, "focus_profile": lambda: self.profile_combo.setFocus(),
            "save_profile": click(self.save_button), "revert_profile": click(self.revert_button),
            "new_profile": click(self.new_button), "duplicate_profile": click(self.duplicate_button),
            "rename_profile": click(self.rename_button), "delete_profile": click(self.delete_button),
            "profile_settings": click(self.settings_button), "history_search": self.focus_history_search,
            **{f"tab_{attribute}": (lambda a=attribute: self.show_tab(getattr(self, a)))
               for attribute, _title, _keys in TAB_SHORTCUTS},
        }
        self.shortcut_actions = install_shortcuts(self, handlers)
        # Each button says what it does and its keys (the tooltip is also its accessible description).
        for button, name, text in (
                (self.new_button, "new_profile", "Create a profile from the current one's endpoint"),
                (self.duplicate_button, "duplicate_profile", "Copy this profile, its key included"),
                (self.rename_button, "rename_profile", "Rename this profile"),
                (self.delete_button, "delete_profile", "Delete this profile and its stored key (asks first)"),
                (self.settings_button, "profile_settings", None), (self.save_button, "save_profile",
                                                                    "Save the edited request in this profile"),
                (self.revert_button, "revert_profile", "Drop the unsaved edits of this profile"),
                (self.preview_button, "preview", "Free: calls getRewardInfo"),
                (self.claim_button, "claim", None), (self.copy_as_button, "copy_as", None),
                (self.cancel_button, "cancel", "Stop the preview or key test in flight")):
            base = text or button.toolTip()
            button.setToolTip(f"{base} ({by_name(name).key_text()})")

    def choose_theme(self, choice: str) -> None:
        """View > Theme: follow the system, light or dark; kept in window.ini for the next start."""
        chosen = theme.current().set_choice(choice)
        for name, action in self.menu_actions.themes.items():
            action.setChecked(name == chosen)
        settings = window_settings()
        settings.setValue(THEME_SETTING, chosen)
        settings.sync()

    def show_shortcuts(self) -> None:
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.open()

    def show_tab(self, widget: QWidget) -> None:
        index = self.tabs.indexOf(widget)
        if index >= 0 and self.tabs.isTabVisible(index) and self.tabs.isTabEnabled(index):
            self.tabs.setCurrentIndex(index)

    def focus_history_search(self) -> None:
        self.show_tab(self.history_view)
        self.history_view.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.history_view.search_edit.selectAll()

    def _open_copy_as_menu(self) -> None:
        button = self.copy_as_button
        if button.isEnabled() and button.menu() is not None:  # popup, not exec(): no nested event loop
            button.menu().popup(button.mapToGlobal(button.rect().bottomLeft()))

    def show_about(self) -> None:
        if not _brought_to_front(self.about_box):
            self.about_box = _fresh(self.about_box, lambda: about_box(self, self.bridge, self._keyring_name))
            self.about_box.open()

    def show_network_settings(self) -> None:
        if not _brought_to_front(self.network_dialog):
            self.network_dialog = _fresh(self.network_dialog, lambda: NetworkSettingsDialog(self.bridge, self))
            self.network_dialog.open()

    # --- profiles ----------------------------------------------------------------------

    @staticmethod
    def _button(text: str, name: str, parent: QWidget, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, parent)
        button.setObjectName(name)
        button.setAutoDefault(False)
        row.addWidget(button)
        return button

    def _fill_profiles(self, select_id: str | None) -> None:
        """Rebuild the picker from the store, selecting ``select_id`` when it still exists."""
        combo = self.profile_combo
        combo.blockSignals(True)
        try:
            combo.clear()
            for profile in self.bridge.profiles():
                combo.addItem(self.renderer.profile_name(profile.name) + (DIRTY_MARK if profile.id in self._drafts else ""), profile.id)
            index = combo.findData(select_id) if select_id is not None else -1
            combo.setCurrentIndex(index if index >= 0 else 0)
        finally:
            combo.blockSignals(False)
        known = {combo.itemData(i) for i in range(combo.count())}
        for stale in set(self._drafts) - known:
            del self._drafts[stale]

    def _select_profile(self, profile_id: str) -> None:
        self._fill_profiles(profile_id)
        self._profile_chosen()

    def _stored_values(self, profile_id: str) -> tuple[str, dict[str, str]]:
        return self.bridge.stored_values(profile_id)

    def _profile_chosen(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None:
            return
        try:
            profile = self.bridge.profile(profile_id)
        except MomentsError as exc:  # deleted elsewhere
            self.show_error(exc)
            self._select_profile(DEMO_PROFILE_ID)
            return
        base_url, fields = self._drafts.get(profile_id) or self._stored_values(profile_id)
        self._loading = True
        try:
            self.form.set_values(base_url, fields, allow_insecure=profile.allow_insecure)
        finally:
            self._loading = False
        self.key_edit.clear()  # never carries a key over to another profile
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self._remember_profile(profile_id)
        rules = self.bridge.rules(profile_id)
        self.key_group.setVisible(rules.store_key)
        self._key_status_for = None
        if rules.store_key:
            self._check_key(profile_id)
        self.form_catalog.refresh()
        self._show_mode(profile)
        self._update_dirty()
        self._update_actions()
        self._if_built("message_tab", lambda tab: tab.show_profile(profile_id))
        self._if_built("sweep_tab", lambda tab: tab.request_changed())
        self.stage.request_changed()

    def open_sweep_combination(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        """A sweep card was clicked: its values in the form, as unsaved edits of the sweep's profile, and a
        preview of them in the Preview tab."""
        if self.bridge.busy or (profile_id != self.current_profile_id() and self._profiles_held()):
            self.statusBar().showMessage("Wait for the call in flight to end, then click the card again.", 5000)
            return
        try:
            profile = self.bridge.profile(profile_id)
        except MomentsError as exc:  # deleted since the sweep ran
            self.show_error(exc)
            return
        if profile_id != self.current_profile_id():
            self._select_profile(profile_id)
        self.form.set_values(base_url, fields, allow_insecure=profile.allow_insecure)
        self.tabs.setCurrentWidget(self.preview_panel)
        self.preview()

    def _form_edited(self, *_args) -> None:
        profile_id = self.current_profile_id()
        if self._loading or profile_id is None:
            return
        current = (self.form.base_url(), self.form.fields())
        if current == self._stored_values(profile_id):
            self._drafts.pop(profile_id, None)
        else:
            self._drafts[profile_id] = current
        self._update_dirty()
        self._update_actions()

    def has_unsaved_edits(self) -> bool:
        return bool(self._drafts)

    def refresh_profile_list(self) -> None:
        """Rebuild the picker from the store (e.g. after an import), keeping selection and edits."""
        self._fill_profiles(self.current_profile_id())
        self._update_actions()

    def save_all_then_close(self) -> None:
        """Write every profile's unsaved edits, one after another, then close the window. On the first
        that cannot be saved, show it and stay open (see _profile_saved)."""
        self._closing_after_saves = True
        self.statusBar().showMessage("Saving the changes before closing…")
        self._update_actions()
        self._save_next_before_close()

    def _save_next_before_close(self) -> None:
        waiting = [profile_id for profile_id in self._drafts if profile_id not in self._saving]
        if waiting:
            self._start_save(waiting[0], *self._drafts[waiting[0]])
        elif not self._saving:  # every edit written
            self._closing_after_saves = False
            self.statusBar().clearMessage()
            self.close()

    def discard_all_edits(self) -> None:
        self._if_built("message_tab", lambda tab: tab.discard_all_drafts())
        if self._drafts:
            self._drafts.clear()
            self._profile_chosen()

    def is_dirty(self, profile_id: str | None = None) -> bool:
        profile_id = profile_id if profile_id is not None else self.current_profile_id()
        return profile_id in self._drafts

    def _update_dirty(self) -> None:
        profile_id = self.current_profile_id()
        dirty = self.is_dirty(profile_id)
        self.dirty_label.setText("\u2022 unsaved changes" if dirty else "")
        index = self.profile_combo.currentIndex()
        if index >= 0:
            name = self.renderer.profile_name(self.bridge.profile(profile_id).name)
            self.profile_combo.setItemText(index, name + (DIRTY_MARK if dirty else ""))

    def new_profile(self) -> None:
        if self._profiles_held():
            return
        name = self.ask_text("New profile", "Name of the new profile:")
        if name is None or not name.strip():
            return
        self.bridge.start_create_profile(name, self.current_profile_id())

    def _profile_created(self, result) -> None:
        if isinstance(result, MomentsError):
            self.show_error(result)
            return
        self._select_profile(result.id)

    def duplicate_profile(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or self._profiles_held():
            return
        self.bridge.start_duplicate_profile(profile_id)  # copies the key too: off the UI thread

    def _profile_duplicated(self, _source_id: str, result) -> None:
        if isinstance(result, MomentsError):
            self.show_error(result)
            return
        copy, warning = result
        self._select_profile(copy.id)
        if warning:
            self.show_error(warning)

    def rename_profile(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.bridge.rules(profile_id).rename or self._profiles_held():
            return
        old = self.bridge.profile(profile_id).name
        if self.bridge.presenter:  # the name is not put in clear into an editable field
            name = self.ask_text("Rename profile", "New name (the current one is masked in presenter mode):")
        else:
            name = self.ask_text("Rename profile", "New name:", old)
        if name is None or name.strip() == old:
            return
        self.bridge.start_rename_profile(profile_id, name)

    def _profile_renamed(self, profile_id: str, result) -> None:
        if isinstance(result, MomentsError):
            self.show_error(result)
            return
        self._select_profile(profile_id)

    # --- profile settings (live / cost / notes) ---------------------------------------

    def make_settings_dialog(self, profile) -> ProfileSettingsDialog:
        """Overridable: tests drive the dialog object directly."""
        return ProfileSettingsDialog(profile, self, renderer=self.renderer)

    def edit_settings(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.bridge.rules(profile_id).edit_settings or self._profiles_held():
            return
        dialog = self.make_settings_dialog(self.bridge.profile(profile_id))
        dialog.saved.connect(lambda settings: self.bridge.start_save_settings(
            profile_id, settings.live, settings.cost_per_action, settings.currency, settings.notes,
            settings.deadlines, is_sandbox=settings.is_sandbox))
        dialog.finished.connect(dialog.deleteLater)
        self.settings_dialog = dialog
        dialog.open()  # window-modal, no nested event loop

    def _profile_settings_saved(self, profile_id: str, result) -> None:
        if isinstance(result, MomentsError):
            self.show_error(result)
            return
        if profile_id == self.current_profile_id():
            self._show_mode(result)

    def _show_mode(self, profile) -> None:
        if profile.live:
            self.mode_badge.setText("LIVE")
            self.mode_badge.setToolTip("Declared live: each claim consumes a real reward and is billed")
            styled(self.mode_badge, lambda p: f"background: {p.danger}; color: {p.on_danger}; font-weight: 600;"
                                             " padding: 2px 8px; border-radius: 4px;")
        else:
            self.mode_badge.setText("Test mode")
            self.mode_badge.setToolTip("Declared test mode (Approved campaign): claims consume nothing")
            styled(self.mode_badge, lambda p: f"background: {p.info_background}; color: {p.info};"
                                             " padding: 2px 8px; border-radius: 4px;")

    def delete_profile(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.bridge.rules(profile_id).delete or self._profiles_held():
            return
        name = self.renderer.profile_name(self.bridge.profile(profile_id).name)
        unsaved = " Its unsaved changes are discarded too." if self.is_dirty(profile_id) else ""
        if not self.ask_confirm(f"Delete the profile “{name}” and its stored API key?{unsaved}\n\n"
                                "This cannot be undone.", "Delete profile"):
            return
        self.key_status.setText("Removing the key from the keychain…")
        self.bridge.start_delete_profile(profile_id)

    def _profile_deleted(self, profile_id: str, result) -> None:
        if isinstance(result, KeyringUnavailableError):
            self.key_status.setText(f"{result.title}.")
            if self.ask_confirm(f"{result.message}\n\nDelete the profile anyway? Its API key would "
                                "stay in the keychain.", "Keychain unavailable"):
                self.bridge.start_delete_profile(profile_id, even_if_key_remains=True)
            return
        if isinstance(result, MomentsError):
            self.show_error(result)
            self._profile_chosen()
            return
        if result:
            self.show_error(result)
        self._drafts.pop(profile_id, None)
        self._if_built("message_tab", lambda tab: tab.forget_profile(profile_id))
        self._select_profile(DEMO_PROFILE_ID)

    def save_edits(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.is_dirty(profile_id) or self._profiles_held():
            return
        self._start_save(profile_id, self.form.base_url(), self.form.fields())

    def _start_save(self, profile_id: str, base_url: str, fields: dict[str, str]) -> None:
        self._saving[profile_id] = (base_url, dict(fields))
        self.bridge.start_save_profile(profile_id, base_url, fields)

    def _profile_saved(self, profile_id: str, result) -> None:
        written = self._saving.pop(profile_id, None)
        if isinstance(result, MomentsError):
            # The draft stays: the edits are not lost, and the profile is shown so they can be fixed.
            self._closing_after_saves = False
            self.statusBar().clearMessage()
            if profile_id != self.current_profile_id():
                self._select_profile(profile_id)  # (drops the draft of a profile deleted meanwhile)
            self._update_actions()
            self.show_error(result)
            return
        # Edits typed while the write ran are newer than what was written: they stay a draft.
        if self._drafts.get(profile_id) in (written, self._stored_values(profile_id)):
            del self._drafts[profile_id]
        if profile_id == self.current_profile_id() and profile_id not in self._drafts:
            self._profile_chosen()  # shows the values as stored (trimmed)
        else:
            self._update_dirty()
            self._update_actions()
        if self._closing_after_saves:
            self._save_next_before_close()

    def revert_edits(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None:
            return
        self._drafts.pop(profile_id, None)
        self._profile_chosen()

    # --- API key -----------------------------------------------------------------------

    def _check_key(self, profile_id: str) -> None:
        self._key_status_for = profile_id
        self.key_status.setText("Checking the keychain…")
        self.bridge.start_key_check(profile_id)

    def _show_key_checked(self, profile_id: str, result) -> None:
        if profile_id != self._key_status_for or profile_id != self.current_profile_id():
            return  # another profile was chosen, or a newer action owns the status line
        self._key_status_for = None
        if isinstance(result, MomentsError):
            self.key_status.setText(f"{result.title}.")
        else:
            self.key_status.setText("A key is stored for this profile." if result else "No key stored yet.")

    def _show_keyring_name(self, name: str) -> None:
        self._keyring_name = name
        self.keyring_label.setText(f"Keychain: {name}")

    def save_key(self) -> None:
        profile_id = self.current_profile_id()
        key = self.key_edit.text()
        if profile_id is None or not self.bridge.rules(profile_id).store_key or not key.strip() \
                or self._profiles_held() or self.bridge.presenter:
            return
        self._key_status_for = None
        self.key_status.setText("Saving the key…")
        self.bridge.start_save_key(profile_id, key)
        del key

    def _key_saved(self, profile_id: str, result) -> None:
        current = profile_id == self.current_profile_id()
        if isinstance(result, KeyringUnavailableError):
            if not self.ask_confirm(f"{result.message}\n\nKeep the key in memory for this run only? "
                                    "It will be forgotten when the app closes.", "Keychain unavailable"):
                if current:
                    self.key_status.setText(f"Not saved: {result.title}.")
                return
            self.bridge.use_memory_fallback()
            self.bridge.refresh_keyring_name()
            if current:  # the key is still in the field: only cleared once stored
                self.save_key()
            return
        if not current:
            return
        if isinstance(result, MomentsError):
            self.key_status.setText(f"Not saved: {result.message}")
            return
        self.key_edit.clear()
        self.key_status.setText(f"Key stored in {result}.")

    def test_key(self) -> None:
        profile_id = self.current_profile_id()
        if profile_id is None or not self.bridge.rules(profile_id).store_key or not self.form.is_valid():
            return
        self._key_status_for = None
        self.key_status.setText("Testing the key…")
        self.bridge.test_key(profile_id, self.form.base_url(), self.form.fields())

    def _show_key_test(self, error) -> None:
        if error is None:
            self.key_status.setText("The key works.")
        else:
            self.key_status.setText(f"{error.title}.")  # always a MomentsError (see PreviewController.test_key)

    # --- state ---------------------------------------------------------------------------

    def _profiles_held(self) -> bool:
        """A profile or its key is being written: nothing may change or switch the profile under it."""
        return self.bridge.profile_write_busy or self._closing_after_saves

    def _update_actions(self, *_args) -> None:
        busy = self.bridge.busy
        self.preview_button.setEnabled(self.form.is_valid() and not busy)
        profile_id = self.current_profile_id()
        rules = self._rules(profile_id)
        held = busy or self._profiles_held()
        self.profile_combo.setEnabled(not held)
        self.new_button.setEnabled(not held)
        self.duplicate_button.setEnabled(not held and rules is not None)
        self.rename_button.setEnabled(not held and rules is not None and rules.rename)
        self.delete_button.setEnabled(not held and rules is not None and rules.delete)
        self.settings_button.setEnabled(not held and rules is not None and rules.edit_settings)
        dirty = self.is_dirty(profile_id)
        self.save_button.setEnabled(not held and dirty and self.form.is_valid())
        self.revert_button.setEnabled(not held and dirty)
        self.save_key_button.setEnabled(not held and bool(self.key_edit.text().strip()) and not self.bridge.presenter)
        keyed = rules is not None and rules.store_key
        self.test_key_button.setVisible(keyed)
        self.test_key_button.setEnabled(not busy and keyed and self.form.is_valid())

    def _rules(self, profile_id: str | None):
        if profile_id is None:
            return None
        try:
            return self.bridge.rules(profile_id)
        except MomentsError:  # deleted meanwhile: nothing may be done with it
            return None

    def _restore_state(self, settings: QSettings) -> None:
        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    @staticmethod
    def _remember_profile(profile_id: str) -> None:
        """Saved when it changes, not only on a clean exit (a crash or a kill keeps the choice)."""
        settings = window_settings()
        if settings.value("lastProfile", None, type=str) != profile_id:
            settings.setValue("lastProfile", profile_id)
            settings.sync()

    def add_notice_banner(self, banner: QWidget) -> None:
        """A banner above everything (e.g. what happened while the app opened its files)."""
        self.centralWidget().layout().insertWidget(0, banner)

    def save_state(self) -> None:
        """Geometry, splitter and last profile into window.ini, each only if it changed since the window was
        shown (restored as it was saved, or the defaults): rewriting the file (QSettings.sync: a lock file, a new
        file, fsyncs, a rename) blocked the UI thread ~15 ms as the window closed, and PySide6 holds the GIL
        through it, so a worker thread would not spare the UI (Step 14, profiles/startup-closeevent-cprofile.txt).
        """
        settings = window_settings()
        changed = False
        if self._geometry_changed or not self._state_watched:
            settings.setValue("geometry", self.saveGeometry())
            changed = True
        splitter = self.splitter.saveState()
        if splitter != self._splitter_shown:
            settings.setValue("splitter", splitter)
            changed = True
        profile_id = self.current_profile_id()
        if profile_id is not None and settings.value("lastProfile", None, type=str) != profile_id:
            settings.setValue("lastProfile", profile_id)
            changed = True
        if changed:
            settings.sync()

    def _watch_state(self) -> None:
        if not self._state_watched:
            self._state_watched = True
            self._splitter_shown = self.splitter.saveState()

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().showEvent(event)
        if not self._state_watched:
            QTimer.singleShot(0, self._watch_state)  # once the show's own moves and resizes are done

    def moveEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().moveEvent(event)
        if self._state_watched:
            self._geometry_changed = True

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().resizeEvent(event)
        if self._state_watched:
            self._geometry_changed = True

    def _set_busy(self, busy: bool) -> None:
        # A claim is not cancellable (see PreviewController.cancel), so no Cancel button is offered for it.
        self.cancel_button.setVisible(busy and not self.bridge.claiming)
        self.progress.setVisible(busy)
        self.form.setEnabled(not busy)
        self.key_group.setEnabled(not busy)
        self._update_actions()

    def _show_result(self, result) -> None:
        self.raw_view.show_exchange(result.exchange)
        if result.ok:
            self.preview_panel.show_reward(result.reward)
        else:
            self.preview_panel.show_error(result.error or UnexpectedError())

    # --- history and unknown claim outcomes ------------------------------------------------

    def _add_history(self) -> None:
        """The History tab, and a banner while claim outcomes are unknown: along the bottom, under the form
        and the tabs, so nothing the user is looking at or about to click moves when it appears."""
        self.history_service = HistoryService(self.bridge.journal, self.renderer, self)
        self._defer_tab("history_view", "History", self._build_history_view)
        self.unresolved_banner = UnresolvedBanner(self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.unresolved_banner)
        self.setCentralWidget(central)
        self.bridge.journal_changed.connect(self.history_service.notify_changed)
        self.history_service.unresolved_changed.connect(self.unresolved_banner.set_count)
        self.unresolved_banner.review_requested.connect(self.review_unresolved)
        # An earlier run's claims left pending become 'unknown' (never retried) and are counted.
        self.history_service.recover_and_check()

    # --- the tabs built on first show (issue 17: not at start-up) ---------------------------

    def _defer_tab(self, name: str, text: str, build: Callable[[], QWidget], keys: tuple[str, ...] = (),
                   handler: str = "") -> None:
        """A stand-in holds the tab's place, text and order until ``build`` makes the real one. The keys the tab
        binds on the window itself (``keys``, run by its method ``handler``) are bound meanwhile by stand-ins that
        build it and then run that method; the tab's own bindings replace them."""
        placeholder = QWidget(self.tabs)
        placeholder.setObjectName(f"{name}Placeholder")
        self.tabs.addTab(placeholder, text)
        self._deferred_tabs[name] = (placeholder, build)
        stand_ins = [QShortcut(QKeySequence(key), self,
                               activated=lambda n=name, h=handler: getattr(self._built_tab(n), h)())
                     for key in keys]
        if name == "sweep_tab":  # its Esc (stop the sweep, while the tab has the focus): nothing to stop yet
            stand_ins.append(QShortcut(QKeySequence(Qt.Key.Key_Escape), placeholder,
                                       context=Qt.ShortcutContext.WidgetWithChildrenShortcut))
        self._deferred_keys[name] = stand_ins

    def _built_tab(self, name: str) -> QWidget:
        built = self._built_tabs.get(name)
        if built is not None:
            return built
        placeholder, build = self._deferred_tabs.pop(name)
        for stand_in in self._deferred_keys.pop(name, ()):
            stand_in.setEnabled(False)
            stand_in.setKey(QKeySequence())
            stand_in.setParent(None)
            stand_in.deleteLater()
        widget = build()
        self._built_tabs[name] = widget
        index = self.tabs.indexOf(placeholder)
        if index >= 0:  # the real tab in the stand-in's place, with its text, visibility and the current tab
            current = self.tabs.currentIndex() == index
            text, visible = self.tabs.tabText(index), self.tabs.isTabVisible(index)
            with _signals_blocked(self.tabs):
                self.tabs.insertTab(index, widget, text)
                self.tabs.removeTab(index + 1)
                self.tabs.setTabVisible(index, visible)
                if current:
                    self.tabs.setCurrentIndex(index)
            if current:
                widget.show()
                self.tabs.currentChanged.emit(index)
        placeholder.deleteLater()
        return widget

    def _build_shown_tab(self, index: int) -> None:
        shown = self.tabs.widget(index)
        for name, (placeholder, _build) in list(self._deferred_tabs.items()):
            if placeholder is shown:
                self._built_tab(name)
                return

    def _if_built(self, name: str, then: Callable[[QWidget], object]) -> None:
        built = self._built_tabs.get(name)
        if built is not None:
            then(built)

    @property
    def message_tab(self):  # noqa: ANN201 - MessageTab, imported when built
        return self._built_tab("message_tab")

    @property
    def sweep_tab(self):  # noqa: ANN201 - SweepTab, imported when built
        return self._built_tab("sweep_tab")

    @property
    def history_view(self) -> HistoryView:
        return self._built_tab("history_view")

    def _build_message_tab(self) -> QWidget:
        from .message_tab import MessageTab

        tab = MessageTab(
            self.bridge, current_profile_id=self.current_profile_id, show_error=lambda error: self.show_error(error),
            request_values=lambda: (self.form.base_url(), self.form.fields()) if self.form.is_valid() else None,
            parent=self.tabs)
        tab.hide()
        tab.dirty_changed.connect(lambda dirty: self.tabs.setTabText(
            self.tabs.indexOf(tab), "Message" + (DIRTY_MARK if dirty else "")))
        tab.show_profile(self.current_profile_id())
        return tab

    def _build_sweep_tab(self) -> QWidget:
        from .sweep_tab import SweepTab

        tab = SweepTab(
            self.bridge, current_profile_id=self.current_profile_id, show_error=lambda error: self.show_error(error),
            request_values=lambda: (self.form.base_url(), self.form.fields()), parent=self.tabs)
        tab.hide()
        tab.open_requested.connect(self.open_sweep_combination)
        tab.request_changed()
        return tab

    def _build_history_view(self) -> QWidget:
        view = HistoryView(self.history_service, self.tabs)
        view.hide()
        view.detail.copy_as_requested.connect(self.copy_as.copy_entry)
        return view

    def review_unresolved(self) -> None:
        self.tabs.setCurrentWidget(self.history_view)
        self.history_view.show_unresolved()

    def _update_endpoint(self, url: str) -> None:
        self.endpoint_label.setText(f"Endpoint: {self.renderer.url(url.strip()) or '(none)'}")

    def set_sandbox_url(self, url: str | None) -> None:
        self.sandbox_label.setText(f"Sandbox: {self.renderer.url(url)}" if url else "Sandbox: not running")

    def _settle_unsaved_edits(self) -> bool:
        """Ask what to do with unsaved edits before closing; False keeps the window open (for now, when
        the edits are being saved: the window closes itself once they are written)."""
        names = []
        for profile_id in self._drafts:
            try:
                names.append(self.renderer.profile_name(self.bridge.profile(profile_id).name))
            except MomentsError:
                continue
        if not names:
            return True
        answer = self.ask_unsaved_edits(names)
        if answer == "discard":
            self._drafts.clear()
            return True
        if answer == "save":
            self.save_all_then_close()
        return False

    async def aclose(self) -> None:
        """Stop and await every task the window started (history reads, calls, images, keychain and profile
        writes), then close the Session's HTTP client and journal. Idempotent."""
        self.copy_as.clipboard.clear_now()  # a real API key still on the clipboard does not outlive the window
        self.history_service.shutdown()
        self.bridge.shutdown()
        await self.history_service.aclose()
        await self.bridge.aclose()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._closing_after_saves:  # already answered "Save all": closes itself when the writes are done
            event.ignore()
            return
        if self.bridge.claiming and not self.ask_close_during_claim():
            event.ignore()
            return
        if self._drafts and not self._settle_unsaved_edits():
            event.ignore()
            return
        if "message_tab" in self._built_tabs and not self.message_tab.settle_before_close():
            event.ignore()
            return
        super().closeEvent(event)
        if event.isAccepted():
            self.save_state()
            self.history_service.shutdown()
            self.bridge.shutdown()  # the loop's owner then awaits bridge.aclose() (app.main_async, tests)
            self.closed.emit()

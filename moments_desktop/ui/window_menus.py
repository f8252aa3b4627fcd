"""The window's menu bar (File: import/export profiles, network settings, quit; View: presenter mode, theme;
Help: keyboard shortcuts, about) and the About box (its rows and "Copy diagnostics" are core/diagnostics.py's)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMenuBar, QVBoxLayout, QWidget

from moments_desktop import APP_NAME, __version__

if TYPE_CHECKING:
    from .bridge import SessionBridge

THEME_CHOICES = (("system", "Follow the &system"), ("light", "&Light"), ("dark", "&Dark"))


@dataclass
class MenuActions:
    import_profiles: QAction
    export_profiles: QAction
    quit: QAction
    about: QAction
    presenter: QAction  # checkable; Ctrl+Shift+P
    themes: dict[str, QAction]  # "system" / "light" / "dark", exclusive and checkable
    shortcuts: QAction  # Help > Keyboard shortcuts
    network_settings: QAction  # File > Network settings… (the proxy)


def install_menus(bar: QMenuBar) -> MenuActions:
    file_menu = bar.addMenu("&File")
    import_action = file_menu.addAction("&Import profiles…")
    import_action.setObjectName("importProfilesAction")
    import_action.setStatusTip("Add profiles from a file exported by this app (API keys are never in it)")
    export_action = file_menu.addAction("&Export profiles…")
    export_action.setObjectName("exportProfilesAction")
    export_action.setStatusTip("Save all profiles to a file, without API keys")
    network_action = file_menu.addAction("&Network settings\u2026")
    network_action.setObjectName("networkSettingsAction")
    network_action.setStatusTip("The proxy to go through: the system's, none, or one you enter")
    file_menu.addSeparator()
    quit_action = file_menu.addAction("&Quit")
    quit_action.setObjectName("quitAction")
    quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    view_menu = bar.addMenu("&View")
    presenter_action = view_menu.addAction("&Presenter mode")
    presenter_action.setObjectName("presenterAction")
    presenter_action.setCheckable(True)
    presenter_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
    presenter_action.setStatusTip("Safe to share a screen: identifiers masked, the key never drawn, the customer stage")
    theme_menu = view_menu.addMenu("&Theme")
    theme_menu.setObjectName("themeMenu")
    theme_group = QActionGroup(theme_menu)
    theme_group.setExclusive(True)
    themes: dict[str, QAction] = {}
    for name, label in THEME_CHOICES:
        action = theme_menu.addAction(label)
        action.setObjectName(f"theme_{name}Action")
        action.setCheckable(True)
        theme_group.addAction(action)
        themes[name] = action
    themes["system"].setChecked(True)
    help_menu = bar.addMenu("&Help")
    shortcuts_action = help_menu.addAction("&Keyboard shortcuts")
    shortcuts_action.setObjectName("shortcutsAction")
    help_menu.addSeparator()
    about_action = help_menu.addAction(f"&About {APP_NAME}")
    about_action.setObjectName("aboutAction")
    about_action.setMenuRole(QAction.MenuRole.AboutRole)
    return MenuActions(import_action, export_action, quit_action, about_action, presenter_action, themes,
                       shortcuts_action, network_action)


def about_html(rows: list[tuple[str, str]]) -> str:
    def row(label: str, value: str) -> str:
        return f"<tr><td style='padding-right:12px'><b>{html.escape(label)}</b></td><td>{html.escape(value)}</td></tr>"

    return (f"<h3>{html.escape(APP_NAME)} {html.escape(__version__)}</h3>"
            "<p>Test and preview Amazon Moments rewards. API keys are kept only in the keychain.</p>"
            f"<table>{''.join(row(label, value) for label, value in rows)}</table>")


class AboutBox(QDialog):
    """Help > About: versions, the keychain's backend, the folders, the proxy in use; "Copy diagnostics" puts
    core's diagnostics text (no keys, identifiers masked) on the clipboard."""

    def __init__(self, parent: QWidget, bridge: SessionBridge, keychain: str):
        super().__init__(parent)
        self.setObjectName("aboutBox")
        self.setWindowTitle(f"About {APP_NAME}")
        self._bridge = bridge
        self._keychain = keychain
        rows = bridge.session.about(keychain=keychain, qt_version=qVersion(), pyside_version=PySide6.__version__)
        self.label = QLabel(about_html([(r.label, r.value) for r in rows]), self)
        self.label.setObjectName("aboutText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        self.copied = QLabel("", self)
        self.copied.setObjectName("diagnosticsCopiedLabel")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("&Copy diagnostics", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("copyDiagnosticsButton")
        self.copy_button.setToolTip("Copy the versions, folders and network settings for a bug report: no keys, "
                                    "profile names and endpoints masked")
        self.copy_button.setAccessibleName("Copy diagnostics")
        self.copy_button.setAccessibleDescription(self.copy_button.toolTip())
        self.copy_button.clicked.connect(self.copy_diagnostics)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("aboutCloseButton")
        close.setToolTip("Close this window")
        self.setWindowIcon(parent.windowIcon())
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.copied)
        layout.addWidget(buttons)

    def text(self) -> str:
        return self.label.text()

    def diagnostics(self) -> str:
        return self._bridge.session.diagnostics(keychain=self._keychain, qt_version=qVersion(),
                                                pyside_version=PySide6.__version__)

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics())
        self.copied.setText("Diagnostics copied to the clipboard (no keys; profile names and endpoints masked).")


def about_box(parent: QWidget, bridge: SessionBridge, keychain: str) -> AboutBox:
    return AboutBox(parent, bridge, keychain)

"""The window's menu bar (File: import/export profiles, quit; View: presenter mode, theme; Help: keyboard
shortcuts, about) and the About box."""

from __future__ import annotations

import html
import platform
from dataclasses import dataclass
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenuBar, QMessageBox, QWidget

from moments_desktop import APP_NAME, __version__
from moments_desktop.core import paths

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


def install_menus(bar: QMenuBar) -> MenuActions:
    file_menu = bar.addMenu("&File")
    import_action = file_menu.addAction("&Import profiles…")
    import_action.setObjectName("importProfilesAction")
    import_action.setStatusTip("Add profiles from a file exported by this app (API keys are never in it)")
    export_action = file_menu.addAction("&Export profiles…")
    export_action.setObjectName("exportProfilesAction")
    export_action.setStatusTip("Save all profiles to a file, without API keys")
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
                       shortcuts_action)


def about_html(keychain: str) -> str:
    def row(label: str, value: str) -> str:
        return f"<tr><td style='padding-right:12px'><b>{html.escape(label)}</b></td><td>{html.escape(value)}</td></tr>"

    rows = "".join([
        row("Version", __version__),
        row("Keychain", keychain),
        row("Profiles and settings", str(paths.config_dir())),
        row("Call journal", str(paths.data_dir())),
        row("Logs", str(paths.log_dir())),
        row("Runtime", f"Python {platform.python_version()}, Qt {qVersion()}"),
    ])
    return (f"<h3>{html.escape(APP_NAME)} {html.escape(__version__)}</h3>"
            "<p>Test and preview Amazon Moments rewards. API keys are kept only in the keychain.</p>"
            f"<table>{rows}</table>")


def about_box(parent: QWidget, keychain: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.NoIcon, f"About {APP_NAME}", about_html(keychain),
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("aboutBox")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setWindowIcon(parent.windowIcon())
    close = box.button(QMessageBox.StandardButton.Close)
    close.setObjectName("aboutCloseButton")
    close.setToolTip("Close this window")
    return box

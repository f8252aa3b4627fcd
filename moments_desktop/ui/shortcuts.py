"""Every keyboard shortcut of the main window, in one registry.

``SHORTCUTS`` is the list; ``install_shortcuts`` puts each on the window (a QAction per shortcut, or the
menu's own action), and Help > Keyboard shortcuts (``ShortcutsDialog``) is generated from the same list,
so what the dialog says and what the keys do cannot drift apart. The Message and Sweep tabs bind their
own run keys (they need the tab's state); their keys are read from those modules, not copied here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

# The keys the Message and Sweep tabs bind themselves (on the window, once built): here, so that this list does
# not import those tabs' modules at start-up (they are built on first show).
MESSAGE_PREVIEW_KEYS = ("Ctrl+Shift+Return", "Ctrl+Shift+Enter")
SWEEP_RUN_KEYS = ("Ctrl+Alt+Return", "Ctrl+Alt+Enter")

# Who binds a shortcut: the window (a QAction made here, named ``shortcut_<name>``), a menu action (its
# objectName), or a tab, which binds it itself (a QShortcut on the window).
WINDOW, MENU, TAB = "window", "menu", "tab"


@dataclass(frozen=True)
class Shortcut:
    name: str
    keys: tuple[str, ...]  # QKeySequence portable text (no QKeySequence at import: Qt may not be up); the first is the one the dialog shows first
    text: str  # what it does, as the dialog lists it
    section: str
    bound_by: str = WINDOW
    action_name: str = ""  # the QAction's objectName (menu shortcuts); derived for window ones

    @property
    def object_name(self) -> str:
        return self.action_name or f"shortcut_{self.name}"

    def sequences(self) -> list[QKeySequence]:
        return [QKeySequence(keys) for keys in self.keys]

    def key_text(self) -> str:
        """The keys as this platform writes them (Ctrl on Linux and Windows, ⌘ on macOS)."""
        return ", ".join(QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) for keys in self.keys)


REQUEST, PROFILES, TABS, IN_TABS, VIEW = "Request", "Profiles", "Tabs", "In the tabs", "Window"

# The window's tabs, by the MainWindow attribute holding each, and their keys: Alt+1 … Alt+5 in order, Alt+0 the
# customer stage (the first tab, there only in presenter mode).
TAB_SHORTCUTS = (("preview_panel", "Preview", "Alt+1"), ("raw_view", "Raw", "Alt+2"),
                 ("message_tab", "Message", "Alt+3"), ("sweep_tab", "Sweep", "Alt+4"),
                 ("history_view", "History", "Alt+5"), ("stage", "Stage (presenter mode)", "Alt+0"))

SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("preview", ("Ctrl+Return", "Ctrl+Enter"), "Preview the reward (free: getRewardInfo)", REQUEST),
    Shortcut("claim", ("Ctrl+Shift+G",), "Claim a reward… (opens the confirmation first; billed)", REQUEST),
    Shortcut("cancel", ("Ctrl+.",), "Cancel the preview or key test in flight (never a claim)", REQUEST),
    Shortcut("copy_as", ("Ctrl+Shift+C",), "Copy the request as cURL, HTTPie, Python, PowerShell or Braze", REQUEST),
    Shortcut("focus_profile", ("Ctrl+L",), "Go to the profile picker", PROFILES),
    Shortcut("save_profile", ("Ctrl+S",), "Save the profile's edited request", PROFILES),
    Shortcut("revert_profile", ("Ctrl+Shift+R",), "Revert the profile's unsaved edits", PROFILES),
    Shortcut("new_profile", ("Ctrl+N",), "New profile…", PROFILES),
    Shortcut("duplicate_profile", ("Ctrl+D",), "Duplicate the profile", PROFILES),
    Shortcut("rename_profile", ("F2",), "Rename the profile…", PROFILES),
    Shortcut("delete_profile", ("Ctrl+Shift+Delete",), "Delete the profile… (asks first)", PROFILES),
    Shortcut("profile_settings", ("Ctrl+,",), "Profile settings… (test mode or live, cost, notes)", PROFILES),
    Shortcut("import_profiles", ("Ctrl+O",), "Import profiles…", PROFILES, MENU, "importProfilesAction"),
    Shortcut("export_profiles", ("Ctrl+Shift+E",), "Export profiles…", PROFILES, MENU, "exportProfilesAction"),
    *(Shortcut(f"tab_{attribute}", (keys,), f"Show the {title} tab", TABS) for attribute, title, keys in TAB_SHORTCUTS),
    Shortcut("message_preview", MESSAGE_PREVIEW_KEYS, "Message tab: preview every outcome", IN_TABS, TAB),
    Shortcut("sweep_run", SWEEP_RUN_KEYS, "Sweep tab: run the sweep", IN_TABS, TAB),
    Shortcut("sweep_stop", ("Esc",), "Sweep tab: stop the sweep (while the tab has the focus)", IN_TABS, TAB),
    Shortcut("history_search", ("Ctrl+F",), "History tab: search", IN_TABS),
    Shortcut("presenter", ("Ctrl+Shift+P",), "Presenter mode on or off", VIEW, MENU, "presenterAction"),
    Shortcut("shortcuts", ("F1",), "Keyboard shortcuts (this list)", VIEW, MENU, "shortcutsAction"),
    Shortcut("quit", ("Ctrl+Q",), "Quit", VIEW, MENU, "quitAction"),  # Ctrl is ⌘ on macOS: Cmd+Q there
)


def by_name(name: str) -> Shortcut:
    return next(s for s in SHORTCUTS if s.name == name)


def install_shortcuts(window: QWidget, handlers: Mapping[str, Callable[[], object]]) -> dict[str, QAction]:
    """Bind every registered shortcut on ``window``: a QAction for each window shortcut (calling its handler,
    active wherever the focus is in the window), the keys on each menu action. Returns the actions by name."""
    actions: dict[str, QAction] = {}
    for shortcut in SHORTCUTS:
        if shortcut.bound_by == TAB:
            continue
        if shortcut.bound_by == MENU:
            action = window.findChild(QAction, shortcut.object_name)
            if action is None:
                raise LookupError(f"no menu action {shortcut.object_name} for the shortcut {shortcut.name}")
        else:
            handler = handlers[shortcut.name]
            action = QAction(shortcut.text, window)
            action.setObjectName(shortcut.object_name)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, run=handler: run())
            window.addAction(action)
        action.setShortcuts(shortcut.sequences())
        actions[shortcut.name] = action
    return actions


class ShortcutsDialog(QDialog):
    """Help > Keyboard shortcuts: the registry as a table, by section."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.setAccessibleDescription("Every keyboard shortcut of the main window, by section")
        layout = QVBoxLayout(self)
        intro = QLabel("Shortcuts work wherever the focus is in the main window.", self)
        intro.setObjectName("shortcutsIntro")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("shortcutsList")
        self.tree.setAccessibleName("Keyboard shortcuts")
        self.tree.setAccessibleDescription("Each action and its keys; sections group them")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)  # the action column takes the room, the keys fit
        sections: dict[str, QTreeWidgetItem] = {}
        for shortcut in SHORTCUTS:
            section = sections.get(shortcut.section)
            if section is None:
                section = sections[shortcut.section] = QTreeWidgetItem(self.tree, [shortcut.section, ""])
                font = section.font(0)
                font.setBold(True)
                section.setFont(0, font)
                section.setFlags(Qt.ItemFlag.ItemIsEnabled)
                section.setFirstColumnSpanned(True)
            QTreeWidgetItem(section, [shortcut.text, shortcut.key_text()])
        self.tree.expandAll()
        layout.addWidget(self.tree, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setObjectName("shortcutsButtons")
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        close.setAccessibleDescription("Close the list of keyboard shortcuts")
        layout.addWidget(buttons)
        self.resize(680, 720)  # every line whole (the texts are short sentences)

    def rows(self) -> list[tuple[str, str]]:
        """(action text, keys) of every listed shortcut, in order."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(i)
            for j in range(section.childCount()):
                item = section.child(j)
                rows.append((item.text(0), item.text(1)))
        return rows

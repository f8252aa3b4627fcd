"""One registry of shortcuts (ui/shortcuts.py): every entry is bound in the window, every key bound in the window
is in the registry, no key is bound twice, Help > Keyboard shortcuts lists them all, and the keys do what they say."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtTest import QTest

from moments_desktop.ui.shortcuts import MENU, SHORTCUTS, TAB, WINDOW, ShortcutsDialog, by_name

pytestmark = pytest.mark.gui


def bound_keys(window) -> dict[str, list[str]]:
    """Every key sequence bound on the window or below it (actions and shortcuts) → who binds it."""
    bound: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            bound.setdefault(sequence.toString(), []).append(action.objectName() or action.text())
    for shortcut in window.findChildren(QShortcut):
        if shortcut.key().isEmpty():
            continue
        bound.setdefault(shortcut.key().toString(), []).append(f"QShortcut on {shortcut.parent().objectName()}")
    return bound


def test_every_registered_shortcut_is_bound_and_every_bound_key_is_registered(harness):
    w = harness.window
    registered = {QKeySequence(k).toString(): s for s in SHORTCUTS for k in s.keys}
    assert len(registered) == sum(len(s.keys) for s in SHORTCUTS), "a key is registered twice"
    for shortcut in SHORTCUTS:
        if shortcut.bound_by in (WINDOW, MENU):
            action = w.findChild(QAction, shortcut.object_name)
            assert action is not None, shortcut.name
            assert [q.toString() for q in action.shortcuts()] == [q.toString() for q in shortcut.sequences()]
        else:
            assert shortcut.bound_by == TAB
            keys = {s.key().toString() for s in w.findChildren(QShortcut)}
            assert {q.toString() for q in shortcut.sequences()} <= keys, shortcut.name
    bound = bound_keys(w)
    assert set(bound) <= set(registered), f"bound but not listed in Help > Keyboard shortcuts: {set(bound) - set(registered)}"
    twice = {key: who for key, who in bound.items() if len(who) > 1}
    assert twice == {}  # two bindings of one key: Qt fires neither ("ambiguous shortcut")


def test_the_help_dialog_lists_every_shortcut(harness, in_loop, until):
    w = harness.window

    async def scenario():
        w.menu_actions.shortcuts.trigger()
        await until(lambda: w.shortcuts_dialog is not None and w.shortcuts_dialog.isVisible())
        dialog = w.shortcuts_dialog
        assert dialog.objectName() == "shortcutsDialog"
        assert dialog.rows() == [(s.text, s.key_text()) for s in SHORTCUTS]
        assert ("Claim a reward… (opens the confirmation first; billed)", "Ctrl+Shift+G") in dialog.rows()
        dialog.reject()

    in_loop(scenario)


def test_a_standalone_dialog_is_the_same_list(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    assert len(dialog.rows()) == len(SHORTCUTS)


def action(window, name):
    return window.findChild(QAction, by_name(name).object_name)


def test_the_keys_do_what_they_say(qtbot, harness, in_loop, until, sandbox):
    w = harness.window

    async def scenario():
        w.activateWindow()
        await until(lambda: w.isActiveWindow())
        # real key presses: Alt+5 shows History, Alt+1 the Preview tab
        QTest.keyClick(w.profile_combo, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
        await until(lambda: w.tabs.currentWidget() is w.history_view)
        QTest.keyClick(w.profile_combo, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
        await until(lambda: w.tabs.currentWidget() is w.preview_panel)
        # Ctrl+F: the History tab's search field
        QTest.keyClick(w.profile_combo, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: w.tabs.currentWidget() is w.history_view and w.focusWidget() is w.history_view.search_edit)
        # Ctrl+Return previews
        QTest.keyClick(w.history_view.search_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: not harness.bridge.busy and w.preview_panel.currentWidget() is w.preview_panel.card_page)
        # the claim key opens the confirmation and sends nothing by itself
        before = sandbox.admin.remaining("DEMOCAMP1", "US")
        action(w, "claim").trigger()
        await until(lambda: w.claim_flow.dialog is not None and w.claim_flow.dialog.isVisible())
        w.claim_flow.dialog.reject()
        await until(lambda: w.claim_flow.dialog is None)
        assert harness.journal.query({"endpoint": "GetReward"}) == []
        assert sandbox.admin.remaining("DEMOCAMP1", "US") == before
        # Ctrl+L: the profile picker; Ctrl+S saves an edit; an action whose button is disabled does nothing
        action(w, "focus_profile").trigger()
        assert w.focusWidget() is w.profile_combo
        assert not w.save_button.isEnabled()
        action(w, "save_profile").trigger()  # nothing to save: nothing happens
        assert not harness.bridge.profile_write_busy
        action(w, "shortcuts").trigger()
        await until(lambda: w.shortcuts_dialog is not None and w.shortcuts_dialog.isVisible())
        w.shortcuts_dialog.reject()

    in_loop(scenario)

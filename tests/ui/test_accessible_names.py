"""Every control a keyboard reaches has a name, and every button and field a description, as Qt's accessibility
interface reports them to a screen reader (QAccessible.queryAccessibleInterface): the main window, each tab,
each dialog. And the tab order walks the window's controls in reading order."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QRadioButton,
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton


def _internal(widget: QWidget) -> bool:
    """A part of a compound control (a combo box's or spin box's own line edit): named by its owner."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox)):
            return True
        parent = parent.parentWidget()
    return False


def needs_description(widget: QWidget) -> bool:
    return isinstance(widget, (QAbstractButton, QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QAbstractSpinBox))


def accessibility_problems(root: QWidget) -> tuple[list[str], int]:
    """(what is missing, how many controls were checked) over the visible, focusable widgets under ``root``."""
    problems, checked = [], 0
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.focusPolicy() == Qt.FocusPolicy.NoFocus or _internal(widget):
            continue
        if widget is root and not root.isWindow():
            continue
        iface = QAccessible.queryAccessibleInterface(widget)
        assert iface is not None and iface.isValid(), widget
        name = iface.text(QAccessible.Text.Name).strip()
        description = iface.text(QAccessible.Text.Description).strip()
        label = f"{type(widget).__name__}#{widget.objectName() or '?'}"
        checked += 1
        if not name:
            problems.append(f"{label}: no accessible name")
        if needs_description(widget) and not description:
            problems.append(f"{label} ({name}): no accessible description")
    return problems, checked


class Walk:
    """Collects what is missing over several views, so one run names every gap."""

    def __init__(self):
        self.problems: list[str] = []

    def check(self, root: QWidget, at_least: int = 1, where: str = "") -> None:
        problems, checked = accessibility_problems(root)
        self.problems += [f"{where or root.objectName()}: {p}" for p in problems]
        assert checked >= at_least, where  # the walk saw the controls (not a vacuous pass)

    def assert_complete(self) -> None:
        unique = list(dict.fromkeys(self.problems))
        assert not unique, "\n".join(unique)


def test_the_walk_finds_an_unnamed_control(qtbot):
    from PySide6.QtWidgets import QLineEdit, QPushButton, QVBoxLayout

    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    named = QPushButton("Save", root)
    named.setToolTip("Save the profile")
    bare = QLineEdit(root)
    bare.setObjectName("bare")
    layout.addWidget(named)
    layout.addWidget(bare)
    root.show()
    problems, checked = accessibility_problems(root)
    assert checked == 2
    assert problems == ["QLineEdit#bare: no accessible name", "QLineEdit#bare (): no accessible description"]
    bare.setAccessibleName("Search")
    bare.setAccessibleDescription("Searches the history")
    assert accessibility_problems(root) == ([], 2)


def test_main_window_and_every_tab_name_their_controls(harness, in_loop, until):
    w = harness.window
    walk = Walk()
    assert_accessible = walk.check

    async def scenario():
        assert_accessible(w, at_least=20)
        for index in range(w.tabs.count()):
            if not w.tabs.isTabVisible(index):
                continue
            w.tabs.setCurrentIndex(index)
            await until(lambda i=index: w.tabs.currentWidget().isVisible())
            if w.tabs.currentWidget() is w.preview_panel:
                w.preview()
                await until(lambda: not harness.bridge.busy
                            and w.preview_panel.currentWidget() is w.preview_panel.card_page)
            assert_accessible(w, at_least=20, where=w.tabs.tabText(index))
        w.tabs.setCurrentWidget(w.history_view)
        await until(lambda: w.history_view.model.rowCount() >= 1)
        w.history_view.select_row(0)
        await until(lambda: w.history_view.detail.entry is not None)
        assert_accessible(w, at_least=20, where="History detail")
        # the Message tab with every outcome rendered (frames with their buttons)
        w.tabs.setCurrentWidget(w.message_tab)
        assert w.message_tab.preview_outcomes()
        await until(lambda: not harness.bridge.busy and w.message_tab.columns())
        assert_accessible(w, at_least=20, where="Message after a preview")
        # the Preview tab after a claim (the reward URL with Copy and Open)
        w.tabs.setCurrentWidget(w.preview_panel)
        w.claim_button.click()
        await until(lambda: w.claim_flow.dialog is not None and w.claim_flow.dialog.isVisible())
        w.claim_flow.dialog.confirm_button.click()
        await until(lambda: not harness.bridge.busy and w.preview_panel.claim_banner.isVisible())
        assert_accessible(w, at_least=20, where="Preview after a claim")
        # presenter mode: the customer stage (after a preview) and the masked stand-ins of every tab
        harness.bridge.set_presenter(True)
        await until(lambda: w.tabs.indexOf(w.stage) >= 0 and w.tabs.isTabVisible(w.tabs.indexOf(w.stage)))
        w.tabs.setCurrentWidget(w.stage)
        w.preview()
        await until(lambda: not harness.bridge.busy)
        for index in range(w.tabs.count()):
            if w.tabs.isTabVisible(index):
                w.tabs.setCurrentIndex(index)
                await until(lambda: w.tabs.currentWidget().isVisible())
                assert_accessible(w, at_least=15, where=f"presenter mode, {w.tabs.tabText(index)}")
        harness.bridge.set_presenter(False)

    in_loop(scenario)
    walk.assert_complete()


def test_dialogs_name_their_controls(qtbot, harness, in_loop, until, tmp_path, sandbox):
    w = harness.window
    walk = Walk()
    assert_accessible = walk.check

    async def scenario():
        # the claim confirmation
        qtbot.mouseClick(w.claim_button, LEFT)
        dialog = w.claim_flow.dialog
        await until(lambda: dialog.isVisible())
        assert_accessible(dialog, at_least=2)
        dialog.reject()
        await until(lambda: w.claim_flow.dialog is None)
        # profile settings (on a profile of one's own: the demo's are fixed)
        w.ask_text = lambda *_args: "Mine"
        w.new_profile()
        await until(lambda: w.profile_combo.currentText().startswith("Mine") and w.settings_button.isEnabled())
        w.edit_settings()
        settings = w.settings_dialog
        await until(lambda: settings.isVisible())
        assert_accessible(settings, at_least=4)
        settings.reject()
        # the import report
        path = tmp_path / "in.json"
        path.write_text(json.dumps({"format": "moments-desktop-profiles", "schema_version": 1,
                                    "profiles": [dict(sandbox.demo_body, name="Imported")]}), encoding="utf-8")
        w.transfer.choose_import_path = lambda: str(path)
        w.menu_actions.import_profiles.trigger()
        await until(lambda: w.transfer.dialog is not None and w.transfer.dialog.isVisible())
        assert_accessible(w.transfer.dialog, at_least=2)
        w.transfer.dialog.reject()
        # Help > Keyboard shortcuts, Help > About
        w.menu_actions.shortcuts.trigger()
        await until(lambda: w.shortcuts_dialog is not None and w.shortcuts_dialog.isVisible())
        assert_accessible(w.shortcuts_dialog, at_least=2)
        w.shortcuts_dialog.reject()
        w.menu_actions.about.trigger()
        await until(lambda: w.about_box is not None and w.about_box.isVisible())
        assert_accessible(w.about_box, at_least=2)  # Copy diagnostics and Close
        w.about_box.reject()
        # File > Network settings… (the proxy): its modes, fields and buttons
        w.menu_actions.network_settings.trigger()
        await until(lambda: w.network_dialog is not None and w.network_dialog.isVisible())
        for button in w.network_dialog.findChildren(QRadioButton):
            if "Manual" in button.text().replace("&", ""):
                button.setChecked(True)  # the manual proxy's fields are enabled, so they are walked too
        assert_accessible(w.network_dialog, at_least=6)
        w.network_dialog.reject()

    in_loop(scenario)
    walk.assert_complete()


def focus_chain(window: QWidget, start: QWidget, steps: int) -> list[QWidget]:
    chain, widget = [], start
    for _ in range(steps):
        widget = widget.nextInFocusChain()
        while widget.focusPolicy() & Qt.FocusPolicy.TabFocus != Qt.FocusPolicy.TabFocus or not widget.isVisible() \
                or not widget.isEnabled():
            widget = widget.nextInFocusChain()
        chain.append(widget)
    return chain


def test_tab_order_reads_like_the_window(harness, in_loop, until):
    """Tab goes: profile picker → profile buttons → the request fields in order → Save/Revert → key → Preview,
    Claim, Copy as → the tabs."""
    w = harness.window

    async def scenario():
        order = focus_chain(w, w.profile_combo, 40)
        names = [x.objectName() for x in order]
        wanted = ["newProfileButton", "duplicateProfileButton", *(f"field_{n}" for n in w.form.editors),
                  "previewButton", "claimButton", "copyAsButton"]
        positions = [names.index(n) for n in wanted if n in names]
        assert len(positions) == len([n for n in wanted if n in names]) >= 8
        assert positions == sorted(positions), names
        tab_bar = w.tabs.findChild(QTabBar)
        assert names.index(tab_bar.objectName() or "qt_tabwidget_tabbar") > names.index("copyAsButton")

    in_loop(scenario)

"""Presenter mode, walked as a viewer of a shared screen would read it.

With a profile of long, distinctive identifiers (the sandbox catalog's fitness app), presenter mode is
turned on from the View menu and every visible widget of the main window, of each tab (Preview after a
preview and after a claim, Message, Sweep after a run, History with rows and its detail, and any other tab
shown) and of each dialog (claim confirmation, profile settings, the import report, the Braze warning of
Copy as, About, keyboard shortcuts when present) is read: its text, tooltip, status tip, placeholder, window
title, accessible name and description, combo items, tab texts and every model row of an item view
(display and tooltip). No identifier appears in clear (nor the part of it a mask must not keep), and never
the API key. Turning presenter mode off shows the values in clear again, and on again masks them again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.exports import ExportFormat
from moments_desktop.core.profiles import Profile
from moments_desktop.core.render import REVEAL_SECONDS, Renderer, kept_characters

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton

# The sandbox catalog's second app: identifiers long enough that a mask keeps some of their characters.
APP_ID = "3f6c2a8e-5b1d-4e7f-9a0c-7d2e4b6f8a10"
KEY = "sandbox-fit-key-0001"
VALUES = {"appId": APP_ID, "momentId": "WORKOUT_DONE", "deviceType": "Android", "campaignId": "FITLIVE1",
          "rewardGroupId": "amz1yprime"}
PROFILE_NAME = "Zephyrquill Labs"
NOTES = "FITLIVE1 runs for Zephyrquill Labs until March"
IMPORTED_NAME = "Quorvex Staging"


# --- reading the screen ---------------------------------------------------------------------------


def _columns(model, parent: QModelIndex) -> int:
    try:
        return model.columnCount(parent)
    except TypeError:  # a list model keeps it private: one column
        return 1


def _model_texts(model, parent: QModelIndex = QModelIndex()) -> list[str]:
    texts = []
    if model is None:
        return texts
    for row in range(model.rowCount(parent)):
        for column in range(max(1, _columns(model, parent))):
            index = model.index(row, column, parent)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                         Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.StatusTipRole):
                value = index.data(role)
                if isinstance(value, str):
                    texts.append(value)
        first = model.index(row, 0, parent)
        if first.isValid() and model.rowCount(first) > 0:
            texts += _model_texts(model, first)
    for column in range(_columns(model, parent)):
        header = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        if isinstance(header, str):
            texts.append(header)
    return texts


def menu_texts(menu) -> list[str]:
    texts = [menu.title()]
    for action in menu.actions():
        texts += [action.text(), action.toolTip(), action.statusTip()]
        if action.menu() is not None:
            texts += menu_texts(action.menu())
    return texts


def widget_texts(widget: QWidget) -> list[str]:
    """Everything this one widget shows or tells assistive technology."""
    texts = [widget.windowTitle(), widget.toolTip(), widget.statusTip(), widget.whatsThis(),
             widget.accessibleName(), widget.accessibleDescription()]
    if isinstance(widget, QLabel):
        texts.append(widget.text())
    if isinstance(widget, QAbstractButton):
        texts.append(widget.text())
        menu = getattr(widget, "menu", None)  # a QPushButton's or QToolButton's
        if callable(menu) and menu() is not None:
            texts += menu_texts(menu())
    if isinstance(widget, QGroupBox):
        texts.append(widget.title())
    if isinstance(widget, QLineEdit):
        texts += [widget.displayText(), widget.placeholderText()]  # what is drawn (a password field: dots)
    if isinstance(widget, (QPlainTextEdit, QTextEdit)):
        texts += [widget.toPlainText(), widget.placeholderText()]
    if isinstance(widget, QAbstractSpinBox):
        texts.append(widget.text())
    if isinstance(widget, QComboBox):
        texts.append(widget.currentText())
        for i in range(widget.count()):
            texts.append(widget.itemText(i))
            tip = widget.itemData(i, Qt.ItemDataRole.ToolTipRole)
            if isinstance(tip, str):
                texts.append(tip)
    if isinstance(widget, QTabBar):
        for i in range(widget.count()):
            if widget.isTabVisible(i):
                texts += [widget.tabText(i), widget.tabToolTip(i), widget.accessibleTabName(i)]
    if isinstance(widget, QAbstractItemView) and not isinstance(widget.parentWidget(), QComboBox):
        texts += _model_texts(widget.model())
    return [text for text in texts if text]


def screen_text(root: QWidget, *, visible_only: bool = True) -> str:
    """The texts of ``root`` and of every widget under it that is on screen (a hidden tab page, a hidden
    field: not read), plus the menu bar's and the status bar's."""
    widgets = [root, *root.findChildren(QWidget)]
    texts: list[str] = []
    for widget in widgets:
        if visible_only and not widget.isVisible():
            continue
        texts += widget_texts(widget)
    if hasattr(root, "menuBar"):
        for menu_action in root.menuBar().actions():
            texts += [menu_action.text(), menu_action.toolTip(), menu_action.statusTip()]
            if menu_action.menu() is not None:
                texts += menu_texts(menu_action.menu())
        texts.append(root.statusBar().currentMessage())
    return "\n".join(texts)


class Secrets:
    """The values a shared screen must not show: each identifier in clear, and the part of it a mask never
    keeps (everything but its last characters); the API key, whole or in part; the reward URLs' codes."""

    def __init__(self, identifiers: Iterable[str], key: str):
        self.identifiers = [value for value in identifiers if value]
        self.key = key
        self.reward_urls: list[str] = []

    def forbidden(self) -> list[str]:
        found = []
        for value in self.identifiers:
            found.append(value)
            hidden_part = value[: len(value) - kept_characters(len(value))]
            if len(hidden_part) >= 5:
                found.append(hidden_part)
        found += [self.key, self.key[: len(self.key) // 2]]
        for url in self.reward_urls:
            found.append(url)
            found += [part for part in url.split("/")[3:] if len(part) >= 5 and part != "__sandbox"]
        return found

    def assert_masked(self, text: str, where: str) -> None:
        shown = [value for value in self.forbidden() if value in text]
        assert not shown, f"in clear in {where}: {shown}"

    def assert_clear(self, text: str, where: str, values: Iterable[str]) -> None:
        missing = [value for value in values if value not in text]
        assert not missing, f"not shown in clear in {where} with presenter mode off: {missing}"


def tab_names(window) -> list[str]:
    tabs = window.tabs
    return [tabs.tabText(i) for i in range(tabs.count()) if tabs.isTabVisible(i)]


def walk_tabs(window, secrets: Secrets, where: str) -> dict[str, str]:
    """Each visible tab made current, the whole window read (no secret in it); what each tab's page showed."""
    tabs = window.tabs
    shown = {}
    current = tabs.currentIndex()
    for i in range(tabs.count()):
        if not tabs.isTabVisible(i):
            continue
        tabs.setCurrentIndex(i)
        secrets.assert_masked(screen_text(window), f"the {tabs.tabText(i)!r} tab ({where})")
        shown[tabs.tabText(i)] = screen_text(tabs.currentWidget())
    tabs.setCurrentIndex(current)
    return shown


def add_profile(harness, sandbox, **overrides) -> Profile:
    values = dict(VALUES, base_url=sandbox.base_url, live=True, cost_per_action=Decimal("0.25"), currency="EUR",
                  notes=NOTES) | overrides
    profile = harness.profiles.add(Profile(name=PROFILE_NAME, **values))
    harness.credentials.set_key(profile.id, KEY)
    window = harness.window
    window.refresh_profile_list()
    window.profile_combo.setCurrentIndex(window.profile_combo.findData(profile.id))
    return profile


def presenter_action(window):
    return window.menu_actions.presenter


# --- the main window and its tabs ---------------------------------------------------------------------


def test_presenter_mode_masks_every_tab_and_off_shows_them_again(qtbot, harness, in_loop, until, sandbox):
    window = harness.window
    bridge = harness.bridge
    panel = window.preview_panel
    secrets = Secrets([*VALUES.values(), PROFILE_NAME, "Sandbox demo"] , KEY)
    secrets.identifiers.remove("Android")  # the device type is an enum of the API, not an identifier
    window.show_error = lambda error: pytest.fail(f"an error was shown: {error}")
    add_profile(harness, sandbox)
    window.key_edit.setText("typed-but-unsaved-key-9876")
    typed_key = window.key_edit.text()

    async def scenario():
        # Off: the form shows the profile's values in clear.
        clear = screen_text(window)
        secrets.assert_clear(clear, "the window", [APP_ID, "FITLIVE1", "amz1yprime", PROFILE_NAME])

        presenter_action(window).trigger()  # View > Presenter mode
        assert bridge.presenter and presenter_action(window).isChecked()
        assert "Raw" not in tab_names(window)  # raw exchanges are not shown
        assert "Stage" in tab_names(window)  # the customer stage (presenter_stage.py)
        assert not window.key_edit.isVisible() and window.key_hidden.isVisible()
        assert not window.show_key_button.isEnabled() and not window.save_key_button.isEnabled()
        for name, editor in window.form.editors.items():  # masked, read-only, with the reason in a tooltip
            masked = window.form.masked_views[name]
            assert not editor.isVisible() and masked.isVisible() and masked.isReadOnly()
            assert "presenter mode off" in masked.toolTip()
        secrets.assert_masked(screen_text(window), "the window before any call")
        assert typed_key not in screen_text(window)

        # Preview: the real values are sent (the form keeps them), the card shows the reward.
        qtbot.mouseClick(window.preview_button, LEFT)
        await until(lambda: panel.currentWidget() is panel.card_page and not bridge.busy)
        assert panel.text_label.text()
        walk_tabs(window, secrets, "after a preview")

        # The claim confirmation, masked; turned off and on while it is open, it follows.
        window.tabs.setCurrentWidget(panel)
        qtbot.mouseClick(window.claim_button, LEFT)
        dialog = window.claim_flow.dialog
        assert dialog is not None and dialog.isVisible()
        secrets.assert_masked(screen_text(dialog), "the claim confirmation")
        bridge.set_presenter(False)
        secrets.assert_clear(screen_text(dialog), "the claim confirmation", [APP_ID, "FITLIVE1", PROFILE_NAME])
        bridge.set_presenter(True)
        secrets.assert_masked(screen_text(dialog), "the claim confirmation, masked again")
        assert dialog.typed_edit.echoMode() == QLineEdit.EchoMode.Password  # the typed campaign ID is not drawn
        dialog.typed_edit.setText("FITLIVE1")
        qtbot.mouseClick(dialog.confirm_button, LEFT)
        # (Presenter mode turned on again made the Stage tab current; the Preview tab has the result too.)
        await until(lambda: not bridge.busy and panel.claim_banner.isVisibleTo(panel))
        reward_url = sandbox.admin.ledger()[0]["reward_url"]
        secrets.reward_urls.append(reward_url)
        walk_tabs(window, secrets, "after a claim")

        # The stage shows the claim's URL masked too, with the same Reveal.
        window.tabs.setCurrentWidget(window.stage)
        await until(lambda: window.stage.claim_view.isVisible())
        assert window.stage.claim_view.reveal_button.isVisible()
        assert window.stage.claim_view.url_edit.text() != reward_url

        # Reveal: in clear for a few seconds on a click, then masked again; Copy copies the real URL.
        banner = panel.claim_banner
        window.tabs.setCurrentWidget(panel)
        assert banner.reveal_button.isVisible()
        assert banner.reveal_timer.interval() == REVEAL_SECONDS * 1000
        banner.reveal_timer.setInterval(50)  # the same timer, run short: the test need not wait 5 s
        qtbot.mouseClick(banner.reveal_button, LEFT)
        assert banner.url_edit.text() == reward_url
        await until(lambda: not banner.revealed)
        assert banner.url_edit.text() != reward_url
        secrets.assert_masked(screen_text(window), "the Preview tab after the reveal")
        banner.copy_button.click()
        assert QGuiApplication.clipboard().text() == reward_url

        # Message: every outcome, rendered against the real answers.
        tab = window.message_tab
        window.tabs.setCurrentWidget(tab)
        assert tab.preview_outcomes()
        await until(lambda: not bridge.busy and tab.columns(), 15_000)

        # Sweep: a run over catalog choices and typed values.
        sweep = window.sweep_tab
        window.tabs.setCurrentWidget(sweep)
        sweep.load_choices_now()
        await until(lambda: sweep.fields["campaignId"].has_choices, 10_000)
        sweep.fields["deviceType"].set_checked(["Android", "iOS"])
        sweep.fields["rewardGroupId"].typed.setPlainText("amz1yprime\nDE")
        sweep.rerender()  # typed while presenter mode is on (a test shortcut): shown masked
        assert sweep.run(), sweep.plan_label.text()
        await until(lambda: not bridge.sweep_running and sweep.result() is not None, 20_000)

        # History: rows, and the detail of each.
        history = window.history_view
        window.tabs.setCurrentWidget(history)
        await until(lambda: history.model.rowCount() >= 3 and history.model.is_loaded(0))
        for row in range(history.model.rowCount()):
            history.select_row(row)
            await until(lambda: history.detail.entry is not None)
            secrets.assert_masked(screen_text(window), f"the history detail of row {row}")
        claim_row = next(r for r in range(history.model.rowCount()) if history.model.entry(r).reward_url)
        history.select_row(claim_row)
        await until(lambda: history.detail.entry is not None and history.detail.entry.reward_url)
        detail = history.detail
        assert detail.reveal_button.isVisible()
        detail.reveal_timer.setInterval(50)
        qtbot.mouseClick(detail.reveal_button, LEFT)
        assert reward_url in detail.text.toPlainText()
        await until(lambda: not detail.revealed)
        assert reward_url not in detail.text.toPlainText()
        shown_on = walk_tabs(window, secrets, "with every tab filled")
        assert set(shown_on) >= {"Stage", "Preview", "Message", "Sweep", "History"}

        # Off: the same screens show the values in clear again (Raw comes back, the key field too).
        presenter_action(window).trigger()
        assert not bridge.presenter
        assert "Raw" in tab_names(window) and "Stage" not in tab_names(window)
        assert window.key_edit.isVisible() and window.key_edit.text() == typed_key and not window.key_hidden.isVisible()
        assert window.show_key_button.isEnabled()
        shown_off = walk_tabs(window, secrets=Secrets([], "not-a-key-at-all"), where="presenter mode off")
        secrets.assert_clear(screen_text(window), "the window", [APP_ID, "FITLIVE1", PROFILE_NAME])
        secrets.assert_clear(shown_off["Preview"], "the Preview tab", [reward_url])
        secrets.assert_clear(shown_off["Raw"], "the Raw tab", ["FITLIVE1", "amz1yprime"])
        secrets.assert_clear(shown_off["Sweep"], "the Sweep tab", ["amz1yprime", "FITLIVE1"])
        secrets.assert_clear(shown_off["History"], "the History tab", [PROFILE_NAME, "FITLIVE1", reward_url])
        assert KEY not in "\n".join(shown_off.values())  # the key is never drawn, presenter mode or not
        for name, editor in window.form.editors.items():
            assert editor.isVisible() and not window.form.masked_views[name].isVisible()
        assert window.form.fields() == VALUES  # the real values were kept all along

        # On again: masked again, everywhere.
        presenter_action(window).trigger()
        walk_tabs(window, secrets, "presenter mode on again")
        # Masking is on the screen only: the sandbox got the one confirmed claim, with the real values.
        assert len(sandbox.admin.ledger()) == 1  # one claim, confirmed once; the sweep claimed nothing

    in_loop(scenario)


# --- the dialogs ----------------------------------------------------------------------------------------


def test_presenter_mode_masks_every_dialog_and_off_shows_them_again(qtbot, harness, in_loop, until, sandbox,
                                                                     tmp_path):
    window = harness.window
    bridge = harness.bridge
    profile = add_profile(harness, sandbox)
    secrets = Secrets([APP_ID, "WORKOUT_DONE", "FITLIVE1", "amz1yprime", PROFILE_NAME, IMPORTED_NAME, "Sandbox demo"],
                      KEY)
    errors: list = []
    window.show_error = errors.append
    import_file = tmp_path / "import.json"
    import_file.write_text(json.dumps({"profiles": [
        {"name": IMPORTED_NAME, "base_url": sandbox.base_url, **VALUES, "live": False},
        {"name": "Zephyrquill Labs broken", "base_url": "not a url", **VALUES}]}), encoding="utf-8")

    async def scenario():
        presenter_action(window).trigger()
        assert bridge.presenter

        # Profile settings: the title masked, the notes (which name a campaign) not drawn.
        window.edit_settings()
        settings = window.settings_dialog
        await until(lambda: settings.isVisible())
        secrets.assert_masked(screen_text(settings), "the profile settings")
        assert not settings.notes_edit.isVisible() and settings.notes_hidden.isVisible()
        bridge.set_presenter(False)  # (the menu is behind the window-modal dialog; the switch itself)
        secrets.assert_clear(screen_text(settings), "the profile settings", [PROFILE_NAME, NOTES])
        bridge.set_presenter(True)
        secrets.assert_masked(screen_text(settings), "the profile settings, masked again")
        saved = []
        bridge.profile_settings_saved.connect(lambda pid, result: saved.append(result))
        settings.save_button.click()  # saved while the notes were hidden: they are kept as they were
        await until(lambda: bool(saved))
        assert harness.profiles.get(profile.id).notes == NOTES

        # The import report.
        transfer = window.transfer
        transfer.choose_import_path = lambda: str(import_file)
        transfer.import_profiles()
        await until(lambda: transfer.dialog is not None and transfer.dialog.isVisible())
        report = transfer.dialog
        secrets.assert_masked(screen_text(report), "the import report")
        bridge.set_presenter(False)
        secrets.assert_clear(screen_text(report), "the import report", [IMPORTED_NAME])
        bridge.set_presenter(True)
        secrets.assert_masked(screen_text(report), "the import report, masked again")
        report.accept()  # imports the valid one; the status bar names it, masked
        await until(lambda: "Imported" in window.statusBar().currentMessage())
        secrets.assert_masked(screen_text(window), "the window after the import")
        assert any(p.name == IMPORTED_NAME for p in harness.profiles.profiles())

        # Copy as: the Braze GetReward warning shows the tag as a screen may (masked).
        boxes = []

        def confirm(export):
            box = window.copy_as.billed_braze_box(export)
            boxes.append(screen_text(box, visible_only=False))
            box.deleteLater()
            return True

        window.copy_as.confirm_billed_braze = confirm
        window.copy_as.copy(Endpoint.GET_REWARD, ExportFormat.BRAZE)
        await until(lambda: bool(boxes) and "Copied" in window.statusBar().currentMessage())
        secrets.assert_masked(boxes[0], "the Copy as warning")
        assert "FITLIVE1" in QGuiApplication.clipboard().text()  # the clipboard gets the real tag
        secrets.assert_masked(screen_text(window), "the window after Copy as")

        # About, and Help > Keyboard shortcuts when the window has it.
        window.show_about()
        secrets.assert_masked(screen_text(window.about_box), "the About box")
        window.about_box.close()
        window.menu_actions.shortcuts.trigger()
        shortcuts = [w for w in QApplication.topLevelWidgets()
                     if w.objectName() == "shortcutsDialog" and w.isVisible()]
        if hasattr(window, "show_shortcuts"):  # Help > Keyboard shortcuts (ui/shortcuts.py)
            assert shortcuts, "Help > Keyboard shortcuts opened no dialog"
        for dialog in shortcuts:
            secrets.assert_masked(screen_text(dialog), "the keyboard shortcuts")
            dialog.close()

        # Rename and delete ask with the name masked (and rename does not put it into an editable field).
        asked = []
        window.ask_text = lambda title, label, default="": asked.append((title, label, default)) and None
        window.ask_confirm = lambda text, title="": asked.append((title, text)) and False
        window.rename_profile()
        window.delete_profile()
        secrets.assert_masked(repr(asked), "the rename and delete questions")
        assert len(asked) == 2

        # Off: the picker, the status bar and the dialogs show the names again.
        presenter_action(window).trigger()
        asked.clear()
        window.rename_profile()
        assert asked[0][2] == PROFILE_NAME
        secrets.assert_clear(screen_text(window), "the window", [PROFILE_NAME, APP_ID, "FITLIVE1"])

    in_loop(scenario)
    assert errors == []


def test_the_window_opens_in_presenter_mode_before_it_is_drawn(make_harness, sandbox):
    """What ``moments-desktop --presenter`` gives the window: a masked renderer from the start."""
    harness = make_harness(renderer=Renderer(masked=True))
    window = harness.window
    assert harness.bridge.presenter and window.menu_actions.presenter.isChecked()
    assert "Raw" not in tab_names(window)
    assert not window.key_edit.isVisibleTo(window) and window.key_hidden.isVisibleTo(window.key_group)
    assert all(view.isVisible() for view in window.form.masked_views.values())
    text = screen_text(window)
    Secrets(["DEMO1", "GAME_COMPLETE", "DEMOCAMP1", "Sandbox demo"], sandbox.demo_key).assert_masked(text, "the window")
    assert window.form.fields()["campaignId"] == "DEMOCAMP1"  # the real value behind the mask


def test_the_presenter_flag_starts_the_session_masked(tmp_path, in_loop):
    from moments_desktop.app import DesktopApp, build_parser
    from moments_desktop.core.journal import Journal
    from moments_desktop.core.profiles import ProfileStore

    assert build_parser().parse_args(["--presenter"]).presenter is True
    assert build_parser().parse_args([]).presenter is False
    for presenter in (True, False):
        desktop = DesktopApp(use_sandbox=False, presenter=presenter)
        desktop.profiles = ProfileStore(tmp_path / f"profiles-{presenter}.json")
        desktop.journal = Journal(tmp_path / f"journal-{presenter}.sqlite3")

        async def build_and_close():
            session = desktop.make_session()
            try:
                return session.presenter, session.renderer.identifier("FITLIVE1")
            finally:
                await session.aclose()

        on, shown = in_loop(build_and_close)
        assert on is presenter
        assert (shown == "FITLIVE1") is not presenter

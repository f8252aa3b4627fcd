"""View > Theme: light, dark or the system's scheme, applied to the whole app (its QPalette and every style sheet
built from the theme's roles), kept in window.ini for the next start, and followed live while "system"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from moments_desktop.api_schema import Outcome
from moments_desktop.ui import theme
from moments_desktop.ui.history_model import outcome_colour
from moments_desktop.ui.main_window import window_settings

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _back_to_the_system_scheme():
    yield
    theme.current().set_choice("system")  # the next test starts as a fresh app would (offscreen: light)


def window_colour() -> str:
    return QApplication.palette().color(QPalette.ColorRole.Window).name()


def test_choosing_dark_then_light_restyles_the_app_and_is_kept(harness, in_loop, until):
    w = harness.window
    seen = []
    theme.current().changed.connect(seen.append)

    async def scenario():
        assert w.menu_actions.themes["system"].isChecked()
        assert theme.current().palette is theme.LIGHT and window_colour() == theme.LIGHT.window
        w.menu_actions.themes["dark"].trigger()
        await until(lambda: window_colour() == theme.DARK.window)
        assert seen == [theme.DARK]
        assert w.menu_actions.themes["dark"].isChecked() and not w.menu_actions.themes["system"].isChecked()
        # the style sheets built from roles follow: the test-mode badge, the claim button, the preview card
        assert theme.DARK.info_background in w.mode_badge.styleSheet()
        assert theme.DARK.billed in w.claim_button.styleSheet() and theme.LIGHT.billed not in w.claim_button.styleSheet()
        assert theme.DARK.base in w.preview_panel.styleSheet()
        assert QApplication.palette().color(QPalette.ColorRole.Text).name() == theme.DARK.text
        assert outcome_colour(Outcome.SUCCESS).name() == theme.DARK.success
        assert window_settings().value(theme.THEME_SETTING) == "dark"
        # a widget made while dark is dark too
        w.preview()
        await until(lambda: not harness.bridge.busy and w.preview_panel.currentWidget() is w.preview_panel.card_page)
        w.menu_actions.themes["light"].trigger()
        await until(lambda: window_colour() == theme.LIGHT.window)
        assert theme.LIGHT.info_background in w.mode_badge.styleSheet()
        assert window_settings().value(theme.THEME_SETTING) == "light"

    in_loop(scenario)
    theme.current().changed.disconnect(seen.append)


def test_the_saved_choice_is_used_at_the_next_start(make_harness, in_loop):
    settings = window_settings()
    settings.setValue(theme.THEME_SETTING, "dark")
    settings.sync()
    h = make_harness()
    assert h.window.menu_actions.themes["dark"].isChecked()
    assert theme.current().palette is theme.DARK and window_colour() == theme.DARK.window


def test_an_unknown_saved_choice_means_the_system(make_harness):
    settings = window_settings()
    settings.setValue(theme.THEME_SETTING, "sepia")
    settings.sync()
    h = make_harness()
    assert h.window.menu_actions.themes["system"].isChecked() and theme.current().choice == "system"


def test_following_the_system_scheme_live(harness, in_loop, until, monkeypatch):
    """The offscreen platform has no scheme of its own: the system's answer is stood in for, and its
    change signal emitted as the platform would."""
    w = harness.window
    hints = QGuiApplication.styleHints()

    async def scenario():
        monkeypatch.setattr(theme, "system_scheme", lambda: "dark")
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        await until(lambda: window_colour() == theme.DARK.window)
        assert theme.DARK.info_background in w.mode_badge.styleSheet()
        # a manual choice wins over the system's
        w.menu_actions.themes["light"].trigger()
        await until(lambda: window_colour() == theme.LIGHT.window)
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        await until(lambda: True)
        assert window_colour() == theme.LIGHT.window
        # back to following: the system's (dark) scheme again, and its change to light
        w.menu_actions.themes["system"].trigger()
        await until(lambda: window_colour() == theme.DARK.window)
        monkeypatch.setattr(theme, "system_scheme", lambda: "light")
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        await until(lambda: window_colour() == theme.LIGHT.window)

    in_loop(scenario)


def test_every_role_differs_between_light_and_dark_where_it_must():
    """The dark palette is not the light one renamed: backgrounds are dark, text is light."""
    from PySide6.QtGui import QColor

    for p in (theme.LIGHT, theme.DARK):
        for background, foreground in (("window", "text"), ("base", "text"), ("danger", "on_danger"),
                                       ("accent", "on_accent"), ("billed", "on_billed"), ("redeem", "on_redeem"),
                                       ("success_background", "success"), ("warning_background", "warning"),
                                       ("danger_background", "danger"), ("info_background", "info")):
            b, f = QColor(getattr(p, background)), QColor(getattr(p, foreground))
            assert abs(b.lightnessF() - f.lightnessF()) > 0.35, (p.name, background, foreground)
    assert QColor(theme.DARK.window).lightnessF() < 0.2 < 0.9 < QColor(theme.LIGHT.base).lightnessF()

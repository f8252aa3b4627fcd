"""The one place for colours and type sizes: a palette for light and one for dark, and the current theme.

Widgets never spell a colour; they ask ``current()`` for a role (``current().palette.danger``) and, when
what they draw depends on it, connect to ``current().changed`` to redraw (Spyder's palette + observer model).
Style sheets are built from roles too (``palette.css(...)`` helpers), so a change of scheme reaches them.

(Step 13 skeleton: the roles and the two palettes. Following the system's scheme, the manual override
(View > Theme) and applying the palette to the QApplication come with the theme work.)
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor


@dataclass(frozen=True)
class ThemePalette:
    """Colour roles by meaning, as '#rrggbb' strings (style sheets take them as they are; QColor(role) too)."""

    name: str  # "light" or "dark"
    window: str
    base: str  # cards, text fields
    alternate_base: str
    text: str
    muted_text: str  # notes, hints, placeholders
    border: str
    accent: str  # links, focus, selection
    on_accent: str
    success: str
    success_background: str
    warning: str
    warning_background: str
    danger: str  # errors, LIVE, the billed action
    danger_background: str
    on_danger: str
    info: str  # test mode, pending
    info_background: str
    unknown: str  # an outcome nobody knows (a claim sent, no answer)
    neutral: str  # not sent, no reward
    change: str  # a sweep card that changed since the baseline
    redeem: str  # the customer's "Redeem now" button (Amazon's yellow)
    redeem_hover: str
    on_redeem: str

    def qcolor(self, role: str) -> QColor:
        return QColor(getattr(self, role))


LIGHT = ThemePalette(
    name="light", window="#f5f6f8", base="#ffffff", alternate_base="#eef0f3", text="#0f1111", muted_text="#5f6b7a",
    border="#d0d4d9", accent="#0b63c5", on_accent="#ffffff",
    success="#2e7d32", success_background="#edf7ee", warning="#c77700", warning_background="#fff6e0",
    danger="#b3261e", danger_background="#fff4f2", on_danger="#ffffff",
    info="#0b3d66", info_background="#e3f0fb", unknown="#e65100", neutral="#6b7480", change="#7b1fa2",
    redeem="#ffd814", redeem_hover="#f7ca00", on_redeem="#0f1111",
)

DARK = ThemePalette(
    name="dark", window="#1e2126", base="#262a30", alternate_base="#2f343b", text="#e8eaed", muted_text="#9aa4b1",
    border="#454c56", accent="#6ea8ff", on_accent="#0f1111",
    success="#7cc47f", success_background="#1f3322", warning="#f0b44c", warning_background="#3a2e14",
    danger="#ff8a80", danger_background="#3d2220", on_danger="#1e2126",
    info="#8cc4f5", info_background="#1d3047", unknown="#ffab66", neutral="#a0a8b3", change="#ce93d8",
    redeem="#ffd814", redeem_hover="#f7ca00", on_redeem="#0f1111",
)


class Theme(QObject):
    """The current palette; ``changed`` is emitted after it switched (system scheme or the user's choice)."""

    changed = Signal(object)  # the new ThemePalette

    def __init__(self, palette: ThemePalette = LIGHT, parent: QObject | None = None):
        super().__init__(parent)
        self.palette = palette

    def set_palette(self, palette: ThemePalette) -> None:
        if palette is not self.palette:
            self.palette = palette
            self.changed.emit(palette)


_CURRENT: Theme | None = None


def current() -> Theme:
    """The application's one Theme (made on first use, on the UI thread)."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = Theme()
    return _CURRENT

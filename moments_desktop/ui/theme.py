"""The one place for colours and type sizes: a palette for light and one for dark, and the current theme.

Widgets never spell a colour; they ask ``current()`` for a role (``current().palette.danger``) and, when
what they draw depends on it, connect to ``current().changed`` to redraw (Spyder's palette + observer model).
Style sheets are built from roles too: ``styled(widget, build)`` sets ``build(palette)`` on the widget now and
again after every change of scheme, for as long as the widget lives.

Which palette is current: the user's choice (View > Theme: follow the system, light or dark; kept in the
window settings under ``THEME_SETTING``) and, while it is "system", the system's colour scheme
(``QStyleHints.colorScheme()``, followed live through ``colorSchemeChanged``). The palette is applied to the
QApplication as a QPalette, under the Fusion style (``install``), so dark works on every platform (the native
Windows and macOS styles ignore an application palette).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from moments_desktop.core.resources import ResourceNotFound, resource_path

ICON_FILES = ("moments-desktop-48.png", "moments-desktop-256.png")  # in resources/icons
THEME_SETTING = "theme"  # key in window.ini
THEME_CHOICES = ("system", "light", "dark")
DEFAULT_CHOICE = "system"


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
    danger: str  # errors, LIVE
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
    declined: str = "#5c6bc0"  # the history's "no reward" (an answer without a reward)
    billed: str = "#c2410c"  # the billed action's button (Claim reward…)
    on_billed: str = "#ffffff"

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def qcolor(self, role: str) -> QColor:
        return QColor(getattr(self, role))

    def mix(self, colour: str, other: str | None = None, amount: float = 0.85) -> str:
        """``colour`` blended toward ``other`` (default: the base) by ``amount`` (0 = colour, 1 = other)."""
        a, b = QColor(colour), QColor(other or self.base)
        blend = [round(x + (y - x) * amount) for x, y in ((a.red(), b.red()), (a.green(), b.green()),
                                                          (a.blue(), b.blue()))]
        return QColor(*blend).name()

    def hover(self, colour: str) -> str:
        """A filled button's colour under the mouse: darker on light, lighter on dark."""
        c = QColor(colour)
        return (c.lighter(115) if self.dark else c.darker(118)).name()


LIGHT = ThemePalette(
    name="light", window="#f5f6f8", base="#ffffff", alternate_base="#eef0f3", text="#0f1111", muted_text="#5f6b7a",
    border="#d0d4d9", accent="#0b63c5", on_accent="#ffffff",
    success="#2e7d32", success_background="#edf7ee", warning="#c77700", warning_background="#fff6e0",
    danger="#b3261e", danger_background="#fff4f2", on_danger="#ffffff",
    info="#0b3d66", info_background="#e3f0fb", unknown="#e65100", neutral="#6b7480", change="#7b1fa2",
    redeem="#ffd814", redeem_hover="#f7ca00", on_redeem="#0f1111",
    declined="#5c6bc0", billed="#c2410c", on_billed="#ffffff",
)

DARK = ThemePalette(
    name="dark", window="#1e2126", base="#262a30", alternate_base="#2f343b", text="#e8eaed", muted_text="#9aa4b1",
    border="#454c56", accent="#6ea8ff", on_accent="#0f1111",
    success="#7cc47f", success_background="#1f3322", warning="#f0b44c", warning_background="#3a2e14",
    danger="#ff8a80", danger_background="#3d2220", on_danger="#1e2126",
    info="#8cc4f5", info_background="#1d3047", unknown="#ffab66", neutral="#a0a8b3", change="#ce93d8",
    redeem="#ffd814", redeem_hover="#f7ca00", on_redeem="#0f1111",
    declined="#9fa8da", billed="#ff9e66", on_billed="#1e2126",
)

PALETTES = {"light": LIGHT, "dark": DARK}


def qpalette(p: ThemePalette) -> QPalette:
    """The Qt palette for a theme palette (what plain widgets and ``palette(...)`` in style sheets use)."""
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    pal = QPalette()
    button = p.alternate_base if p.dark else p.mix(p.window, "#ffffff", 0.5)
    roles = {
        R.Window: p.window, R.WindowText: p.text, R.Base: p.base, R.AlternateBase: p.alternate_base,
        R.Text: p.text, R.Button: button, R.ButtonText: p.text, R.BrightText: p.danger,
        R.Highlight: p.accent, R.HighlightedText: p.on_accent, R.Link: p.accent, R.LinkVisited: p.change,
        R.ToolTipBase: p.base, R.ToolTipText: p.text, R.PlaceholderText: p.muted_text,
        R.Light: p.mix(button, "#ffffff", 0.1 if p.dark else 0.6), R.Midlight: p.mix(p.border, p.base, 0.4),
        R.Mid: p.border, R.Dark: p.mix(p.border, p.text, 0.35), R.Shadow: p.mix(p.border, "#000000", 0.6),
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    disabled_text = QColor(p.mix(p.muted_text, p.window, 0.35))
    for role in (R.WindowText, R.Text, R.ButtonText, R.PlaceholderText):
        pal.setColor(G.Disabled, role, disabled_text)
    pal.setColor(G.Disabled, R.Base, QColor(p.window))
    pal.setColor(G.Disabled, R.Button, QColor(p.mix(button, p.window, 0.5)))
    pal.setColor(G.Disabled, R.Highlight, QColor(p.border))
    pal.setColor(G.Disabled, R.HighlightedText, QColor(p.text))
    return pal


def system_scheme() -> str:
    """"dark" when the system asks for a dark scheme, else "light" (also when it says nothing)."""
    app = QGuiApplication.instance()
    if app is None:
        return "light"
    return "dark" if QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"


class Theme(QObject):
    """The current palette; ``changed`` is emitted after it switched (system scheme or the user's choice)."""

    changed = Signal(object)  # the new ThemePalette

    def __init__(self, palette: ThemePalette = LIGHT, parent: QObject | None = None):
        super().__init__(parent)
        self.palette = palette
        self.choice = DEFAULT_CHOICE
        self._following = False

    def set_palette(self, palette: ThemePalette) -> None:
        if palette is not self.palette:
            self.palette = palette
            self._apply()
            self.changed.emit(palette)

    def set_choice(self, choice: str | None) -> str:
        """"system", "light" or "dark" (anything else: "system"); applies the palette it gives. Returns the choice."""
        self.choice = choice if choice in THEME_CHOICES else DEFAULT_CHOICE
        self._follow_system()
        wanted = PALETTES[system_scheme() if self.choice == "system" else self.choice]
        if wanted is self.palette:
            self._apply()  # the application may not carry it yet (the first choice at start-up)
        else:
            self.set_palette(wanted)
        return self.choice

    def install(self, app: QApplication, choice: str | None = None) -> None:
        """At start-up: the Fusion style (an application palette works under it on every platform) and the
        palette of ``choice`` (or the current choice)."""
        fusion = QStyleFactory.create("Fusion")
        if fusion is not None and app.style().name().lower() != "fusion":
            app.setStyle(fusion)
        self.set_choice(choice if choice is not None else self.choice)

    @Slot()
    def _system_scheme_changed(self, *_args) -> None:
        if self.choice == "system":
            self.set_palette(PALETTES[system_scheme()])

    def _follow_system(self) -> None:
        if self._following or QGuiApplication.instance() is None:
            return
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self._following = True

    def _apply(self) -> None:
        app = QGuiApplication.instance()
        if app is not None:
            QGuiApplication.setPalette(qpalette(self.palette))


_CURRENT: Theme | None = None


def current() -> Theme:
    """The application's one Theme (made on first use, on the UI thread)."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = Theme()
    return _CURRENT


class _Restyler(QObject):
    """A widget's style sheet builder; a child of the widget, so the connection ends with the widget."""

    def __init__(self, widget: QWidget, build: Callable[[ThemePalette], str]):
        super().__init__(widget)
        self.setObjectName("themeRestyler")
        self.widget = widget
        self.build = build
        current().changed.connect(self.restyle)

    @Slot(object)
    def restyle(self, *_args) -> None:
        self.widget.setStyleSheet(self.build(current().palette))


def styled(widget: QWidget, build: Callable[[ThemePalette], str]) -> None:
    """``widget.setStyleSheet(build(palette))`` now and after every change of theme. Calling it again on the
    same widget replaces the builder (e.g. a badge that turns from test mode to LIVE)."""
    restyler = widget.findChild(_Restyler, "themeRestyler", Qt.FindChildOption.FindDirectChildrenOnly)
    if restyler is None:
        restyler = _Restyler(widget, build)
    else:
        restyler.build = build
    restyler.restyle()


def on_change(owner: QObject, callback: Callable[[ThemePalette], None]) -> None:
    """Call ``callback(palette)`` after every change of theme, while ``owner`` lives (a repaint, a reload)."""
    relay = _Relay(owner, callback)
    current().changed.connect(relay.relay)


class _Relay(QObject):
    def __init__(self, owner: QObject, callback: Callable[[ThemePalette], None]):
        super().__init__(owner)
        self.callback = callback

    @Slot(object)
    def relay(self, palette) -> None:
        self.callback(palette)


# --- small shared styles ------------------------------------------------------------------------

def error_style(p: ThemePalette) -> str:
    """A field's or a form's error line."""
    return f"color: {p.danger}; font-size: 11px;"


def hint_style(p: ThemePalette) -> str:
    """A short muted hint under a control."""
    return f"color: {p.muted_text}; font-size: 11px;"


def app_icon() -> QIcon:
    """The app's icon (window, taskbar, dialogs), from the shipped resources; an empty icon if they are missing
    (a broken installation still opens: the resource check at start-up reports it)."""
    icon = QIcon()
    for name in ICON_FILES:
        try:
            icon.addFile(str(resource_path("icons", name)))
        except ResourceNotFound:
            continue
    return icon

"""Right-to-left texts (Arabic, Hebrew…) read from the right: a label showing one aligns to the right and lays
out right to left, whatever the window's direction; a left-to-right text keeps the label's own alignment.

The direction is the text's own (the first strong character decides, as the Unicode bidi algorithm does for a
paragraph), so a reward text in Arabic is right-aligned in an English window and the next, English, one is not.
"""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

_RTL_CLASSES = {"R", "AL"}
_LTR_CLASSES = {"L"}
_BASE_ALIGNMENT = "ltrAlignment"  # the label's alignment for left-to-right text, kept on the label
_HORIZONTAL = Qt.AlignmentFlag.AlignHorizontal_Mask | Qt.AlignmentFlag.AlignAbsolute


def is_rtl(text: str | None) -> bool:
    """True when the text's first strong character is right-to-left."""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in _RTL_CLASSES:
            return True
        if kind in _LTR_CLASSES:
            return False
    return False


def rtl_alignment(alignment: Qt.AlignmentFlag) -> Qt.AlignmentFlag:
    """``alignment`` with its horizontal part replaced by the right edge (absolute: not flipped again)."""
    vertical = Qt.AlignmentFlag(alignment & Qt.AlignmentFlag.AlignVertical_Mask)
    return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute | vertical


def text_alignment(text: str | None, ltr: Qt.AlignmentFlag) -> Qt.AlignmentFlag:
    """What to align a painted ``text`` by: ``ltr`` for left-to-right text, the right edge for right-to-left."""
    return rtl_alignment(ltr) if is_rtl(text) else ltr


def follow_text(label: QLabel, text: str | None = None) -> None:
    """Align and lay out ``label`` by the direction of ``text`` (default: the text it shows)."""
    text = label.text() if text is None else text
    base = label.property(_BASE_ALIGNMENT)
    if base is None:
        base = int(label.alignment().value)
        label.setProperty(_BASE_ALIGNMENT, base)
    ltr = Qt.AlignmentFlag(base)
    if is_rtl(text):
        label.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        label.setAlignment(rtl_alignment(ltr))
    else:
        label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        label.setAlignment(ltr)

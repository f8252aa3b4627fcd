"""Draw the app icon (resources/icons/moments-desktop-{256,48}.png) with QPainter.

Run: python packaging/make_icons.py   (offscreen; no display needed). The PNGs are committed,
so builds do not need to run this; re-run it only to change the design.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath, QPen  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 256, size / 256)

    # Rounded-square background, deep teal to blue.
    bg = QLinearGradient(QPointF(0, 0), QPointF(256, 256))
    bg.setColorAt(0, QColor("#1f8a8a"))
    bg.setColorAt(1, QColor("#23395d"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(bg))
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 52, 52)

    # Gift box body.
    box = QLinearGradient(QPointF(0, 110), QPointF(0, 210))
    box.setColorAt(0, QColor("#ffb547"))
    box.setColorAt(1, QColor("#f08a24"))
    p.setBrush(QBrush(box))
    p.drawRoundedRect(QRectF(62, 118, 132, 92), 10, 10)
    # Lid.
    p.setBrush(QColor("#ffc866"))
    p.drawRoundedRect(QRectF(52, 96, 152, 32), 8, 8)
    # Ribbon.
    p.setBrush(QColor("#ffffff"))
    p.drawRect(QRectF(118, 96, 20, 114))
    # Bow: two loops.
    pen = QPen(QColor("#ffffff"), 12)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    left = QPainterPath(QPointF(128, 94))
    left.cubicTo(QPointF(96, 50), QPointF(68, 78), QPointF(128, 94))
    right = QPainterPath(QPointF(128, 94))
    right.cubicTo(QPointF(160, 50), QPointF(188, 78), QPointF(128, 94))
    p.drawPath(left)
    p.drawPath(right)
    # Sparkle (the "moment").
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#fff6d5"))
    star = QPainterPath()
    cx, cy, r, k = 200, 58, 24, 6
    star.moveTo(cx, cy - r)
    star.quadTo(cx + k, cy - k, cx + r, cy)
    star.quadTo(cx + k, cy + k, cx, cy + r)
    star.quadTo(cx - k, cy + k, cx - r, cy)
    star.quadTo(cx - k, cy - k, cx, cy - r)
    p.drawPath(star)
    p.end()
    return image


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw(256)
    for size in (256, 48):
        # Draw each size natively (crisper than scaling), keep the 256 one for .ico/.icns too.
        img = big if size == 256 else draw(size)
        path = OUT / f"moments-desktop-{size}.png"
        if not img.save(str(path), "PNG"):
            print(f"could not write {path}", file=sys.stderr)
            return 1
        print(path)
    # Windows installer/exe icon: multi-size .ico (Qt writes .ico via its ico plugin).
    ico = OUT / "moments-desktop.ico"
    if big.save(str(ico), "ICO"):
        print(ico)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

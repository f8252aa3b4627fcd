"""Draw the sandbox's reward images (600x400 product cards) with QPainter.

Run from the repository root:

    QT_QPA_PLATFORM=offscreen python resources/src/make_images.py

It writes resources/rewards/*. The formats are mixed on purpose (PNG, one JPEG,
one WebP) so the app's image decoding is exercised for each of them. The output
is committed; rerun this only when changing the artwork.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QRadialGradient,
)

W, H = 600, 400
OUT = Path(__file__).resolve().parents[1] / "rewards"
FONT_FAMILY = "DejaVu Sans"


def _font(size: int, bold: bool = False) -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPixelSize(size)
    font.setBold(bold)
    return font


def _card(p: QPainter, top: str, bottom: str, title: str, subtitle: str) -> None:
    """Background gradient, a soft white card, a title strip and a ribbon."""
    bg = QLinearGradient(0, 0, W, H)
    bg.setColorAt(0, QColor(top))
    bg.setColorAt(1, QColor(bottom))
    p.fillRect(0, 0, W, H, bg)

    glow = QRadialGradient(QPointF(W * 0.32, H * 0.42), 230)
    glow.setColorAt(0, QColor(255, 255, 255, 90))
    glow.setColorAt(1, QColor(255, 255, 255, 0))
    p.fillRect(0, 0, W, H, glow)

    # Title strip.
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(255, 255, 255, 235))
    p.drawRoundedRect(QRectF(24, 300, W - 48, 78), 18, 18)
    p.setPen(QColor("#1f2937"))
    p.setFont(_font(28, bold=True))
    p.drawText(QRectF(48, 306, W - 96, 40), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
    p.setPen(QColor("#4b5563"))
    p.setFont(_font(17))
    p.drawText(
        QRectF(48, 342, W - 96, 28), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, subtitle
    )

    # "Reward" ribbon, top right.
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#ff9900"))
    p.drawRoundedRect(QRectF(W - 150, 24, 126, 38), 19, 19)
    p.setPen(QColor("#111827"))
    p.setFont(_font(17, bold=True))
    p.drawText(QRectF(W - 150, 24, 126, 38), Qt.AlignmentFlag.AlignCenter, "REWARD")


def _shadow(p: QPainter, cx: float, cy: float, rx: float, ry: float) -> None:
    g = QRadialGradient(QPointF(cx, cy), rx)
    g.setColorAt(0, QColor(0, 0, 0, 70))
    g.setColorAt(1, QColor(0, 0, 0, 0))
    p.save()
    p.translate(cx, cy)
    p.scale(1.0, ry / rx)
    p.translate(-cx, -cy)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(g)
    p.drawEllipse(QPointF(cx, cy), rx, rx)
    p.restore()


def draw_headphones(p: QPainter) -> None:
    _card(p, "#1e3a8a", "#7c3aed", "Wireless Headphones", "Noise-cancelling, 30-hour battery")
    cx = 300
    _shadow(p, cx, 268, 150, 16)
    # Headband.
    band = QPainterPath()
    band.moveTo(cx - 112, 200)
    band.cubicTo(cx - 120, 40, cx + 120, 40, cx + 112, 200)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor("#111827"), 22, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawPath(band)
    p.setPen(QPen(QColor("#374151"), 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawPath(band)
    # Ear cups.
    for side in (-1, 1):
        x = cx + side * 112
        cup = QLinearGradient(x - 40, 170, x + 40, 270)
        cup.setColorAt(0, QColor("#4b5563"))
        cup.setColorAt(1, QColor("#0b0f19"))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(cup)
        p.drawRoundedRect(QRectF(x - 42, 165, 84, 112), 38, 38)
        p.setBrush(QColor("#9ca3af"))
        p.drawRoundedRect(QRectF(x - 30 + side * 6, 180, 60, 82), 28, 28)
        p.setBrush(QColor("#1f2937"))
        p.drawRoundedRect(QRectF(x - 24 + side * 6, 186, 48, 70), 22, 22)
        p.setBrush(QColor("#ff9900"))
        p.drawEllipse(QPointF(x - side * 30, 250), 5, 5)


def draw_speaker(p: QPainter) -> None:
    _card(p, "#0f766e", "#0ea5e9", "Smart Speaker", "Voice control, room-filling sound")
    cx = 300
    _shadow(p, cx, 282, 120, 16)
    body = QLinearGradient(cx - 90, 0, cx + 90, 0)
    body.setColorAt(0, QColor("#1f2937"))
    body.setColorAt(0.5, QColor("#4b5563"))
    body.setColorAt(1, QColor("#111827"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(body)
    p.drawRoundedRect(QRectF(cx - 90, 90, 180, 190), 30, 30)
    # Fabric dots.
    p.setBrush(QColor(255, 255, 255, 38))
    for row in range(9):
        for col in range(11):
            x = cx - 72 + col * 14.5 + (7 if row % 2 else 0)
            y = 140 + row * 14.5
            if x < cx + 78:
                p.drawEllipse(QPointF(x, y), 2.6, 2.6)
    # Top with light ring.
    p.setBrush(QColor("#374151"))
    p.drawEllipse(QRectF(cx - 90, 72, 180, 40))
    ring = QPen(QColor("#22d3ee"), 6)
    p.setPen(ring)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QRectF(cx - 72, 80, 144, 24))
    # Sound waves.
    p.setPen(QPen(QColor(255, 255, 255, 170), 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for i, r in enumerate((40, 62, 84)):
        for side in (-1, 1):
            rect = QRectF(cx + side * 130 - r, 175 - r, 2 * r, 2 * r)
            start = -40 if side == 1 else 140
            p.setPen(
                QPen(QColor(255, 255, 255, 200 - i * 50), 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            )
            p.drawArc(rect, start * 16, 80 * 16)


def draw_gift_card(p: QPainter) -> None:
    _card(p, "#b91c1c", "#f59e0b", "$25 Gift Card", "Spend it on millions of items")
    _shadow(p, 300, 282, 170, 16)
    p.save()
    p.translate(300, 175)
    p.rotate(-6)
    card = QLinearGradient(-160, -95, 160, 95)
    card.setColorAt(0, QColor("#111827"))
    card.setColorAt(1, QColor("#374151"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(card)
    p.drawRoundedRect(QRectF(-160, -95, 320, 190), 18, 18)
    # Ribbon and bow.
    p.setBrush(QColor("#ff9900"))
    p.drawRect(QRectF(60, -95, 26, 190))
    p.drawRect(QRectF(-160, -10, 320, 22))
    p.setBrush(QColor("#fbbf24"))
    for angle in (-35, 35):
        p.save()
        p.translate(73, 1)
        p.rotate(angle)
        p.drawEllipse(QRectF(-44 if angle < 0 else 4, -16, 40, 32))
        p.restore()
    p.setBrush(QColor("#f59e0b"))
    p.drawEllipse(QPointF(73, 1), 12, 12)
    # Amount and label.
    p.setPen(QColor("#ffffff"))
    p.setFont(_font(54, bold=True))
    p.drawText(QRectF(-145, -85, 200, 70), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "$25")
    p.setFont(_font(16))
    p.setPen(QColor("#d1d5db"))
    p.drawText(QRectF(-145, 30, 200, 30), Qt.AlignmentFlag.AlignLeft, "GIFT CARD")
    p.setPen(QColor("#9ca3af"))
    p.setFont(_font(13))
    p.drawText(QRectF(-145, 56, 220, 24), Qt.AlignmentFlag.AlignLeft, "SANDBOX  0000-1111-2222")
    p.restore()


def draw_e_reader(p: QPainter) -> None:
    _card(p, "#374151", "#6b7280", "E-Reader", "Glare-free display, weeks of battery")
    _shadow(p, 300, 285, 110, 14)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#111827"))
    p.drawRoundedRect(QRectF(222, 48, 156, 232), 18, 18)
    p.setBrush(QColor("#f3f4f1"))
    p.drawRect(QRectF(236, 66, 128, 186))
    p.setPen(QPen(QColor("#9ca3af"), 3))
    for i in range(13):
        y = 84 + i * 12.5
        length = 100 if i % 5 != 4 else 60
        p.drawLine(QPointF(248, y), QPointF(248 + length, y))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#4b5563"))
    p.drawRoundedRect(QRectF(286, 259, 28, 8), 4, 4)
    # A little book beside it.
    p.save()
    p.translate(430, 200)
    p.rotate(12)
    p.setBrush(QColor("#2563eb"))
    p.drawRoundedRect(QRectF(-34, -60, 68, 110), 6, 6)
    p.setBrush(QColor("#fef3c7"))
    p.drawRect(QRectF(-30, 42, 62, 6))
    p.restore()


def draw_streaming_stick(p: QPainter) -> None:
    _card(p, "#4c1d95", "#db2777", "Streaming Stick", "4K streaming, voice remote included")
    _shadow(p, 300, 285, 170, 14)
    # Stick.
    stick = QLinearGradient(120, 160, 330, 220)
    stick.setColorAt(0, QColor("#1f2937"))
    stick.setColorAt(1, QColor("#0b0f19"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(stick)
    p.drawRoundedRect(QRectF(110, 168, 220, 56), 16, 16)
    p.setBrush(QColor("#9ca3af"))
    p.drawRoundedRect(QRectF(330, 180, 42, 32), 4, 4)
    p.setBrush(QColor("#22d3ee"))
    p.drawEllipse(QPointF(140, 196), 5, 5)
    # Remote.
    remote = QLinearGradient(410, 80, 470, 280)
    remote.setColorAt(0, QColor("#374151"))
    remote.setColorAt(1, QColor("#111827"))
    p.setBrush(remote)
    p.drawRoundedRect(QRectF(412, 70, 62, 212), 30, 30)
    p.setBrush(QColor("#6b7280"))
    p.drawEllipse(QPointF(443, 128), 22, 22)
    p.setBrush(QColor("#111827"))
    p.drawEllipse(QPointF(443, 128), 9, 9)
    p.setBrush(QColor("#9ca3af"))
    for i in range(3):
        for j in range(2):
            p.drawEllipse(QPointF(431 + j * 24, 180 + i * 26), 7, 7)
    # Play triangle.
    tri = QPainterPath()
    tri.moveTo(210, 186)
    tri.lineTo(210, 206)
    tri.lineTo(228, 196)
    tri.closeSubpath()
    p.setBrush(QColor("#ffffff"))
    p.drawPath(tri)
    # Sparkles.
    p.setBrush(QColor(255, 255, 255, 200))
    for x, y, r in ((90, 110, 6), (360, 110, 4), (548, 248, 5), (80, 260, 3)):
        star = QPainterPath()
        for k in range(8):
            rr = r * (2.4 if k % 2 == 0 else 0.6)
            a = math.pi / 4 * k
            pt = QPointF(x + rr * math.cos(a), y + rr * math.sin(a))
            if k == 0:
                star.moveTo(pt)
            else:
                star.lineTo(pt)
        star.closeSubpath()
        p.drawPath(star)


IMAGES = [
    ("headphones.png", "PNG", -1, draw_headphones),
    ("smart-speaker.png", "PNG", -1, draw_speaker),
    ("gift-card.png", "PNG", -1, draw_gift_card),
    ("e-reader.jpg", "JPEG", 85, draw_e_reader),
    ("streaming-stick.webp", "WEBP", 82, draw_streaming_stick),
]


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (keeps fonts alive)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, fmt, quality, draw in IMAGES:
        image = QImage(W, H, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        draw(painter)
        painter.end()
        target = OUT / name
        if not image.save(str(target), fmt, quality):
            print(f"could not write {target} as {fmt}", file=sys.stderr)
            return 1
        print(f"{target.relative_to(OUT.parent.parent)}: {target.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

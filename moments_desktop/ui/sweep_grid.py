"""The Sweep tab's results: a virtualized grid of small customer cards (a list model and a painting delegate).

The view is a QListView in icon mode over ``SweepCardModel``: only the cards in sight are painted, so 1,000
combinations cost a thousand small Python objects, not a thousand widgets. Cards arrive in batches while the
sweep runs (appended as rows); the finished result puts them in plan order. Thumbnails are asked for only
when a card is painted, and kept in a bounded cache (sweep_thumbnails.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from moments_desktop.core.render import Renderer
from moments_desktop.core.sweep import STATUS_LABELS, SweepCard, SweepStatus
from moments_desktop.core.sweep_baseline import ChangeKind
from moments_desktop.core.sweep_report import describe_change, problem_text

from .sweep_thumbnails import THUMBNAIL_SIZE, ThumbnailCache
from .text_direction import text_alignment
from .theme import current, on_change

CARD_SIZE = QSize(212, 132)  # one grid cell, margins included
CARD_MARGIN = 4
# Cards kept painted (a pixmap each, ~110 KiB at 1×): a screenful of a large window is about 40, and the cards
# around it when scrolling back. Every batch of a running sweep relays the grid out and repaints all the
# cards in sight; painting one in Python takes ~0.5 ms, so without this a batch held the UI ~20 ms.
PAINTED_CARDS_KEPT = 96
# The theme role (ui/theme.py) each status is drawn in.
STATUS_ROLES: dict[SweepStatus, str] = {
    SweepStatus.REWARD: "success",
    SweepStatus.NO_REWARD: "neutral",
    SweepStatus.DECLINED: "warning",
    SweepStatus.ERROR: "danger",
}

CardRole = Qt.ItemDataRole.UserRole + 1
ChangesRole = Qt.ItemDataRole.UserRole + 2
ThumbnailRole = Qt.ItemDataRole.UserRole + 3
StatusRole = Qt.ItemDataRole.UserRole + 4


def change_marks(changes: Sequence[Any]) -> list[str]:
    """The short marks a card shows for its changes since the baseline: NEW, status, text, image, ±count."""
    marks = []
    for change in changes:
        kind = str(getattr(change, "kind", ""))
        if kind == "new":
            marks.append("NEW")
        elif kind == "count":
            delta = change.delta
            marks.append(f"count {delta:+d}" if isinstance(delta, int) else "count")
        elif kind:
            marks.append(kind)
    return marks


class SweepCardModel(QAbstractListModel):
    """The cards shown (filtered by status and "only changes"), the counts per status of all of them."""

    thumbnail_wanted = Signal(str)  # an image URL a painted card needs and the cache does not hold
    counts_changed = Signal()

    def __init__(self, renderer: Renderer, parent: Any = None):
        super().__init__(parent)
        self.renderer = renderer
        self.thumbnails = ThumbnailCache()
        self._cards: list[SweepCard] = []  # every card: arrival order while running, plan order once finished
        self._shown: list[SweepCard] = []
        self._statuses: set[SweepStatus] = set(SweepStatus)
        self._only_changes = False
        self._diff: Any = None
        self._swept_fields: tuple[str, ...] = ()
        self._counts: dict[SweepStatus, int] = dict.fromkeys(SweepStatus, 0)
        self._asked: set[str] = set()

    # --- content ----------------------------------------------------------------------

    def start(self, swept_fields: Iterable[str]) -> None:
        """A new sweep: no cards, no diff."""
        self.beginResetModel()
        self._cards, self._shown, self._diff = [], [], None
        self._swept_fields = tuple(swept_fields)
        self._counts = dict.fromkeys(SweepStatus, 0)
        self._asked.clear()
        self.endResetModel()
        self.counts_changed.emit()

    def add_cards(self, cards: Sequence[SweepCard]) -> None:
        """A batch that arrived: appended (one insert for the visible ones)."""
        if not cards:
            return
        self._cards.extend(cards)
        for card in cards:
            self._counts[card.status] = self._counts.get(card.status, 0) + 1
        visible = [card for card in cards if self._visible(card)]
        if visible:
            first = len(self._shown)
            self.beginInsertRows(QModelIndex(), first, first + len(visible) - 1)
            self._shown.extend(visible)
            self.endInsertRows()
        self.counts_changed.emit()

    def set_cards(self, cards: Sequence[SweepCard]) -> None:
        """Every card at once (the finished result, in plan order)."""
        self._cards = list(cards)
        self._counts = dict.fromkeys(SweepStatus, 0)
        for card in self._cards:
            self._counts[card.status] = self._counts.get(card.status, 0) + 1
        self._refilter()
        self.counts_changed.emit()

    def set_diff(self, diff: Any) -> None:
        self._diff = diff
        self._refilter()
        self.counts_changed.emit()

    @property
    def diff(self) -> Any:
        return self._diff

    def set_filter(self, statuses: Iterable[SweepStatus], only_changes: bool) -> None:
        statuses = set(statuses)
        if statuses == self._statuses and only_changes == self._only_changes:
            return
        self._statuses, self._only_changes = statuses, only_changes
        self._refilter()

    def _visible(self, card: SweepCard) -> bool:
        if card.status not in self._statuses:
            return False
        return not self._only_changes or bool(self.changes_of(card))

    def _refilter(self) -> None:
        self.beginResetModel()
        self._shown = [card for card in self._cards if self._visible(card)]
        self.endResetModel()

    def changes_of(self, card: SweepCard) -> tuple[Any, ...]:
        return tuple(self._diff.of(card)) if self._diff is not None else ()

    def counts(self) -> dict[SweepStatus, int]:
        return dict(self._counts)

    def changed_count(self) -> int:
        return sum(1 for card in self._cards if self.changes_of(card))

    def cards(self) -> list[SweepCard]:
        """Every card (not only those shown)."""
        return list(self._cards)

    def shown_cards(self) -> list[SweepCard]:
        return list(self._shown)

    def rerender(self) -> None:
        """Presenter mode on or off: every card's texts (rendered as they are asked for) again."""
        if self._shown:
            self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1))

    def card_at(self, row: int) -> SweepCard | None:
        return self._shown[row] if 0 <= row < len(self._shown) else None

    # --- thumbnails -------------------------------------------------------------------

    def thumbnail_for(self, url: str | None) -> QImage | str | None:
        """The cached thumbnail (or why there is none); None while it is being fetched (asked for once)."""
        if not url:
            return None
        item = self.thumbnails.get(url)
        if item is None and url not in self._asked:
            self._asked.add(url)
            self.thumbnail_wanted.emit(url)
        return item

    def thumbnail_arrived(self, url: str, image: QImage | str) -> None:
        self._asked.discard(url)
        self.thumbnails.put(url, image)
        rows = [row for row, card in enumerate(self._shown) if card.image_url == url]
        if rows:
            self.dataChanged.emit(self.index(rows[0]), self.index(rows[-1]), [ThumbnailRole])

    # --- Qt model ---------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        card = self.card_at(index.row()) if index.isValid() else None
        if card is None:
            return None
        if role == CardRole:
            return card
        if role == StatusRole:
            return card.status
        if role == ChangesRole:
            return self.changes_of(card)
        if role == ThumbnailRole:
            return self.thumbnail_for(card.image_url)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.summary(card)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.details(card)
        return None

    def combination_text(self, card: SweepCard) -> str:
        """The swept fields' values (what tells this card from its neighbours), through the renderer."""
        fields = card.combination.fields()
        names = self._swept_fields or tuple(fields)
        return " · ".join(self.renderer.field_value(name, fields[name]) for name in names)

    def summary(self, card: SweepCard) -> str:
        parts = [STATUS_LABELS[card.status], self.combination_text(card)]
        if card.notification_text:
            parts.append(card.notification_text)
        marks = change_marks(self.changes_of(card))
        if marks:
            parts.append("changed: " + ", ".join(marks))
        return "; ".join(part for part in parts if part)

    def details(self, card: SweepCard) -> str:
        lines = [f"{STATUS_LABELS[card.status]}" + (f" (HTTP {card.http_status})" if card.http_status else "")]
        lines += [f"{name}: {value}" for name, value in self.renderer.fields(card.combination.fields())]
        if card.notification_text:
            lines.append(f"Announcement: {card.notification_text}")
        if card.remaining_count is not None:
            lines.append(f"Remaining: {card.remaining_count}")
        if card.problem:
            lines.append(problem_text(card, self.renderer))
        for change in self.changes_of(card):  # in the reports' words, through the renderer (an image URL)
            lines.append("New since the baseline" if change.kind is ChangeKind.NEW
                         else "Changed " + describe_change(change, self.renderer))
        lines.append("Click to open it in the Preview tab")
        return "\n".join(lines)


class SweepCardDelegate(QStyledItemDelegate):
    """Paints one card: status colour, thumbnail, announcement, count, the swept values, what changed.

    A card painted once is kept as a pixmap and drawn again from it while nothing it shows has changed (the
    key holds everything it shows: the card, its size, selection, change marks, thumbnail, font and pixel
    ratio; a change of theme or of how texts are rendered drops them all)."""

    def __init__(self, model: SweepCardModel, parent: Any = None):
        super().__init__(parent)
        self.model = model
        self._painted: OrderedDict[tuple, tuple[SweepCard, QPixmap]] = OrderedDict()
        # Presenter mode on or off (model.rerender) and a change of theme: every text or colour may differ.
        model.dataChanged.connect(self._model_data_changed)
        on_change(self, lambda _palette: self.forget_painted())

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return CARD_SIZE

    def forget_painted(self) -> None:
        self._painted.clear()

    def painted_count(self) -> int:
        return len(self._painted)

    def _model_data_changed(self, _first: QModelIndex, _last: QModelIndex, roles: Sequence[int] = ()) -> None:
        if list(roles) != [ThumbnailRole]:  # a thumbnail that arrived is in the key already
            self.forget_painted()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        card: SweepCard | None = index.data(CardRole)
        if card is None:
            return
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        image = self.model.thumbnail_for(card.image_url) if card.image_url else None
        thumbnail = image.cacheKey() if isinstance(image, QImage) else image
        key = (id(card), option.rect.width(), option.rect.height(),
               bool(option.state & QStyle.StateFlag.State_Selected), tuple(change_marks(self.model.changes_of(card))),
               thumbnail, option.font.key(), ratio)
        kept = self._painted.get(key)
        if kept is not None and kept[0] is card:  # the same card object (an id is reused once one is freed)
            self._painted.move_to_end(key)
            painter.drawPixmap(option.rect.topLeft(), kept[1])
            return
        pixmap = QPixmap(option.rect.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        card_option = QStyleOptionViewItem(option)
        card_option.rect = QRect(0, 0, option.rect.width(), option.rect.height())
        card_painter = QPainter(pixmap)
        try:
            self._paint(card_painter, card_option, card)
        finally:
            card_painter.end()
        self._painted[key] = (card, pixmap)
        while len(self._painted) > PAINTED_CARDS_KEPT:
            self._painted.popitem(last=False)
        painter.drawPixmap(option.rect.topLeft(), pixmap)

    def _paint(self, painter: QPainter, option: QStyleOptionViewItem, card: SweepCard) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = option.rect.adjusted(CARD_MARGIN, CARD_MARGIN, -CARD_MARGIN, -CARD_MARGIN)
        p = current().palette
        colour = p.qcolor(STATUS_ROLES[card.status])
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        path = QPainterPath()
        path.addRoundedRect(rect, 8, 8)
        painter.fillPath(path, p.qcolor("base"))
        border = option.palette.color(QPalette.ColorRole.Highlight) if selected else p.qcolor("border")
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.drawPath(path)
        # The status colour: a band along the left edge, clipped to the card's rounded shape.
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRect(rect.left(), rect.top(), 6, rect.height()), colour)
        painter.restore()

        inner = rect.adjusted(12, 8, -8, -6)
        base = QFont(option.font)
        small = QFont(base)
        small.setPointSizeF(max(6.0, base.pointSizeF() * 0.85))
        bold = QFont(base)
        bold.setBold(True)

        # Top line: the status, and the change marks (or NEW) at the right.
        painter.setFont(small)
        fm_small = QFontMetrics(small)
        painter.setPen(colour)
        status_text = STATUS_LABELS[card.status] + (f" · {card.http_status}" if card.http_status else "")
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), fm_small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, status_text)
        marks = change_marks(self.model.changes_of(card))
        if marks:
            text = " ".join(marks)
            width = min(fm_small.horizontalAdvance(text) + 10, inner.width() // 2 + 20)
            badge = QRect(inner.right() - width, inner.top(), width, fm_small.height())
            badge_path = QPainterPath()
            badge_path.addRoundedRect(badge, 4, 4)
            painter.fillPath(badge_path, p.qcolor("change"))
            painter.setPen(p.qcolor("on_accent"))
            painter.drawText(badge.adjusted(5, 0, -5, 0), Qt.AlignmentFlag.AlignCenter,
                             fm_small.elidedText(text, Qt.TextElideMode.ElideRight, width - 10))
        top = inner.top() + fm_small.height() + 4

        # Thumbnail on the left, the announcement and count beside it.
        thumb = QRect(inner.left(), top, THUMBNAIL_SIZE.width(), THUMBNAIL_SIZE.height())
        image = self.model.thumbnail_for(card.image_url) if card.image_url else None
        if isinstance(image, QImage) and not image.isNull():
            shown = image.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, shown.width(), shown.height())
            target.moveCenter(thumb.center())
            painter.drawImage(target, image)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(p.qcolor("alternate_base")))
            painter.drawRoundedRect(thumb, 4, 4)
            painter.setPen(p.qcolor("muted_text"))
            painter.setFont(small)
            label = "…" if card.image_url and image is None else "no image"
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, label)

        text_rect = QRect(thumb.right() + 8, top, inner.right() - thumb.right() - 8, thumb.height())
        painter.setPen(p.qcolor("text"))
        painter.setFont(bold)
        fm_bold = QFontMetrics(bold)
        announcement = card.notification_text or (
            "" if card.status is SweepStatus.REWARD else problem_text(card, self.model.renderer))
        if not card.notification_text:
            painter.setFont(small)
            painter.setPen(p.qcolor("muted_text"))
            fm_bold = fm_small
        lines = self._wrap(announcement or "(no announcement)", fm_bold, text_rect.width(), 3)
        y = text_rect.top()
        # An Arabic announcement starts at the right edge (the painter would start every line at the left).
        alignment = text_alignment(announcement, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for line in lines:
            painter.drawText(QRect(text_rect.left(), y, text_rect.width(), fm_bold.height()), alignment, line)
            y += fm_bold.height()
        if card.remaining_count is not None:
            painter.setFont(small)
            painter.setPen(p.qcolor("muted_text"))
            count = card.remaining_count
            painter.drawText(QRect(text_rect.left(), text_rect.bottom() - fm_small.height() + 1, text_rect.width(),
                                   fm_small.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{count} left")

        # Bottom line: the swept values.
        painter.setFont(small)
        painter.setPen(p.qcolor("muted_text"))
        bottom = QRect(inner.left(), inner.bottom() - fm_small.height() + 1, inner.width(), fm_small.height())
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText(self.model.combination_text(card), Qt.TextElideMode.ElideMiddle,
                                             bottom.width()))

    @staticmethod
    def _wrap(text: str, metrics: QFontMetrics, width: int, max_lines: int) -> list[str]:
        """Word-wrap ``text`` to ``width`` in at most ``max_lines`` lines, the last elided."""
        words, lines, current = text.split(), [], ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if metrics.horizontalAdvance(candidate) <= width or not current:
                current = candidate
                continue
            lines.append(current)
            current = word
            if len(lines) == max_lines:
                break
        if len(lines) < max_lines and current:
            lines.append(current)
        consumed = " ".join(lines)
        if len(consumed) < len(" ".join(words)) and lines:
            lines[-1] = metrics.elidedText(lines[-1] + " …", Qt.TextElideMode.ElideRight, width)
        return [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines[:max_lines]]


class SweepGridView(QListView):
    """The grid: icon mode, uniform cells, laid out in batches (a thousand cards never stall a repaint)."""

    def __init__(self, model: SweepCardModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sweepGrid")
        self.setAccessibleName("Sweep results: one card per combination; activate one to preview it")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setGridSize(CARD_SIZE)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSpacing(0)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setModel(model)
        self.setItemDelegate(SweepCardDelegate(model, self))
        on_change(self, lambda _palette: self.viewport().update())  # the cards are painted in the theme's roles

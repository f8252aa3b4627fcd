"""The sweep grid keeps each card it painted and draws it again from that while nothing the card shows changed:
a batch of cards arriving during a sweep relays the grid out and repaints every card in sight, which must not
paint them all again (that held the UI ~20 ms per batch). What a card shows must still change when it does."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from moments_desktop.core.render import Renderer
from moments_desktop.core.sweep import BODY_FIELDS, Combination, SweepCard, SweepStatus
from moments_desktop.ui import theme
from moments_desktop.ui.sweep_grid import CARD_SIZE, SweepCardModel, SweepGridView

pytestmark = pytest.mark.gui


def card(n: int, *, status: SweepStatus = SweepStatus.NO_REWARD, image_url: str | None = None) -> SweepCard:
    values = tuple(f"{name}-{n}" for name in BODY_FIELDS)
    return SweepCard(index=n, combination=Combination(values), status=status,
                     notification_text=f"Reward number {n}" if status is SweepStatus.REWARD else None,
                     image_url=image_url, remaining_count=n if status is SweepStatus.REWARD else None)


@pytest.fixture
def grid(qtbot):
    model = SweepCardModel(Renderer())
    view = SweepGridView(model)
    qtbot.addWidget(view)
    view.resize(CARD_SIZE.width() * 3 + 40, CARD_SIZE.height() * 2 + 20)  # six cards in sight
    view.show()
    qtbot.waitExposed(view)
    delegate = view.itemDelegate()
    painted: list[int] = []
    real_paint = delegate._paint

    def counting_paint(painter, option, shown_card):
        painted.append(shown_card.index)
        real_paint(painter, option, shown_card)

    delegate._paint = counting_paint
    return model, view, painted


def repaint(view) -> QImage:
    view.viewport().repaint()
    return view.viewport().grab().toImage()


def test_cards_already_painted_are_not_painted_again_when_a_batch_arrives(grid):
    model, view, painted = grid
    model.add_cards([card(n) for n in range(6)])
    repaint(view)
    assert sorted(set(painted)) == list(range(6))
    painted.clear()
    model.add_cards([card(n) for n in range(6, 30)])  # appended after them (the next row shows in part)
    repaint(view)
    assert painted and not set(painted) & set(range(6))


def test_a_card_drawn_again_from_what_was_kept_looks_the_same_as_painted_anew(grid):
    model, view, painted = grid
    model.add_cards([card(n, status=SweepStatus.REWARD if n % 2 else SweepStatus.ERROR) for n in range(6)])
    kept = repaint(view)
    painted.clear()
    again = repaint(view)
    assert painted == []  # drawn from what was kept
    view.itemDelegate().forget_painted()
    anew = repaint(view)
    assert sorted(set(painted)) == list(range(6))
    assert again == kept and anew == kept


def test_what_a_card_shows_changing_paints_it_again(grid, qtbot):
    model, view, painted = grid
    model.add_cards([card(0, status=SweepStatus.REWARD, image_url="http://127.0.0.1:9/a.png"), card(1)])
    before = repaint(view)

    painted.clear()
    view.setCurrentIndex(model.index(1))  # selected: its border changes
    repaint(view)
    assert 1 in painted

    painted.clear()
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    image.fill(QColor("red"))
    model.thumbnail_arrived("http://127.0.0.1:9/a.png", image)
    after_thumbnail = repaint(view)
    assert painted == [0]
    assert after_thumbnail != before

    painted.clear()
    model.rerender()  # presenter mode on or off: the texts are rendered again
    repaint(view)
    assert sorted(set(painted)) == [0, 1]


def test_a_change_of_theme_paints_every_card_again_in_the_new_colours(grid):
    model, view, painted = grid
    model.add_cards([card(n) for n in range(3)])
    current = theme.current()
    first = current.palette
    before = repaint(view)
    other = theme.PALETTES["dark" if first is theme.PALETTES["light"] else "light"]
    painted.clear()
    try:
        current.set_palette(other)
        after = repaint(view)
    finally:
        current.set_palette(first)
    assert sorted(set(painted)) == [0, 1, 2]
    assert after != before

"""The Message tab: a campaign's push, email and in-app templates, rendered against every outcome.

The user writes each field as a Braze user does (Liquid, ``{% connected_content … %}``, ``${attribute}``);
"Preview every outcome" asks the bridge for the outcomes (free calls, off the UI thread), and every channel ×
outcome is rendered side by side in the customer frames (customer_frames.py): one column per outcome, for the
channel chosen above the editors. Typing re-renders against the last outcomes, after a short pause. The
problems list names each mistake with its line and column; activating one puts the cursor there.

Templates are saved per profile. Unsaved edits are kept per profile while another is shown (as the
request form keeps its drafts) and asked about when the window closes. Every rule (rendering, problems,
what is saved) is the core's (core/message_preview.py, core/session.py); this module only shows it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QImage, QKeySequence, QPalette, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from moments_desktop import APP_NAME
from moments_desktop.core import errorlog
from moments_desktop.core.errors import MomentsError
from moments_desktop.core.message_templates import (
    CHANNEL_FIELDS,
    FIELD_LABELS,
    Channel,
    MessageTemplates,
    OutcomeKind,
    PreviewOutcome,
    RenderedMessage,
    TemplateProblem,
)

from .bridge import SessionBridge
from .claim_result import is_web_url
from .customer_frames import EmailFrame, InAppFrame, MessageFrame, PushFrame
from .questions import ask_save_before_closing, quoted_names

CHANNEL_TITLES = {Channel.PUSH: "Push", Channel.EMAIL: "Email", Channel.IN_APP: "In-app"}
FIELD_TITLES = {
    (Channel.PUSH, "title"): "Title", (Channel.PUSH, "body"): "Body", (Channel.PUSH, "image_url"): "Image URL",
    (Channel.EMAIL, "subject"): "Subject", (Channel.EMAIL, "html"): "HTML body",
    (Channel.IN_APP, "header"): "Header", (Channel.IN_APP, "body"): "Body",
    (Channel.IN_APP, "image_url"): "Image URL", (Channel.IN_APP, "button"): "Button",
}
# Lines of text each editor shows before it scrolls: the long fields get room, the one-liners little.
FIELD_LINES = {"title": 1, "subject": 1, "image_url": 1, "button": 1, "header": 1, "body": 3, "html": 7}
SHORT_FIELD_MAX_LINES = 3  # a short field's editor grows with its text up to this, then scrolls
PROBLEM_KINDS = {"billing": "Billed call", "undefined": "Undefined", "stray_brace": "Stray brace", "syntax": "Syntax",
                 "unsupported": "Not simulated"}
from .shortcuts import MESSAGE_PREVIEW_KEYS as PREVIEW_KEYS  # noqa: E402 - one list of the keys
RENDER_DELAY_MS = 250  # typing pauses this long before the preview follows
COLUMN_MIN_WIDTH = 250  # one outcome's column; the grid holds as many as fit, up to one row of all
MAX_CACHED_IMAGES = 32
EMPTY_PREVIEW = ("Press “Preview every outcome” (Ctrl+Shift+Return) to see what each customer would get: "
                 "a reward, no reward, an error text, no answer within 2 s, a 404. Only free calls are made.")
LOADING_IMAGE = "Loading image…"
DIRTY_MARK = " \u2022"


def field_label(channel: Channel, name: str) -> str:
    """"Push body", "Email HTML body", "In-app image URL": a field as a person names it."""
    label = FIELD_LABELS.get((channel, name), f"{channel.value} {name}")
    return label[:1].upper() + label[1:]


def template_attribute(channel: Channel, name: str) -> str:
    """The MessageTemplates attribute that holds ``channel``'s field ``name`` (push_title, email_html…)."""
    return f"{channel.value}_{name}"


class TemplateEditor(QPlainTextEdit):
    """One Liquid template field: monospace, wrapped at the width, Tab moves focus. A short field (title,
    subject, URL, button) is as tall as its text, one to three lines; a long one (body, HTML) scrolls."""

    def __init__(self, channel: Channel, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.channel, self.field_name = channel, name
        self.setObjectName(f"template_{template_attribute(channel, name)}")
        title = f"{field_label(channel, name)} template"
        self.setAccessibleName(title)
        self.setAccessibleDescription(f"Liquid template of the {field_label(channel, name).lower()}; "
                                      "the preview follows your edits")
        self.setTabChangesFocus(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._lines = FIELD_LINES.get(name, 3)
        self.short = self._lines <= 1
        self._height_hint = self._height_for(self._lines)
        self.setMinimumHeight(self._height_for(1))
        self.setSizePolicy(QSizePolicy.Policy.Expanding,
                           QSizePolicy.Policy.Fixed if self.short else QSizePolicy.Policy.Expanding)
        if self.short:
            # A form layout hands its spare height to every row, Fixed or not: the height is set here.
            self.setFixedHeight(self._height_hint)
            self.textChanged.connect(self._fit_text)

    def _height_for(self, lines: int) -> int:
        return self.fontMetrics().lineSpacing() * lines + 2 * self.frameWidth() + 10

    def visual_lines(self) -> int:
        """Lines the text takes at the editor's width (wrapped lines counted)."""
        lines = 0
        block = self.document().begin()
        while block.isValid():
            layout = block.layout()
            lines += max(1, layout.lineCount() if layout is not None else 1)
            block = block.next()
        return max(1, lines)

    def _fit_text(self) -> None:
        height = self._height_for(min(SHORT_FIELD_MAX_LINES, self.visual_lines()))
        if height != self.height() or height != self.minimumHeight():
            self._height_hint = height
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.short:
            self._fit_text()  # a narrower editor wraps into more lines

    def sizeHint(self):  # noqa: N802 - Qt override
        hint = super().sizeHint()
        hint.setHeight(self._height_hint)
        return hint

    def move_cursor_to(self, line: int, column: int) -> None:
        """Put the cursor at 1-based ``line``:``column`` (columns count characters, as the core does)."""
        document = self.document()
        block = document.findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            block = document.lastBlock()
        text = block.text()
        prefix = text[:max(0, column - 1)]
        offset = len(prefix.encode("utf-16-le")) // 2  # Qt positions count UTF-16 units
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + min(offset, max(0, block.length() - 1)))
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def cursor_line_column(self) -> tuple[int, int]:
        cursor = self.textCursor()
        block = cursor.block()
        units = cursor.position() - block.position()
        prefix = block.text().encode("utf-16-le")[:units * 2].decode("utf-16-le", errors="ignore")
        return block.blockNumber() + 1, len(prefix) + 1


class OutcomeColumn(QFrame):
    """One outcome: its name, what Braze does then, and the message in the chosen channel's frame."""

    def __init__(self, outcome: PreviewOutcome, parent: QWidget | None = None):
        super().__init__(parent)
        self.outcome = outcome
        self.setObjectName(f"outcome_{outcome.kind.value}")
        self.setAccessibleName(f"Outcome: {outcome.label}")
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 8)
        column.setSpacing(6)
        self.title = QLabel(outcome.label, self)
        self.title.setObjectName("outcomeTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        column.addWidget(self.title)
        self.explanation = QLabel(outcome.explanation, self)
        self.explanation.setObjectName("outcomeExplanation")
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setWordWrap(True)
        self.explanation.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        column.addWidget(self.explanation)
        source = "\n".join(part.strip() for part in (outcome.source, *outcome.notes) if part.strip())
        self.source = QLabel(source, self)
        self.source.setObjectName("outcomeSource")
        self.source.setTextFormat(Qt.TextFormat.PlainText)
        self.source.setWordWrap(True)
        self.source.setVisible(bool(source))
        small = QFont(self.source.font())
        small.setPointSizeF(small.pointSizeF() * 0.85)
        small.setItalic(True)
        self.source.setFont(small)
        column.addWidget(self.source)
        self.frames: dict[Channel, MessageFrame] = {
            Channel.PUSH: PushFrame(self), Channel.EMAIL: EmailFrame(self), Channel.IN_APP: InAppFrame(self)}
        for frame in self.frames.values():
            column.addWidget(frame)
            frame.hide()
        column.addStretch(1)
        self.setMinimumWidth(COLUMN_MIN_WIDTH - 20)

    def show_channel(self, channel: Channel) -> None:
        for each, frame in self.frames.items():
            frame.setVisible(each is channel)
        self.fit_height()

    def fit_height(self) -> None:
        """At least as tall as the column needs at its width: the grid in the scroll area gives a row only
        its minimum height, which word-wrapped text and scaled images exceed."""
        layout = self.layout()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() \
            else layout.totalSizeHint().height()
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit_height()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # a frame's content changed size
            self.fit_height()
        return handled

    def frame(self, channel: Channel) -> MessageFrame:
        return self.frames[channel]


class MessageTab(QWidget):
    """Templates per channel, sample attributes, every outcome side by side, problems, save per profile."""

    dirty_changed = Signal(bool)  # the profile shown has unsaved template edits

    def __init__(self, bridge: SessionBridge, *, current_profile_id: Callable[[], str | None],
                 request_values: Callable[[], tuple[str, dict[str, str]] | None],
                 show_error: Callable[[MomentsError | str], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("messageTab")
        self.bridge = bridge
        self._current_profile_id = current_profile_id
        self._request_values = request_values
        self._show_error = show_error
        self._profile_id: str | None = None  # the profile whose templates the editors hold
        self._drafts: dict[str, MessageTemplates] = {}  # unsaved templates per profile id
        self._saving: dict[str, MessageTemplates] = {}  # being written
        self._closing_after_saves = False
        self._loading = False
        self._waiting = False  # our own outcomes call is in flight
        self._outcomes: list[PreviewOutcome] = []
        self._outcomes_profile: str | None = None
        self._rendered: list[RenderedMessage] = []
        self._email_sources: dict[OutcomeKind, tuple[str, ...]] = {}  # <img> sources per email rendering
        self._problems: list[TemplateProblem] = []
        self._images: OrderedDict[str, QImage | str] = OrderedDict()  # URL → image or why there is none
        self._requested_images: set[str] = set()
        self._columns: list[OutcomeColumn] = []
        self._grid_columns = 0
        self._build()
        self._wire()

    # --- building ----------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        # Actions: preview every outcome / cancel, status, save / revert.
        actions = QHBoxLayout()
        self.preview_button = QPushButton("Preview every outcome", self)
        self.preview_button.setObjectName("previewOutcomesButton")
        self.preview_button.setToolTip("Free: asks the endpoint for each outcome's answer, then renders every "
                                       "channel against each (Ctrl+Shift+Return)")
        self.preview_button.setAccessibleName("Preview every outcome")
        self.preview_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelOutcomesButton")
        self.cancel_button.setAccessibleName("Cancel the outcome preview")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.hide()
        self.progress = QProgressBar(self)
        self.progress.setObjectName("outcomesBusy")
        self.progress.setAccessibleName("Asking for the outcomes")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(120)
        self.progress.setMaximumHeight(10)
        self.progress.hide()
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("messageStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.dirty_label = QLabel("", self)
        self.dirty_label.setObjectName("templatesUnsaved")
        self.save_button = QPushButton("Save templates", self)
        self.save_button.setObjectName("saveTemplatesButton")
        self.save_button.setAccessibleName("Save the message templates to this profile")
        self.save_button.setAutoDefault(False)
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.setObjectName("revertTemplatesButton")
        self.revert_button.setAccessibleName("Revert the message templates to the saved ones")
        self.revert_button.setAutoDefault(False)
        self.save_button.setAccessibleDescription("Stores the templates in the profile's file")
        self.revert_button.setAccessibleDescription("Drops the unsaved template edits")
        actions.addWidget(self.preview_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.progress)
        actions.addWidget(self.status_label, 1)
        actions.addWidget(self.dirty_label)
        actions.addWidget(self.save_button)
        actions.addWidget(self.revert_button)
        outer.addLayout(actions)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("messageSplitter")
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)

        # Top: the editors (one tab per channel: it also picks the channel the preview shows), then
        # the sample attributes and the problems.
        top = QSplitter(Qt.Orientation.Horizontal, self.splitter)
        top.setChildrenCollapsible(False)
        self.channel_tabs = QTabWidget(top)
        self.channel_tabs.setObjectName("channelTabs")
        self.channel_tabs.setAccessibleName("Channel")
        self.editors: dict[tuple[Channel, str], TemplateEditor] = {}
        for channel, names in CHANNEL_FIELDS.items():
            page = QWidget(self.channel_tabs)
            form = QFormLayout(page)
            form.setContentsMargins(6, 6, 6, 6)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for name in names:
                editor = TemplateEditor(channel, name, page)
                label = QLabel(FIELD_TITLES[(channel, name)], page)
                label.setBuddy(editor)
                form.addRow(label, editor)
                self.editors[(channel, name)] = editor
            self.channel_tabs.addTab(page, CHANNEL_TITLES[channel])
        top.addWidget(self.channel_tabs)

        side = QWidget(top)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        attributes_title = QLabel("Sample user attributes (read as {{${name}}})", side)
        side_layout.addWidget(attributes_title)
        self.attributes_table = QTableWidget(0, 2, side)
        self.attributes_table.setObjectName("attributesTable")
        self.attributes_table.setAccessibleName("Sample user attributes")
        self.attributes_table.setHorizontalHeaderLabels(["Attribute", "Value"])
        self.attributes_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.attributes_table.verticalHeader().hide()
        self.attributes_table.setTabKeyNavigation(False)
        attributes_title.setBuddy(self.attributes_table)
        side_layout.addWidget(self.attributes_table, 2)
        rows = QHBoxLayout()
        self.add_attribute_button = QPushButton("Add attribute", side)
        self.add_attribute_button.setObjectName("addAttributeButton")
        self.add_attribute_button.setAccessibleName("Add a sample attribute")
        self.remove_attribute_button = QPushButton("Remove", side)
        self.remove_attribute_button.setObjectName("removeAttributeButton")
        self.remove_attribute_button.setAccessibleName("Remove the selected sample attribute")
        self.add_attribute_button.setAccessibleDescription("Adds a row to the sample user attributes")
        self.remove_attribute_button.setAccessibleDescription("Removes the selected row of sample user attributes")
        for button in (self.add_attribute_button, self.remove_attribute_button):
            button.setAutoDefault(False)
            rows.addWidget(button)
        rows.addStretch(1)
        side_layout.addLayout(rows)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        self.top_splitter = top
        self.splitter.addWidget(top)

        # Middle: the problems, the whole width (a message and its suggestion read on one line).
        problems = QWidget(self.splitter)
        problems_layout = QVBoxLayout(problems)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.setSpacing(2)
        self.problems_title = QLabel("Problems", problems)
        problems_layout.addWidget(self.problems_title)
        self.problems_list = QTreeWidget(problems)
        self.problems_list.setObjectName("problemsList")
        self.problems_list.setAccessibleName("Template problems; activate one to go to its place")
        self.problems_list.setHeaderLabels(["Kind", "Where", "Problem"])
        self.problems_list.setRootIsDecorated(False)
        self.problems_list.setUniformRowHeights(False)
        self.problems_list.setWordWrap(True)
        self.problems_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problems_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.problems_list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.problems_title.setBuddy(self.problems_list)
        problems_layout.addWidget(self.problems_list, 1)
        self.splitter.addWidget(problems)

        # Bottom: every outcome side by side, in as many columns as fit; only vertical scrolling.
        bottom = QWidget(self.splitter)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.error_banner = QLabel(bottom)
        self.error_banner.setObjectName("outcomesError")
        self.error_banner.setWordWrap(True)
        self.error_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.error_banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.error_banner.setContentsMargins(8, 6, 8, 6)
        self.error_banner.hide()
        bottom_layout.addWidget(self.error_banner)
        self.empty_label = QLabel(EMPTY_PREVIEW, bottom)
        self.empty_label.setObjectName("outcomesEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)
        bottom_layout.addWidget(self.empty_label, 1)
        self.outcomes_scroll = QScrollArea(bottom)
        self.outcomes_scroll.setObjectName("outcomesScroll")
        self.outcomes_scroll.setAccessibleName("Every outcome side by side")
        self.outcomes_scroll.setWidgetResizable(True)
        self.outcomes_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.outcomes_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.outcomes_holder = QWidget(self.outcomes_scroll)
        self.outcomes_grid = QGridLayout(self.outcomes_holder)
        self.outcomes_grid.setContentsMargins(4, 4, 4, 4)
        self.outcomes_grid.setHorizontalSpacing(12)
        self.outcomes_grid.setVerticalSpacing(16)
        self.outcomes_grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.outcomes_scroll.setWidget(self.outcomes_holder)
        self.outcomes_scroll.viewport().installEventFilter(self)
        self.outcomes_scroll.hide()
        bottom_layout.addWidget(self.outcomes_scroll, 1)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setStretchFactor(2, 1)  # a taller window gives the room to the outcomes
        self._sized = False

        self._render_pending = False
        self.render_timer = QTimer(self)
        self.render_timer.setSingleShot(True)
        self.render_timer.setInterval(RENDER_DELAY_MS)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._render_pending:
            self.render_now()
        if not self._sized:  # the editors get what they need, the outcomes the rest
            self._sized = True
            total = max(self.splitter.height(), 400)
            top = min(self.top_splitter.sizeHint().height(), total // 3)
            problems = self.problems_title.sizeHint().height() + 4 * self.fontMetrics().lineSpacing() + 12
            self.splitter.setSizes([top, problems, total - top - problems])

    def _wire(self) -> None:
        for editor in self.editors.values():
            editor.textChanged.connect(self._edited)
        self.attributes_table.itemChanged.connect(self._edited)
        self.add_attribute_button.clicked.connect(self.add_attribute_row)
        self.remove_attribute_button.clicked.connect(self.remove_attribute_row)
        self.channel_tabs.currentChanged.connect(self._channel_chosen)
        self.problems_list.itemActivated.connect(self._problem_activated)
        self.problems_list.itemClicked.connect(self._problem_activated)
        self.preview_button.clicked.connect(self.preview_outcomes)
        self.cancel_button.clicked.connect(self.bridge.cancel)
        self.save_button.clicked.connect(self.save_templates)
        self.revert_button.clicked.connect(self.revert_templates)
        self.render_timer.timeout.connect(self.render_now)
        # On the window, not the tab: a shortcut of a hidden widget (another tab shown) never fires.
        host = self.window()
        for keys in PREVIEW_KEYS:
            QShortcut(QKeySequence(keys), host, activated=self._preview_shortcut)
        bridge = self.bridge
        bridge.busy_changed.connect(self._update_actions)
        bridge.profile_write_busy_changed.connect(self._update_actions)
        bridge.message_outcomes_finished.connect(self._outcomes_arrived)
        bridge.message_outcomes_cancelled.connect(self._outcomes_cancelled)
        bridge.message_image_loaded.connect(self._image_arrived)
        # Queued: an error opens a message box, which must not open inside an asyncio task.
        bridge.message_templates_saved.connect(self._templates_saved, Qt.ConnectionType.QueuedConnection)

    # --- the profile's templates --------------------------------------------------------

    def stored_templates(self, profile_id: str) -> MessageTemplates:
        try:
            stored = getattr(self.bridge.profile(profile_id), "message_templates", None)
        except MomentsError:
            stored = None
        return stored if isinstance(stored, MessageTemplates) else MessageTemplates.defaults()

    def show_profile(self, profile_id: str | None) -> None:
        """The window chose a profile: its draft if it has one, else its saved templates."""
        if profile_id is None:
            return
        if profile_id != self._outcomes_profile:
            self._clear_outcomes()  # another endpoint's answers say nothing about this profile
        self._profile_id = profile_id
        self._set_templates(self._drafts.get(profile_id) or self.stored_templates(profile_id))
        self._update_dirty()
        self._render_when_shown()

    def _render_when_shown(self) -> None:
        # A hidden tab renders when it is first shown: the checks import python-liquid (about 100 ms),
        # which the start-up of a window that opens on the Preview tab need not pay.
        if self.isVisible():
            self.render_now()
        else:
            self._render_pending = True

    def _set_templates(self, templates: MessageTemplates) -> None:
        self._loading = True
        try:
            for (channel, name), editor in self.editors.items():
                text = templates.field(channel, name)
                if editor.toPlainText() != text:
                    editor.setPlainText(text)
            table = self.attributes_table
            table.setRowCount(0)
            for attribute, value in templates.attributes:
                self._append_attribute(attribute, value)
        finally:
            self._loading = False

    def _append_attribute(self, name: str, value: str) -> int:
        table = self.attributes_table
        row = table.rowCount()
        table.insertRow(row)
        table.setItem(row, 0, QTableWidgetItem(name))
        table.setItem(row, 1, QTableWidgetItem(value))
        return row

    def templates(self) -> MessageTemplates:
        """What the editors hold now (attribute rows without a name are left out)."""
        values = {template_attribute(channel, name): editor.toPlainText()
                  for (channel, name), editor in self.editors.items()}
        attributes = []
        table = self.attributes_table
        for row in range(table.rowCount()):
            name_item, value_item = table.item(row, 0), table.item(row, 1)
            name = name_item.text().strip() if name_item is not None else ""
            if name:
                attributes.append((name, value_item.text() if value_item is not None else ""))
        return MessageTemplates(**values, attributes=tuple(attributes))

    def add_attribute_row(self) -> None:
        row = self._append_attribute("", "")
        self.attributes_table.setCurrentCell(row, 0)
        self.attributes_table.editItem(self.attributes_table.item(row, 0))

    def remove_attribute_row(self) -> None:
        row = self.attributes_table.currentRow()
        if row < 0:
            return
        self.attributes_table.removeRow(row)
        self._edited()

    def _edited(self, *_args) -> None:
        if self._loading or self._profile_id is None:
            return
        current = self.templates()
        if current == self.stored_templates(self._profile_id):
            self._drafts.pop(self._profile_id, None)
        else:
            self._drafts[self._profile_id] = current
        self._update_dirty()
        self.render_timer.start()  # restarted by every keystroke: renders once typing pauses

    def is_dirty(self, profile_id: str | None = None) -> bool:
        profile_id = profile_id if profile_id is not None else self._profile_id
        return profile_id in self._drafts

    def has_unsaved_templates(self) -> bool:
        return bool(self._drafts)

    def _update_dirty(self) -> None:
        dirty = self.is_dirty()
        self.dirty_label.setText("\u2022 unsaved templates" if dirty else "")
        self.dirty_changed.emit(dirty)
        self._update_actions()

    # --- saving -------------------------------------------------------------------------

    def save_templates(self) -> None:
        profile_id = self._profile_id
        if profile_id is None or not self.is_dirty(profile_id) or self.bridge.profile_write_busy:
            return
        self._start_save(profile_id, self.templates())

    def _start_save(self, profile_id: str, templates: MessageTemplates) -> None:
        self._saving[profile_id] = templates
        self.status_label.setText("Saving the templates…")
        self.bridge.start_save_message_templates(profile_id, templates)

    def _templates_saved(self, profile_id: str, result) -> None:
        written = self._saving.pop(profile_id, None)
        if isinstance(result, MomentsError):
            self._closing_after_saves = False
            self.status_label.setText("The templates were not saved.")
            self._update_actions()
            self._show_error(result)  # the draft stays: nothing typed is lost
            return
        # Edits typed while the write ran are newer than what was written: they stay a draft.
        if self._drafts.get(profile_id) in (written, self.stored_templates(profile_id)):
            del self._drafts[profile_id]
        self.status_label.setText("Templates saved to this profile." if profile_id == self._profile_id else "")
        self._update_dirty()
        if self._closing_after_saves:
            self._save_next_before_close()

    def revert_templates(self) -> None:
        if self._profile_id is None:
            return
        self._drafts.pop(self._profile_id, None)
        self._set_templates(self.stored_templates(self._profile_id))
        self._update_dirty()
        self.render_now()

    def discard_all_drafts(self) -> None:
        self._drafts.clear()
        if self._profile_id is not None:
            self._set_templates(self.stored_templates(self._profile_id))
            self._update_dirty()

    def forget_profile(self, profile_id: str) -> None:
        """The profile was deleted: its draft goes with it."""
        self._drafts.pop(profile_id, None)

    # --- closing with unsaved templates -------------------------------------------------

    def ask_unsaved_templates(self, names: list[str]) -> str:
        """"save", "discard" or "cancel" for closing with unsaved templates (tests replace this)."""
        return ask_save_before_closing(
            self, f"Save the unsaved message templates of {quoted_names(names)} before closing?",
            "Discarded template changes cannot be recovered.")

    def settle_before_close(self) -> bool:
        """True when the window may close now; otherwise it stays open (and closes itself once the
        templates the user chose to save are written)."""
        if self._closing_after_saves:
            return False
        names = []
        for profile_id in list(self._drafts):
            try:
                names.append(self.bridge.profile(profile_id).name)
            except MomentsError:
                del self._drafts[profile_id]
        if not names:
            return True
        answer = self.ask_unsaved_templates(names)
        if answer == "discard":
            self._drafts.clear()
            return True
        if answer == "save":
            self._closing_after_saves = True
            self._update_actions()
            self._save_next_before_close()
        return False

    def _save_next_before_close(self) -> None:
        waiting = [profile_id for profile_id in self._drafts if profile_id not in self._saving]
        if waiting:
            self._start_save(waiting[0], self._drafts[waiting[0]])
        elif not self._saving:
            self._closing_after_saves = False
            self.window().close()

    # --- outcomes -----------------------------------------------------------------------

    def _preview_shortcut(self) -> None:
        tabs = self._enclosing_tabs()
        if tabs is not None:
            tabs.setCurrentWidget(self)
        self.preview_outcomes()

    def _enclosing_tabs(self) -> QTabWidget | None:
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QTabWidget):
            widget = widget.parentWidget()
        return widget

    def preview_outcomes(self) -> bool:
        profile_id = self._current_profile_id()
        values = self._request_values()
        if profile_id is None or self.bridge.busy:
            return False
        if values is None:
            self.status_label.setText("Fix the request form first: the outcomes are asked with its values.")
            return False
        base_url, fields = values
        if not self.bridge.message_outcomes(profile_id, base_url, fields):
            return False
        self._waiting = True
        self.error_banner.hide()
        self.status_label.setText("Asking the endpoint for every outcome (free calls only)…")
        self._update_actions()
        return True

    def _outcomes_arrived(self, profile_id: str, result) -> None:
        self._waiting = False
        if isinstance(result, MomentsError):
            self.status_label.setText("")
            advice = f"\n{result.advice}" if result.advice else ""
            detail = result.message if result.message and result.message != result.title else ""
            # An error's words may quote the endpoint's host: through the renderer (masked in presenter mode).
            self.error_banner.setText(self.bridge.renderer.text(
                f"The outcomes could not be fetched: {result.title}." + (f"\n{detail}" if detail else "") + advice))
            self.error_banner.show()
            self._update_actions()
            return
        if profile_id != self._profile_id:
            return  # another profile is shown now
        self.error_banner.hide()
        self._outcomes = list(result)
        self._outcomes_profile = profile_id
        self._build_columns()
        self.status_label.setText(f"{len(self._outcomes)} outcomes; the preview follows your edits.")
        self.render_now()
        self._update_actions()

    def _outcomes_cancelled(self) -> None:
        if not self._waiting:
            return
        self._waiting = False
        self.status_label.setText("Cancelled. Nothing was spent: the preview makes free calls only.")
        self._update_actions()

    def _clear_outcomes(self) -> None:
        self._outcomes = []
        self._outcomes_profile = None
        self._rendered = []
        self._email_sources = {}
        self._build_columns()
        self.error_banner.hide()

    def outcomes(self) -> list[PreviewOutcome]:
        return list(self._outcomes)

    # --- the grid of outcome columns ----------------------------------------------------

    def _build_columns(self) -> None:
        for column in self._columns:
            self.outcomes_grid.removeWidget(column)
            column.deleteLater()
        self._columns = [OutcomeColumn(outcome, self.outcomes_holder) for outcome in self._outcomes]
        for column in self._columns:
            column.show_channel(self.current_channel())
        self._grid_columns = 0
        self._lay_out_columns()
        has_columns = bool(self._columns)
        self.outcomes_scroll.setVisible(has_columns)
        self.empty_label.setVisible(not has_columns)

    def _lay_out_columns(self) -> None:
        if not self._columns:
            return
        width = self.outcomes_scroll.viewport().width()
        count = max(1, min(len(self._columns), width // COLUMN_MIN_WIDTH))
        if count == self._grid_columns:
            return
        self._grid_columns = count
        grid = self.outcomes_grid
        for column in self._columns:
            grid.removeWidget(column)
        for index, column in enumerate(self._columns):
            grid.addWidget(column, index // count, index % count, Qt.AlignmentFlag.AlignTop)
        for index in range(5):
            grid.setColumnStretch(index, 1 if index < count else 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.outcomes_scroll.viewport() and event.type() == QEvent.Type.Resize:
            self._lay_out_columns()
        return super().eventFilter(watched, event)

    def columns(self) -> list[OutcomeColumn]:
        return list(self._columns)

    def column(self, kind) -> OutcomeColumn:
        return next(column for column in self._columns if column.outcome.kind == kind)

    def current_channel(self) -> Channel:
        return list(CHANNEL_FIELDS)[max(0, self.channel_tabs.currentIndex())]

    def show_channel(self, channel: Channel) -> None:
        self.channel_tabs.setCurrentIndex(list(CHANNEL_FIELDS).index(channel))

    def _channel_chosen(self, _index: int) -> None:
        channel = self.current_channel()
        for column in self._columns:
            column.show_channel(channel)

    # --- rendering ----------------------------------------------------------------------

    def render_now(self) -> None:
        """Render the editors' templates against the last outcomes (or, without outcomes, only check
        them), fill the frames and the problems list."""
        self.render_timer.stop()
        self._render_pending = False
        templates = self.templates()
        try:
            self._render(templates)
        except Exception as exc:  # noqa: BLE001 - the core promises not to raise; if it does, a message
            error = errorlog.unexpected(exc, "message preview")
            self.status_label.setText(f"The preview could not be rendered: {error.title}.")

    def _render(self, templates: MessageTemplates) -> None:
        # The Session decides what is shown (rendering, problems and their order, images): see
        # core/message_preview.py preview_report.
        report = self.bridge.message_report(templates, self._outcomes)
        self._rendered = list(report.rendered)
        self._email_sources = dict(report.email_images)
        if self._rendered:
            self._fill_frames()
        self._show_problems(list(report.problems))

    def rerender(self) -> None:
        """Presenter mode on or off: the frames again (what they show of a URL goes through the renderer)."""
        if self._rendered:
            self._fill_frames()

    def rendered(self) -> list[RenderedMessage]:
        return list(self._rendered)

    def _fill_frames(self) -> None:
        by_key = {(message.channel, message.outcome.kind): message for message in self._rendered}
        for column in self._columns:
            for channel, frame in column.frames.items():
                message = by_key.get((channel, column.outcome.kind))
                if message is None:
                    frame.show_empty("Not rendered.")
                elif message.aborted is not None:
                    frame.show_not_sent(message.aborted)
                elif channel is Channel.PUSH:
                    frame.show_message(message.fields.get("title", ""), message.fields.get("body", ""),
                                       self._image_for(message.fields.get("image_url", "")))
                elif channel is Channel.IN_APP:
                    frame.show_message(message.fields.get("header", ""), message.fields.get("body", ""),
                                       message.fields.get("button", ""),
                                       self._image_for(message.fields.get("image_url", "")))
                else:
                    html = message.fields.get("html", "")
                    frame.show_message(message.fields.get("subject", ""), html,
                                       self._email_images(self._email_sources.get(message.outcome.kind, ())))

    def _image_for(self, url: str) -> QImage | str | None:
        """The image to show for a rendered image URL: loaded, loading, or why there is none."""
        url = url.strip()
        if not url:
            return None
        if not is_web_url(url):
            return f"No image: “{self.bridge.renderer.url(url[:80])}” is not an http(s) address."
        if url in self._images:
            return self._images[url]
        self._request_image(url)
        return LOADING_IMAGE

    def _email_images(self, sources) -> dict[str, QImage]:
        images = {}
        for source in sources:
            if not is_web_url(source):
                continue
            image = self._images.get(source)
            if isinstance(image, QImage):
                images[source] = image
            elif image is None:
                self._request_image(source)
        return images

    def _request_image(self, url: str) -> None:
        if url in self._requested_images or self._profile_id is None or self.bridge.closed:
            return
        self._requested_images.add(url)
        self.bridge.load_message_image(url, self._profile_id)

    def _image_arrived(self, url: str, result) -> None:
        self._requested_images.discard(url)
        self._images[url] = result
        self._images.move_to_end(url)
        while len(self._images) > MAX_CACHED_IMAGES:
            self._images.popitem(last=False)
        if self._rendered:
            self._fill_frames()

    # --- problems -----------------------------------------------------------------------

    def _show_problems(self, problems: list[TemplateProblem]) -> None:
        self._problems = problems
        tree = self.problems_list
        tree.clear()
        for problem in problems:
            where = f"{field_label(problem.channel, problem.field)} {problem.line}:{problem.column}"
            text = problem.message + (f" — {problem.suggestion}" if problem.suggestion
                                      and problem.suggestion not in problem.message else "")
            item = QTreeWidgetItem([PROBLEM_KINDS.get(problem.kind, problem.kind), where, text])
            item.setToolTip(2, text)
            item.setData(0, Qt.ItemDataRole.UserRole, problem)
            tree.addTopLevelItem(item)
        count = len(problems)
        self.problems_title.setText("Problems: none found" if not count else f"Problems ({count})")

    def problems(self) -> list[TemplateProblem]:
        return list(self._problems)

    def _problem_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        problem = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(problem, TemplateProblem):
            self.go_to_problem(problem)

    def go_to_problem(self, problem: TemplateProblem) -> None:
        editor = self.editors.get((Channel(problem.channel), problem.field))
        if editor is None:
            return
        self.show_channel(Channel(problem.channel))
        editor.move_cursor_to(problem.line, problem.column)

    # --- state --------------------------------------------------------------------------

    def _update_actions(self, *_args) -> None:
        busy = self.bridge.busy
        ours = self._waiting and busy
        self.preview_button.setEnabled(not busy and self._current_profile_id() is not None)
        self.cancel_button.setVisible(ours)
        self.progress.setVisible(ours)
        held = self.bridge.profile_write_busy or self._closing_after_saves
        dirty = self.is_dirty()
        self.save_button.setEnabled(dirty and not held)
        self.revert_button.setEnabled(dirty and not held)

"""Import and export of profiles from the window: file choice, the import report, status.

Reading the import file, adding its profiles to profiles.json and writing the export happen
off the UI thread (the Session, through the bridge). The
report dialog lists every profile of the file; the invalid ones with each field's problem.
Only the valid ones are imported, and only when the user presses "Import …".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QStatusBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.core.errors import MomentsError
from moments_desktop.core.profiles import ImportReport, Profile
from moments_desktop.core.render import PLAIN, Renderer
from moments_desktop.core.request import BODY_FIELDS, FIELD_LABELS

from .bridge import SessionBridge
from .theme import current, on_change

EXPORT_FILE_NAME = "moments-profiles.json"
FILE_FILTER = "Profiles (*.json);;All files (*)"
STATUS_MS = 15_000

_FIELD_NAMES = {
    **FIELD_LABELS,
    "name": "Name",
    "live": "Live endpoint",
    "allow_insecure": "Allow insecure",
    "cost_per_action": "Cost per action",
    "currency": "Currency",
    "notes": "Notes",
    "id": "Id",
    "profile": "Profile",
}
# Problems are listed in the order of the window's fields, whatever the file's order.
_FIELD_ORDER = ["profile", "name", "base_url", *BODY_FIELDS, "live", "allow_insecure", "cost_per_action", "currency",
                "notes", "id"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class ImportReportDialog(QDialog):
    """What an import file holds, per profile and field; accept() = import the valid ones."""

    def __init__(self, report: ImportReport, parent: QWidget | None = None, renderer: Renderer = PLAIN):
        super().__init__(parent)
        self.report = report
        self.renderer = renderer
        self.setWindowTitle("Import profiles")
        self.setObjectName("importReportDialog")
        self.resize(640, 420)
        layout = QVBoxLayout(self)
        valid = len(report.valid)
        total = len(report.candidates)
        name = report.path.name
        if report.file_error:
            summary = f"“{name}” cannot be imported. {report.file_error}"
        elif total == 0:
            summary = f"“{name}” contains no profiles."
        elif valid == total:
            summary = f"“{name}”: all {_plural(total, 'profile')} can be imported."
        elif valid == 0:
            summary = f"“{name}”: none of its {_plural(total, 'profile')} can be imported. What is wrong:"
        else:
            summary = (f"“{name}”: {valid} of {_plural(total, 'profile')} can be imported. "
                       "Those marked \u2717 will be left out; what is wrong is listed under each.")
        self.summary_label = QLabel(summary, self)
        self.summary_label.setObjectName("importSummary")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("importReport")
        self.tree.setAccessibleName("Profiles in the file")
        self.tree.setAccessibleDescription("Each profile found, whether it will be imported, and its problems")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Profile / field", "Result"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self._fill_tree()
        on_change(self, lambda _palette: self._fill_tree())  # its colours are the theme's
        self.tree.setVisible(bool(report.candidates))
        layout.addWidget(self.tree, 1)

        if valid:
            note = QLabel("API keys are never imported: enter them for the new profiles afterwards.", self)
            note.setWordWrap(True)
            layout.addWidget(note)

        self.buttons = QDialogButtonBox(self)
        self.import_button: QPushButton | None = None
        if valid:
            self.import_button = self.buttons.addButton(
                f"Import {_plural(valid, 'valid profile')}" if valid < total else f"Import {_plural(valid, 'profile')}",
                QDialogButtonBox.ButtonRole.AcceptRole)
            self.import_button.setObjectName("importValidButton")
            self.import_button.setToolTip("Add the valid profiles (without keys); the others are left out")
            self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            self.import_button.setDefault(True)
        else:
            self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.cancel_button.setObjectName("importCancelButton")
        self.cancel_button.setToolTip("Close without importing anything")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _fill_tree(self) -> None:
        self.tree.clear()
        for candidate in self.report.candidates:
            if candidate.valid:
                result = "\u2713 will be imported"
                color = current().palette.qcolor("success")
            else:
                result = f"\u2717 not imported ({_plural(len(candidate.problems), 'problem')})"
                color = current().palette.qcolor("danger")
            item = QTreeWidgetItem([self.renderer.profile_name(candidate.label), result])
            item.setForeground(1, QBrush(color))
            ordered = sorted(candidate.problems.items(), key=lambda item: (
                _FIELD_ORDER.index(item[0]) if item[0] in _FIELD_ORDER else len(_FIELD_ORDER)))
            for field_name, problem in ordered:
                child = QTreeWidgetItem([_FIELD_NAMES.get(field_name, field_name), problem])
                child.setForeground(1, QBrush(current().palette.qcolor("danger")))
                item.addChild(child)
            for note in candidate.notes:
                item.addChild(QTreeWidgetItem(["Note", note]))
            self.tree.addTopLevelItem(item)
        self.tree.expandAll()

    def rerender(self, *_args) -> None:
        """Presenter mode on or off: the profiles' names through the renderer again."""
        self._fill_tree()

    def rows(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """(profile, result, [(field, problem or note), ...]) as shown; for tests and logs."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            children = [(item.child(j).text(0), item.child(j).text(1)) for j in range(item.childCount())]
            rows.append((item.text(0), item.text(1), children))
        return rows


class ProfileTransfer(QObject):
    """File ▸ Import/Export profiles. ``choose_*_path`` are the seams tests replace.

    Given what it needs (the bridge, a parent for its dialogs, a status bar and three callbacks),
    not the window: it knows nothing of the window's parts."""

    def __init__(self, bridge: SessionBridge, parent: QWidget, status: QStatusBar, *,
                 show_error: Callable[[MomentsError | str], None], refresh_profiles: Callable[[], None],
                 has_unsaved_edits: Callable[[], bool]):
        super().__init__(parent)
        self.parent_widget = parent
        self.status = status
        self.show_error = show_error
        self.refresh_profiles = refresh_profiles
        self.has_unsaved_edits = has_unsaved_edits
        self.bridge = bridge
        self.dialog: ImportReportDialog | None = None
        # Queued: the results are emitted inside asyncio tasks; dialogs must open from a plain slot.
        bridge.import_read.connect(self._show_report, Qt.ConnectionType.QueuedConnection)
        bridge.profiles_exported.connect(self._exported, Qt.ConnectionType.QueuedConnection)
        bridge.import_applied.connect(self._applied, Qt.ConnectionType.QueuedConnection)

    # --- overridable file dialogs -------------------------------------------------------

    def choose_import_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Import profiles", str(Path.home()), FILE_FILTER)
        return path or None

    def choose_export_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Export profiles",
                                              str(Path.home() / EXPORT_FILE_NAME), FILE_FILTER)
        return path or None

    # --- import -------------------------------------------------------------------------

    def import_profiles(self) -> None:
        path = self.choose_import_path()
        if not path:
            return
        self.status.showMessage(f"Reading {path}…", STATUS_MS)
        self.bridge.start_import_read(path)

    def _show_report(self, report: ImportReport | MomentsError) -> None:
        self.status.clearMessage()
        if isinstance(report, MomentsError):
            self.show_error(report)
            return
        if self.dialog is not None:
            self.dialog.close()
        dialog = ImportReportDialog(report, self.parent_widget, renderer=self.bridge.renderer)
        dialog.accepted.connect(lambda: self._apply(report))
        dialog.finished.connect(lambda _result: dialog.deleteLater())
        self.dialog = dialog
        dialog.open()  # window-modal without a nested event loop

    def _apply(self, report: ImportReport) -> None:
        self.status.showMessage(f"Importing from {report.path}…", STATUS_MS)
        self.bridge.start_apply_import(report)

    def _applied(self, added: list[Profile] | MomentsError) -> None:
        if isinstance(added, MomentsError):
            self.status.clearMessage()
            self.show_error(added)
            return
        self.refresh_profiles()
        names = ", ".join(f"“{self.bridge.renderer.profile_name(p.name)}”" for p in added)
        self.status.showMessage(
            f"Imported {_plural(len(added), 'profile')}: {names}. Enter their API keys before using them."
            if added else "Nothing was imported.", STATUS_MS)

    def rerender(self) -> None:
        """Presenter mode on or off: an open import report shows its names in the new mode."""
        if self.dialog is not None:
            try:
                self.dialog.rerender()
            except RuntimeError:  # deleted since it was closed
                self.dialog = None

    # --- export -------------------------------------------------------------------------

    def export_profiles(self) -> None:
        if not self.bridge.exportable_profiles():
            self.show_error("There are no profiles of your own to export yet: the built-in "
                                   "“Sandbox demo” is in every installation. Create a profile with New… first.")
            return
        path = self.choose_export_path()
        if not path:
            return
        self.status.showMessage(f"Writing {path}…", STATUS_MS)
        self.bridge.start_export(path)

    def _exported(self, path: str, result: object) -> None:
        if isinstance(result, MomentsError):
            self.status.clearMessage()
            self.show_error(result)
            return
        unsaved = " Unsaved changes were not included." if self.has_unsaved_edits() else ""
        self.status.showMessage(
            f"Exported {_plural(int(result), 'profile')} to {path} (without API keys).{unsaved}", STATUS_MS)

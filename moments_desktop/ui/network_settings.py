"""File ▸ Network settings…: the proxy the app goes through (the system's, none, or one entered here).

The dialog only collects values: what Save means (a stored password kept when its field is left empty) is
core/settings.py's ``edited_proxy``, and the Session writes settings.json off the UI thread and switches the
HTTP client over (through the bridge). A stored password is never put back into a field.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from moments_desktop.core.errors import MomentsError
from moments_desktop.core.http import describe_proxy
from moments_desktop.core.settings import (
    PROXY_MANUAL,
    PROXY_MODES,
    PROXY_NONE,
    PROXY_SYSTEM,
    ProxySetting,
    edited_proxy,
)

from .bridge import SessionBridge

MODE_DESCRIPTIONS = {
    PROXY_SYSTEM: "Use the proxy the operating system or the HTTPS_PROXY / HTTP_PROXY variables name",
    PROXY_NONE: "Connect to every endpoint directly, whatever the system's settings say",
    PROXY_MANUAL: "Send every call through the proxy whose address is given below",
}
MODE_LABELS = {
    PROXY_SYSTEM: "Use the &system's proxy settings",
    PROXY_NONE: "&No proxy (connect directly)",
    PROXY_MANUAL: "&Manual proxy",
}


class NetworkSettingsDialog(QDialog):
    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("networkSettingsDialog")
        self.setWindowTitle("Network settings")
        self.setMinimumWidth(480)
        self._bridge = bridge
        self._previous: ProxySetting = bridge.session.proxy_setting
        self._saving = False

        box = QGroupBox("Proxy", self)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        box_layout = QVBoxLayout(box)
        for mode in PROXY_MODES:
            button = QRadioButton(MODE_LABELS[mode], box)
            button.setObjectName(f"proxy_{mode}Button")
            button.setAccessibleName(MODE_LABELS[mode].replace("&", ""))
            button.setAccessibleDescription(MODE_DESCRIPTIONS[mode])
            button.setToolTip(MODE_DESCRIPTIONS[mode])
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            box_layout.addWidget(button)
            if mode == PROXY_SYSTEM:
                self.system_label = QLabel(describe_proxy(ProxySetting(PROXY_SYSTEM)), box)
                self.system_label.setObjectName("systemProxyLabel")
                self.system_label.setWordWrap(True)
                self.system_label.setIndent(24)
                box_layout.addWidget(self.system_label)
        form = QFormLayout()
        form.setContentsMargins(24, 0, 0, 0)
        self.url_edit = QLineEdit(box)
        self.url_edit.setObjectName("proxyUrlEdit")
        self.url_edit.setPlaceholderText("http://proxy.example.com:8080")
        self.url_edit.setAccessibleName("Proxy address")
        self.url_edit.setAccessibleDescription("The manual proxy: http://host:port or https://host:port")
        self.user_edit = QLineEdit(box)
        self.user_edit.setObjectName("proxyUserEdit")
        self.user_edit.setPlaceholderText("only if the proxy asks for one")
        self.user_edit.setAccessibleName("Proxy user name")
        self.user_edit.setAccessibleDescription("The user name the manual proxy asks for, if any")
        self.password_edit = QLineEdit(box)
        self.password_edit.setObjectName("proxyPasswordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Proxy password")
        self.password_edit.setAccessibleDescription("Never shown; left empty, a saved password is kept")
        form.addRow("Address:", self.url_edit)
        form.addRow("User name:", self.user_edit)
        form.addRow("Password:", self.password_edit)
        box_layout.addLayout(form)

        note = QLabel("The built-in sandbox (this computer) is always reached directly. Certificates are checked "
                      "against the operating system's trust store: if your company inspects HTTPS traffic, "
                      "its root certificate must be installed there.", self)
        note.setObjectName("networkNote")
        note.setWordWrap(True)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("networkErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        for which, name, description in (
                (QDialogButtonBox.StandardButton.Save, "Save", "Use this proxy setting from the next call on"),
                (QDialogButtonBox.StandardButton.Cancel, "Cancel", "Close without changing the proxy setting")):
            button = self.buttons.button(which)
            button.setObjectName(f"network{name}Button")
            button.setAccessibleName(name)
            button.setAccessibleDescription(description)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self._show(self._previous)
        self.mode_group.buttonToggled.connect(self._update_fields)
        bridge.network_settings_saved.connect(self._saved)
        self._update_fields()

    # --- values ----------------------------------------------------------------------------

    def _show(self, setting: ProxySetting) -> None:
        self.mode_buttons[setting.mode].setChecked(True)
        if setting.mode == PROXY_MANUAL:
            self.url_edit.setText(setting.without_credentials().split(" (")[0])
            self.user_edit.setText(setting.username)
            if setting.has_password:
                self.password_edit.setPlaceholderText("saved; leave empty to keep it")

    def mode(self) -> str:
        return next(mode for mode, button in self.mode_buttons.items() if button.isChecked())

    def set_mode(self, mode: str) -> None:
        self.mode_buttons[mode].setChecked(True)

    def _update_fields(self, *_args: object) -> None:
        manual = self.mode() == PROXY_MANUAL
        for edit in (self.url_edit, self.user_edit, self.password_edit):
            edit.setEnabled(manual)

    def setting(self) -> ProxySetting:
        """What Save would keep (raises InvalidProxyError for an address that cannot be a proxy)."""
        return edited_proxy(self._previous, self.mode(), self.url_edit.text(), self.user_edit.text().strip(),
                            self.password_edit.text())

    # --- saving ----------------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def save(self) -> None:
        if self._saving:
            return
        try:
            setting = self.setting()
        except MomentsError as exc:
            self._show_error(exc.message)
            self.url_edit.setFocus()
            return
        self._show_error("")
        self._saving = True
        self.buttons.setEnabled(False)
        self._bridge.start_save_proxy(setting)

    def _saved(self, result: object) -> None:
        if not self._saving:
            return
        self._saving = False
        self.buttons.setEnabled(True)
        if isinstance(result, MomentsError):
            self._show_error(result.message)
            return
        self.accept()

    def done(self, code: int) -> None:  # noqa: D401 - Qt override: stop listening once closed
        try:
            self._bridge.network_settings_saved.disconnect(self._saved)
        except (RuntimeError, TypeError):
            pass
        super().done(code)

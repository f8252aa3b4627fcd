"""The shape design.md asks for, checked on the source: core has no Qt, widgets hold no sockets,
files or keyring, and nothing in ui/ reaches back to the window (no import loop)."""

from __future__ import annotations

import ast
from pathlib import Path

import moments_desktop

PACKAGE = Path(moments_desktop.__file__).parent


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the module's package
                package = path.parent.relative_to(PACKAGE.parent).parts[: len(path.parent.relative_to(
                    PACKAGE.parent).parts) - node.level + 1]
                base = ".".join((*package, base)) if base else ".".join(package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def test_core_imports_no_qt():
    for path in modules("core"):
        assert not any(name.startswith("PySide6") for name in imports(path)), path.name


def test_no_ui_module_imports_the_window_or_the_app():
    for path in modules("ui"):
        if path.name == "main_window.py":
            continue
        found = imports(path)
        assert not any(n.startswith(("moments_desktop.ui.main_window", "moments_desktop.app")) for n in found), path.name


def test_widgets_open_no_socket_file_store_or_keyring():
    # The bridge and the image loader hand work to core or to the HTTP client they are given.
    forbidden = ("socket", "sqlite3", "keyring", "moments_desktop.core.client", "moments_desktop.core.journal.Journal(")
    for path in modules("ui"):
        found = imports(path)
        for name in forbidden:
            assert name not in found, f"{path.name} imports {name}"


def test_loading_profiles_and_the_session_does_not_import_liquid():
    """python-liquid costs about 100 ms to import: start-up (profiles, the Session) must not pay it;
    the first message rendering does."""
    import subprocess
    import sys

    code = ("import sys, moments_desktop.core.session, moments_desktop.core.profiles; "
            "print(sorted(m for m in sys.modules if m == 'liquid' or m.startswith('liquid.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"

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


# --- colours come from the theme module (ui/theme.py), never from a widget ----------------------------

import re  # noqa: E402

HEX_COLOUR = re.compile(r"(?<![\w])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?![0-9A-Za-z_])")
CSS_COLOUR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?|hsva?)\s*\(", re.IGNORECASE)
NAMED_CSS_COLOUR = re.compile(r"(?:color|background(?:-color)?|border(?:-[a-z]+)?)\s*:[^;{}]*\b"
                              r"(?:white|black|red|green|blue|yellow|orange|gray|grey|purple|pink)\b", re.IGNORECASE)


def colour_literals(path: Path) -> list[str]:
    """Every colour a module spells itself: a hex colour or rgb()/named colour in a string (style sheets,
    HTML), a QColor built from a literal, a Qt.GlobalColor other than transparent."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for pattern in (HEX_COLOUR, CSS_COLOUR_FUNCTION, NAMED_CSS_COLOUR):
                found += [f"line {node.lineno}: {m.group(0)!r}" for m in pattern.finditer(node.value)]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "QColor":
            if node.args and all(isinstance(a, ast.Constant) for a in node.args):
                found.append(f"line {node.lineno}: QColor({', '.join(repr(a.value) for a in node.args)})")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "GlobalColor" and node.attr != "transparent":
            found.append(f"line {node.lineno}: Qt.GlobalColor.{node.attr}")
    return sorted(found, key=lambda f: int(f.split()[1].rstrip(':')))


def test_no_colour_literal_in_widgets():
    """design.md: colours come from one theme module. A widget asks ui/theme.py for a role."""
    offenders = {path.name: found for path in modules("ui") if path.name != "theme.py"
                 for found in [colour_literals(path)] if found}
    assert offenders == {}


def test_the_colour_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "widget.py"
    sample.write_text('STYLE = "QLabel#errorPanel { color: #b3261e; }"\nA = QColor("#fff")\nB = QColor(1, 2, 3)\n'
                      'C = "background: white; border: 1px solid rgb(1, 2, 3)"\nD = Qt.GlobalColor.red\n'
                      'E = Qt.GlobalColor.transparent\nF = "QFrame#add { }"\nG = f"entry #{n}"\n', encoding="utf-8")
    found = colour_literals(sample)
    assert {f.split(":")[0] for f in found} == {"line 1", "line 2", "line 3", "line 4", "line 5"}  # not 6, 7, 8
    assert any("white" in f for f in found) and any("rgb(" in f for f in found)

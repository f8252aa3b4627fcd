"""The exit codes are documented the same way in the README and in ``moments --help``, and every key of the
records commands' golden documents is in cli/SCHEMA.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

from golden_helpers import GOLDEN
from records_helpers import REPO, moments

import moments_desktop.cli
from moments_desktop.cli.exit_codes import EXIT_CODE_TABLE, ExitCode

README = REPO / "README.md"
SCHEMA = Path(moments_desktop.cli.__file__).parent / "SCHEMA.md"


def readme_exit_codes() -> list[tuple[int, str]]:
    section = README.read_text(encoding="utf-8").split("## Command line", 1)[1].split("\n## ", 1)[0]
    return [(int(code), words) for code, words in re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE)]


def help_exit_codes(text: str) -> list[tuple[int, str]]:
    epilog = text.split("exit codes:\n", 1)[1]
    return [(int(code), words.strip()) for code, words in re.findall(r"^  (\d+) +(.+)$", epilog, re.MULTILINE)]


def test_the_readme_and_help_list_the_same_exit_codes_in_the_same_words(tmp_path):
    ran = moments(tmp_path, "--help")
    assert ran.code == 0
    table = [(int(code), words) for code, words in EXIT_CODE_TABLE]
    assert readme_exit_codes() == table
    assert help_exit_codes(ran.stdout) == table
    assert {code for code, _ in table} == {int(code) for code in ExitCode}  # every code is documented


def test_the_readme_shows_every_command():
    section = README.read_text(encoding="utf-8").split("## Command line", 1)[1].split("\n## ", 1)[0]
    for example in ("moments info --profile", "moments claim --profile", "--yes", "--confirm", "moments history",
                    "moments history resolve", "moments export curl", "moments profiles list",
                    "moments profiles import", "moments profiles export", "| moments key set --profile",
                    "moments key test", "moments key delete", "moments sandbox", "--sandbox", "--endpoint-url",
                    "case $? in", "moments sweep --profile", "--fail-on-change", "--save-baseline", "--junit"):
        assert example in section, example


def test_schema_md_documents_every_key_of_the_records_documents():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", SCHEMA.read_text(encoding="utf-8"), flags=re.MULTILINE))
    for name in ("history.json", "profiles_list.json", "profiles_import.json"):
        document = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
        keys = set(document)
        for rows in document.values():
            if isinstance(rows, list):
                for row in rows:
                    keys |= set(row)
        assert keys - {"schema", "command"} <= documented, (name, keys - documented)

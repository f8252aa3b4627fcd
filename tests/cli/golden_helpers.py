"""Golden files of ``moments … --json``: the documents a script reads, key for key.

A change to a document shows up as a diff of tests/cli/golden/ to review. When the change is meant, regenerate:

    MOMENTS_REGENERATE_GOLDEN=1 python3 scripts/dev.py test tests/cli/test_records_history.py \
        tests/cli/test_records_profiles.py

and read the diff before committing it (a removed or renamed key breaks somebody's script: schema 2).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("MOMENTS_REGENERATE_GOLDEN") == "1"


def assert_golden(name: str, document: Any) -> None:
    path = GOLDEN / name
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path.name} is missing: regenerate (see tests/cli/golden_helpers.py)"
    assert json.loads(path.read_text(encoding="utf-8")) == document, f"{path.name} differs"

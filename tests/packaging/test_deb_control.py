"""The .deb's control file asks for what the app's texts need: a reward text or profile name in Chinese,
Japanese or Korean shows as boxes without a CJK font, and Arabic needs Noto's core fonts."""

from __future__ import annotations

from pathlib import Path

CONTROL = Path(__file__).resolve().parents[2] / "packaging" / "deb" / "control.in"


def control_field(name: str) -> list[str]:
    for line in CONTROL.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}:"):
            return [part.strip() for part in line.split(":", 1)[1].split(",")]
    raise AssertionError(f"{name} is missing from {CONTROL}")


def test_the_package_recommends_the_fonts_non_latin_texts_need():
    recommends = control_field("Recommends")
    assert "fonts-noto-cjk" in recommends
    assert "fonts-noto-core" in recommends

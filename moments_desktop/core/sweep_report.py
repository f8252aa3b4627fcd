"""Sweep reports: a self-contained HTML page, CSV and JUnit XML. Identifiers go through the Renderer, so a
masked renderer (presenter mode) masks them in every report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .render import Renderer
from .sweep import SweepCard, SweepResult
from .sweep_baseline import SweepDiff


class SweepReportFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    JUNIT = "junit"


@dataclass(frozen=True)
class ReportImage:
    """An image the HTML report embeds (as a data: URI, once per distinct URL)."""

    content_type: str
    data: bytes


def failures(result: SweepResult, diff: SweepDiff | None, *, fail_on_change: bool) -> list[tuple[SweepCard, str]]:
    """The cards a check fails, each with its reason: an error, declined, no reward; and, with
    ``fail_on_change``, any change from the baseline."""
    raise NotImplementedError


def csv_text(result: SweepResult, diff: SweepDiff | None, renderer: Renderer) -> str:
    raise NotImplementedError


def junit_xml(result: SweepResult, diff: SweepDiff | None, renderer: Renderer, *, fail_on_change: bool) -> str:
    """One <testcase> per combination of the plan (one not reached because the sweep was cancelled is
    <skipped>), a <failure> per failing one (see ``failures``)."""
    raise NotImplementedError


def html_report(result: SweepResult, diff: SweepDiff | None, renderer: Renderer,
                images: Mapping[str, ReportImage | None]) -> str:
    """One self-contained page: the summary, the changes, a card per combination (image, announcement,
    count, status). ``images`` by URL; a missing or None entry is drawn as a labelled placeholder."""
    raise NotImplementedError

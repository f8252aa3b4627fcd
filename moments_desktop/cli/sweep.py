"""``moments sweep``: the Session's campaign sweep (core/sweep.py) as a check a CI pipeline runs like a test suite.

It parses the ``--field`` lists, asks the Session for the plan (which decides what is valid and how many
combinations are too many), reads the baseline, and only then sends: getRewardInfo per combination, through
``Session.run_sweep`` — never getReward. What failed is ``sweep_report.failures``'s answer, the reports and
the baseline are the Session's to write; this module renders, reports progress and picks the exit code.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moments_desktop.api_schema import BODY_FIELDS, DEVICE_TYPES

from .context import find_profile, open_session, run_async
from .exit_codes import ExitCode
from .output import Output, UsageError

if TYPE_CHECKING:
    from argparse import Namespace

    from moments_desktop.core.render import Renderer
    from moments_desktop.core.session import Session
    from moments_desktop.core.sweep import SweepCard, SweepPlan, SweepProgress, SweepResult
    from moments_desktop.core.sweep_baseline import Baseline, Change, SweepDiff

# The reports, in the order they are written and named: (argument, SweepReportFormat value, the words).
REPORTS = (("junit", "junit", "JUnit report"), ("html", "html", "HTML report"), ("csv", "csv", "CSV report"))
FIELD_EXAMPLE = "deviceType=Android,iOS"
# Without a terminal, a progress line at every tenth of the sweep: a CI log shows it moving, and stays short.
PROGRESS_STEPS = 10
# The failing (and the changed) combinations shown on stdout at most: a log stays readable; the reports and
# --json have every one.
TABLE_ROWS = 100


# --- the arguments, before anything is opened ----------------------------------------------------


def value_lists(fields: list[str], all_devices: bool) -> dict[str, list[str]]:
    """``--field NAME=V1,V2`` (repeatable; the same field twice adds its values) and ``--all-devices`` as
    the value lists the Session plans with. A UsageError names what is wrong and the fields there are."""
    from moments_desktop.core.sweep import parse_value_list

    lists: dict[str, list[str]] = {}
    for given in fields:
        name, equals, text = given.partition("=")
        name = name.strip()
        if not equals:
            raise UsageError(f"--field {given!r} has no values: write NAME=V1,V2 (for example {FIELD_EXAMPLE})")
        canonical = _field_name(name)
        if canonical is None:
            raise UsageError(f"--field {name!r} is not a request field: use one of {', '.join(BODY_FIELDS)} "
                             f"(for example --field {FIELD_EXAMPLE})")
        values = parse_value_list(text)
        if not values:
            raise UsageError(f"--field {canonical}= has no values: write {canonical}=V1,V2 (for example "
                             f"{FIELD_EXAMPLE})")
        lists.setdefault(canonical, []).extend(values)
    if all_devices:
        lists.setdefault("deviceType", []).extend(DEVICE_TYPES)
    return {name: list(dict.fromkeys(values)) for name, values in lists.items()}


def _field_name(name: str) -> str | None:
    """The body field named (``devicetype`` is ``deviceType``: the API's names are easy to mistype)."""
    return next((f for f in BODY_FIELDS if f.casefold() == name.casefold()), None)


# --- the command -----------------------------------------------------------------------------------


@dataclass
class _Written:
    """What the sweep wrote, and what it could not (each a path and why)."""

    reports: dict[str, str] = field(default_factory=dict)  # argument ("junit") -> the path written
    saved_baseline: str | None = None
    problems: list[str] = field(default_factory=list)


def sweep(args: Namespace, out: Output) -> int:
    from moments_desktop.core.errors import MomentsError

    from .verdicts import exit_code_for_error

    if args.fail_on_change and not args.baseline:
        raise UsageError("--fail-on-change compares with a baseline: add --baseline FILE (one --save-baseline "
                         "wrote)")
    lists = value_lists(args.field, args.all_devices)  # a bad --field is refused before anything is opened
    try:
        return run_async(_sweep(args, out, lists))
    except MomentsError as exc:  # nothing was sent: what to do about it in this command's words, when we have them
        hint = _command_line_hint(exc)
        if hint is None:
            raise
        out.error(hint)
        return exit_code_for_error(exc)


def _command_line_hint(error: BaseException) -> str | None:
    """As ``moments info`` words them: the flag that starts the built-in sandbox, the command that stores a key."""
    from moments_desktop.core.errors import MissingKeyError, SandboxNotRunningError

    if isinstance(error, SandboxNotRunningError):
        return (f"{error.title}. Add --sandbox to start it for this sweep, or use a profile with a real endpoint. "
                "Nothing was sent.")
    if isinstance(error, MissingKeyError):
        return (f"{error.title}. Store it in the system keychain with 'moments key set --profile NAME', then try "
                "again. Nothing was sent.")
    return None


async def _sweep(args: Namespace, out: Output, lists: dict[str, list[str]]) -> int:
    from moments_desktop.core.sweep import SweepRun, SweepStoppedError

    async with open_session(out, with_sandbox=args.sandbox) as session:
        profile = find_profile(session, args.profile)
        plan = _plan(session, profile.id, lists, args)
        baseline = await session.load_baseline(args.baseline) if args.baseline else None  # 6 when unreadable
        renderer = session.renderer
        out.note(f"Sweeping “{renderer.profile_name(profile.name)}” at {renderer.url(plan.base_url)}: "
                 f"{plan_words(plan)}")
        run = SweepRun(plan)
        progress = _ProgressLine(out)
        cancelled = False
        stopped: SweepStoppedError | None = None
        try:
            result = await session.run_sweep(run, progress)
        except asyncio.CancelledError:  # Ctrl+C: what came back is reported, then exit 130
            _uncancel()
            cancelled = True
            result = run.result(cancelled=True)
        except SweepStoppedError as exc:  # the endpoint stopped answering: what came back, then its line (7)
            stopped = exc
            result = exc.result if exc.result is not None else run.result(stopped=exc.message)
        finally:
            progress.done()
        diff = session.compare_sweep(result, baseline) if baseline is not None else None
        written = await _write(session, args, result, diff)
        failing = _failures(result, diff, args.fail_on_change, renderer)
        code = _exit_code(result, failing, written)
        if args.json:
            out.json("sweep", sweep_document(session, profile, result, diff, failing, written, args, code))
        else:
            out.end_live()
            for line in summary_lines(renderer, profile.name, result, diff, failing, written, args):
                out.line(line)
        if stopped is not None:
            unsaved = ([f"The baseline was not saved to {args.save_baseline} (a stopped sweep is not one)."]
                       if args.save_baseline else [])
            out.error(" ".join([stopped.message, *unsaved, *written.problems]))
        elif cancelled:
            out.error(_interrupted_line(result, written, args))
        elif written.problems:
            out.error(" ".join(written.problems))
        return code


def _uncancel() -> None:
    """The cancel was Ctrl+C, and it is handled here: the task goes on to report, as if not cancelled (so a
    time limit set while reporting still works as asyncio.timeout expects)."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _plan(session: Session, profile_id: str, lists: dict[str, list[str]], args: Namespace) -> SweepPlan:
    """The Session's plan. Values typed here that it refuses (and too many combinations) are a usage error
    (exit 2); the profile's own saved values it refuses are a local problem (exit 6), as for ``moments info``."""
    from moments_desktop.core.errors import ValidationError

    try:
        return session.plan_sweep(profile_id, lists, base_url=args.endpoint_url)
    except ValidationError as exc:
        typed = {*lists, *(("base_url",) if args.endpoint_url is not None else ())}
        profile_own = [name for name in exc.field_errors if name in (*BODY_FIELDS, "base_url") and name not in typed]
        if profile_own and len(profile_own) == len(exc.field_errors):
            raise
        problems = "; ".join(f"{_FIELD_WORDS.get(name, name)}: {problem}".removeprefix(": ").rstrip(".")
                             for name, problem in exc.field_errors.items())
        raise UsageError(f"the sweep cannot be planned: {problems}. Nothing was sent.") from None


# What plan_sweep's problems are about, in this command's words ("" for one that says it all itself).
_FIELD_WORDS = {"base_url": "the endpoint", "combinations": ""}


def plan_words(plan: SweepPlan) -> str:
    """"48 combinations, about 11 s at 5 calls per second"."""
    count = plan.count
    rate = (f"{plan.calls} calls per second" if math.isclose(plan.window, 1.0, abs_tol=0.15)
            else f"{plan.calls} calls per {plan.window:g} s")
    noun = "combination" if count == 1 else "combinations"
    return f"{count} {noun}, {about(plan.estimated_seconds)} at {rate}"


def about(seconds: float) -> str:
    """"about 11 s", "about 3 min", "about 1 h 5 min"; "under 1 s"."""
    if seconds < 0.5:
        return "under 1 s"
    return f"about {duration_words(seconds)}"


def duration_words(seconds: float) -> str:
    seconds = round(max(seconds, 0))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


class _ProgressLine:
    """``on_card`` of the run: a line redrawn in place on a terminal; otherwise a line every tenth."""

    def __init__(self, out: Output):
        self.out = out
        self.live = out.interactive
        self.step = 0

    def __call__(self, _card: SweepCard, progress: SweepProgress) -> None:
        if self.live:
            self.out.live(progress_words(progress))
            return
        step = progress.done * PROGRESS_STEPS // max(progress.total, 1)
        if step > self.step:
            self.step = step
            self.out.note(progress_words(progress))

    def done(self) -> None:
        self.out.end_live()


def progress_words(progress: SweepProgress) -> str:
    percent = progress.done * 100 // max(progress.total, 1)
    eta = "" if progress.eta_s is None or progress.done >= progress.total else \
        f", {about(progress.eta_s)} left"
    return f"{progress.done}/{progress.total} ({percent} %): {counts_words(progress.counts)}{eta}"


def counts_words(counts: Any) -> str:
    from moments_desktop.core.sweep import STATUS_LABELS, SweepStatus

    return ", ".join(f"{STATUS_LABELS[status].lower()} {counts.get(status, 0)}" for status in SweepStatus)


async def _write(session: Session, args: Namespace, result: SweepResult, diff: SweepDiff | None) -> _Written:
    """The baseline (not from an interrupted sweep: it would hold only part of the plan) and the reports;
    each that cannot be written is noted with its path, and the others are written all the same."""
    from moments_desktop.core.errors import MomentsError
    from moments_desktop.core.sweep_baseline import IncompleteBaselineError
    from moments_desktop.core.sweep_report import SweepReportFormat

    written = _Written()
    if args.save_baseline:
        try:
            await session.save_baseline(result, args.save_baseline)
            written.saved_baseline = args.save_baseline
        except IncompleteBaselineError:
            pass  # the Session's rule; the interrupted line says the baseline was not saved
        except MomentsError as exc:
            written.problems.append(_problem("the baseline", args.save_baseline, exc))
    for argument, fmt, words in REPORTS:
        path = getattr(args, argument)
        if not path:
            continue
        try:
            await session.write_sweep_report(result, diff, path, SweepReportFormat(fmt),
                                             fail_on_change=args.fail_on_change)
            written.reports[argument] = path
        except MomentsError as exc:
            written.problems.append(_problem(f"the {words}", path, exc))
    return written


def _problem(what: str, path: str, error: BaseException) -> str:
    """The error's own sentence when it names the file (the Session's do), else one that does."""
    message = getattr(error, "message", None) or str(error)
    return message if str(path) in message else f"{what} could not be written to {path}: {message}"


def _failures(result: SweepResult, diff: SweepDiff | None, fail_on_change: bool,
              renderer: Renderer) -> dict[int, str]:
    """The failing cards' reasons, by card index: ``sweep_report.failures``, the JUnit report's own rule."""
    from moments_desktop.core.sweep_report import failures

    return {card.index: reason
            for card, reason in failures(result, diff, fail_on_change=fail_on_change, renderer=renderer)}


def _exit_code(result: SweepResult, failing: dict[int, str], written: _Written) -> ExitCode:
    if result.stopped is not None or (result.unanswered and not result.cancelled):
        return ExitCode.NETWORK  # the endpoint gave nothing back: no answer about the campaign at all
    if result.cancelled:
        return ExitCode.INTERRUPTED
    if written.problems:
        return ExitCode.LOCAL  # the check's own answer is printed; what the pipeline keeps is missing
    return ExitCode.SWEEP_FAILED if failing else ExitCode.SUCCESS


def _interrupted_line(result: SweepResult, written: _Written, args: Namespace) -> str:
    parts = [f"interrupted after {len(result.cards)} of {result.plan.count} combinations (nothing was claimed: "
             "a sweep only sends getRewardInfo)"]
    if written.reports:
        parts.append("the reports hold the combinations that came back")
    if args.save_baseline:
        parts.append(f"the baseline was not saved to {args.save_baseline} (an interrupted sweep is not one)")
    return " ".join(["; ".join(parts) + ".", *written.problems])


# --- the text on stdout ------------------------------------------------------------------------------


def _columns(plan: SweepPlan) -> tuple[str, ...]:
    """The fields that tell the combinations apart (all five when none does)."""
    return plan.swept_fields or BODY_FIELDS


def _cells(renderer: Renderer, plan: SweepPlan, card: SweepCard) -> list[str]:
    values = card.combination.fields()
    return [str(card.index + 1), *(_one_line(renderer.field_value(name, values[name])) or "-"
                                   for name in _columns(plan))]


def summary_lines(renderer: Renderer, profile_name: str, result: SweepResult, diff: SweepDiff | None,
                  failing: dict[int, str], written: _Written, args: Namespace) -> list[str]:
    from moments_desktop.core.sweep import STATUS_LABELS, SweepStatus

    from .records import table_lines

    plan = result.plan
    seconds = (result.finished_at - result.started_at).total_seconds()
    reached = (f"{len(result.cards)} of {plan.count} combinations (interrupted)" if result.cancelled
               else f"{plan.count} combination{'' if plan.count == 1 else 's'}")
    lines = [f"Sweep of “{renderer.profile_name(profile_name)}” at {renderer.url(plan.base_url)}: {reached} "
             f"in {seconds:.1f} s",
             f"  {counts_words(result.counts)}"]
    by_index = {card.index: card for card in result.cards}
    if failing:
        lines += ["", f"Failing ({len(failing)}):"]
        rows = [[*_cells(renderer, plan, by_index[i]), STATUS_LABELS[by_index[i].status],
                 _one_line(reason) if by_index[i].status is not SweepStatus.REWARD
                 else "changed since the baseline (below)"]
                for i, reason in sorted(failing.items())]
        lines += ["  " + line for line in table_lines(("#", *_columns(plan), "STATUS", "WHY"), rows[:TABLE_ROWS])]
        if len(rows) > TABLE_ROWS:
            lines.append(f"  … and {len(rows) - TABLE_ROWS} more (every one is in the reports and in --json)")
    elif result.cards and not result.cancelled:
        lines += ["", "Every combination passed."]
    if diff is not None:
        lines += [""] + _change_lines(renderer, plan, result, diff, args)
    for argument, _fmt, words in REPORTS:
        if argument in written.reports:
            lines.append(f"{words[0].upper()}{words[1:]} written to {written.reports[argument]}")
    if written.saved_baseline:
        lines.append(f"Baseline saved to {written.saved_baseline}")
    return lines


def _change_lines(renderer: Renderer, plan: SweepPlan, result: SweepResult, diff: SweepDiff,
                  args: Namespace) -> list[str]:
    from moments_desktop.core.sweep_report import describe_changes, elsewhere_note

    from .records import table_lines

    changed = [card for card in result.cards if diff.of(card)]
    saved = f", saved {diff.baseline.saved_at}" if diff.baseline.saved_at else ""
    if not changed:
        lines = [f"No change since the baseline ({args.baseline}{saved})."]
    else:
        consequence = "" if args.fail_on_change else " (not failures without --fail-on-change)"
        lines = [f"Changed since the baseline ({args.baseline}{saved}): {len(changed)}{consequence}"]
        rows = [[*_cells(renderer, plan, card), describe_changes(diff.of(card), renderer)]
                for card in sorted(changed, key=lambda c: c.index)]
        lines += ["  " + line for line in table_lines(("#", *_columns(plan), "CHANGE"), rows[:TABLE_ROWS])]
        if len(rows) > TABLE_ROWS:
            lines.append(f"  … and {len(rows) - TABLE_ROWS} more (every one is in the reports and in --json)")
    note = elsewhere_note(result, diff, renderer)
    if note:
        lines.append(note)
    if diff.gone:
        lines.append(f"{len(diff.gone)} combination{'' if len(diff.gone) == 1 else 's'} of the baseline "
                     f"{'was' if len(diff.gone) == 1 else 'were'} not in this sweep")
    return lines


def change_values(renderer: Renderer, change: Change) -> tuple[Any, Any]:
    """A change's before and after as shown: image URLs through the renderer, the rest as they are."""
    from moments_desktop.core.sweep_baseline import ChangeKind

    if change.kind is ChangeKind.IMAGE:
        return (renderer.url(change.before) or None if change.before else None,
                renderer.url(change.after) or None if change.after else None)
    return change.before, change.after


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# --- the JSON document (moments_desktop/cli/SCHEMA.md) -------------------------------------------------


def sweep_document(session: Session, profile: Any, result: SweepResult, diff: SweepDiff | None,
                   failing: dict[int, str], written: _Written, args: Namespace, code: int) -> dict[str, Any]:
    renderer = session.renderer
    plan = result.plan
    changes = [{"index": card.index, "request": _request(renderer, card),
                "changes": [_change_document(renderer, c) for c in diff.of(card)]}
               for card in result.cards if diff is not None and diff.of(card)]
    return {
        "ok": code == ExitCode.SUCCESS,
        "exit_code": int(code),
        "profile": {"id": renderer.identifier(profile.id), "name": renderer.profile_name(profile.name)},
        "endpoint": renderer.url(plan.base_url),
        "plan": {
            "count": plan.count,
            "swept_fields": list(plan.swept_fields),
            "values": {name: [renderer.field_value(name, v) for v in plan.values[name]] for name in BODY_FIELDS},
            "calls": plan.calls,
            "window_s": plan.window,
            "estimated_s": round(plan.estimated_seconds, 1),
        },
        "cancelled": result.cancelled,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "counts": {str(status.value): result.counts.get(status, 0) for status in _statuses()},
        "failed": len(failing),
        "cards": [_card_document(renderer, card, failing.get(card.index),
                                 diff.of(card) if diff is not None else None)
                  for card in sorted(result.cards, key=lambda c: c.index)],
        "baseline": _baseline_document(renderer, diff.baseline, args.baseline, diff) if diff is not None else None,
        "changes": changes,
        "reports": {argument: written.reports.get(argument) for argument, _fmt, _words in REPORTS},
        "saved_baseline": written.saved_baseline,
        "problems": list(written.problems),
    }


def _statuses() -> tuple[Any, ...]:
    from moments_desktop.core.sweep import SweepStatus

    return tuple(SweepStatus)


def _request(renderer: Renderer, card: SweepCard) -> dict[str, str]:
    return dict(renderer.fields(card.combination.fields()))


def _card_document(renderer: Renderer, card: SweepCard, failure: str | None,
                   changes: tuple[Change, ...] | None) -> dict[str, Any]:
    from moments_desktop.core.sweep_report import problem_text

    return {
        "index": card.index,
        "request": _request(renderer, card),
        "status": str(card.status.value),
        "notification_text": card.notification_text,
        "image_url": renderer.url(card.image_url) if card.image_url else None,
        "remaining_count": card.remaining_count,
        "http_status": card.http_status,
        "problem": problem_text(card, renderer) if card.problem else None,
        "journal_id": card.journal_id,
        "failure": failure,
        "changes": None if changes is None else [_change_document(renderer, c) for c in changes],
    }


def _change_document(renderer: Renderer, change: Change) -> dict[str, Any]:
    from moments_desktop.core.sweep_baseline import ChangeKind

    before, after = change_values(renderer, change)
    return {"kind": str(change.kind.value), "before": before, "after": after,
            "delta": change.delta if change.kind is ChangeKind.COUNT else None}


def _baseline_document(renderer: Renderer, baseline: Baseline, path: str, diff: SweepDiff) -> dict[str, Any]:
    return {
        "file": str(Path(path)),
        "saved_at": baseline.saved_at,
        "profile_name": renderer.profile_name(baseline.profile_name),
        "endpoint": renderer.url(baseline.base_url),
        "changed": diff.changed_count,
        "gone": [dict(renderer.fields(entry.fields)) for entry in diff.gone],
    }


__all__ = ["sweep", "value_lists"]

"""``moments info`` and ``moments claim``: the two API calls, through the Session the window uses.

Each asks the Session (preview; plan_claim, confirmation_missing, claim), renders its answer through the
Session's renderer (core/render.py) as text or as a schema-1 JSON document (moments_desktop/cli/SCHEMA.md),
and returns the exit code of its verdict (core/verdict.py). No rule is decided here: which claims need
``--confirm`` is ``ClaimPlan.needs_typed_confirmation``, whether what was typed is enough is
``confirmation_missing`` (--yes for test mode, the campaign ID for live). A claim is sent at most once;
nothing here retries anything.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moments_desktop.api_schema import Endpoint, Outcome

from .context import find_profile, open_session, run_async
from .exit_codes import ExitCode
from .output import Output

if TYPE_CHECKING:
    from argparse import Namespace

    from moments_desktop.core.client import CallResult
    from moments_desktop.core.errors import MomentsError
    from moments_desktop.core.operations import ClaimResult
    from moments_desktop.core.render import Renderer
    from moments_desktop.core.reward import RewardInfo
    from moments_desktop.core.session import ClaimPlan, Session

# The verdict word of a claim the CLI did not send because it was not confirmed (exit 2): not one of the
# Session's verdicts, since the Session was never asked to send it.
NOT_CONFIRMED = "not_confirmed"
HISTORY_HINT = "moments history --unresolved"


# --- info ---------------------------------------------------------------------------------------


def info(args: Namespace, out: Output) -> int:
    return run_async(_info(args, out))


async def _info(args: Namespace, out: Output) -> int:
    from moments_desktop.core.errors import MomentsError

    from .verdicts import exit_code_for_error, exit_code_for_result

    async with open_session(out, with_sandbox=args.sandbox) as session:
        profile = find_profile(session, args.profile)
        base_url = args.endpoint_url
        request = session.resolve(profile.id, base_url)
        renderer = session.renderer
        document = _call_document(renderer, profile, request.url(Endpoint.GET_REWARD_INFO), request.body())
        out.progress(f"Sending getRewardInfo to {renderer.url(request.url(Endpoint.GET_REWARD_INFO))}…")
        started = time.perf_counter()
        try:
            result = await session.preview(profile.id, base_url)
        except MomentsError as exc:  # nothing was sent: no key, the keychain, the sandbox not running
            code = exit_code_for_error(exc)
            _error_out(out, args, "info", document, exc, code, started, sandbox_hint=_needs_sandbox(exc))
            return code
        code = exit_code_for_result(result)
        _fill_result(document, renderer, result, code, started)
        if args.json:
            out.json("info", document)
        else:
            _print_info(out, renderer, profile.name, result)
        if result.error is not None:
            out.error(result.error.message)
        return code


def _print_info(out: Output, renderer: Renderer, profile_name: str, result: CallResult) -> None:
    if result.reward is None:
        return  # the one line on stderr says why
    exchange = result.exchange
    status = f"HTTP {exchange.status}" if exchange.status is not None else "no answer"
    duration = f", {exchange.duration_ms:.0f} ms" if exchange.duration_ms is not None else ""
    out.line(f"Reward of “{renderer.profile_name(profile_name)}” (getRewardInfo, {status}{duration}):")
    for label, value in _reward_lines(renderer, result.reward):
        out.line(f"  {label + ':':<16}{value}")


def _reward_lines(renderer: Renderer, reward: RewardInfo) -> list[tuple[str, str]]:
    """The customer card's lines, as the Preview tab words them (ui/preview_panel.py)."""
    count = reward.remaining_count
    end = reward.campaign_end_text
    lines = [
        ("Text", reward.notification_text or "(the reward has no announcement text)"),
        ("Remaining", "not reported" if count is None else f"{count} reward{'' if count == 1 else 's'} left"),
        ("Campaign ends", end or "no end date given"),
        ("Image", renderer.url(reward.image_url) if reward.image_url else "(none)"),
    ]
    if reward.reward_url:
        lines.append(("Reward URL", renderer.url(reward.reward_url)))
    lines += [(name, _extra_text(value)) for name, value in reward.extra.items()]
    return lines


def _extra_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- claim --------------------------------------------------------------------------------------


@dataclass
class _ClaimStage:
    """How far a claim got, for the words of an interruption: before ``sending`` nothing can have left."""

    sending: bool = False
    answered: bool = False
    # Interrupted in session.claim: how the claim really ended, from its journal row (the Session's
    # interrupted_claim()): None = no intent written; the entry; or UNKNOWN_ROW when it could not be read.
    interrupted: Any = None
    reward_url_shown: str | None = None  # the reward URL as the renderer shows it, when the row is a success


UNKNOWN_ROW = object()


def claim(args: Namespace, out: Output) -> int:
    stage = _ClaimStage()
    try:
        return run_async(_claim(args, out, stage))
    except KeyboardInterrupt:
        if not stage.sending or stage.answered:
            raise  # run() says "interrupted": nothing was sent, or the answer is in the history
        return _interrupted_claim(args, out, stage)


def _interrupted_claim(args: Namespace, out: Output, stage: _ClaimStage) -> int:
    """The words for a Ctrl+C during the claim, from what its journal row says happened."""
    entry = stage.interrupted
    outcome = getattr(entry, "outcome", None)
    if entry is None or outcome is Outcome.NOT_SENT:
        out.error("interrupted before the claim was sent: nothing was sent and nothing was spent.")
        return ExitCode.INTERRUPTED
    if outcome is Outcome.SUCCESS and stage.reward_url_shown:
        # The answer was in (and journaled) before the interrupt took effect: the reward is claimed; show it.
        if not args.json:
            out.line(f"Reward claimed: {stage.reward_url_shown}")
            out.line(f"Journal entry #{entry.id} ({outcome.value})")
        out.error(f"interrupted after the answer arrived: the reward was claimed ({stage.reward_url_shown}, "
                  f"history entry #{entry.id}).")
        return ExitCode.SUCCESS
    if entry is not UNKNOWN_ROW and outcome not in (Outcome.PENDING, Outcome.UNKNOWN):
        out.error(f"interrupted after the answer arrived: the claim ended {outcome.value} "
                  f"(history entry #{entry.id}; see 'moments history').")
        return ExitCode.INTERRUPTED
    out.error("interrupted while the claim was in flight: it may have been sent, so its outcome is unknown "
              f"(the history records it as unknown). Check the campaign (or the sandbox ledger) and "
              f"'{HISTORY_HINT}' before claiming again; it is never sent again by itself.")
    return ExitCode.INTERRUPTED


async def _claim(args: Namespace, out: Output, stage: _ClaimStage) -> int:
    from moments_desktop.core.errors import MomentsError
    from moments_desktop.core.session import confirmation_missing

    from .verdicts import exit_code_for_error, exit_code_for_result

    async with open_session(out, with_sandbox=args.sandbox, need_writable_journal=True) as session:
        profile = find_profile(session, args.profile)
        renderer = session.renderer
        request = session.resolve(profile.id, args.endpoint_url)
        document = _call_document(renderer, profile, request.url(Endpoint.GET_REWARD), request.body())
        started = time.perf_counter()
        try:
            plan = session.plan_claim(profile.id, args.endpoint_url)
        except MomentsError as exc:  # invalid values, claims turned off: nothing sent
            code = exit_code_for_error(exc)
            _error_out(out, args, "claim", document, exc, code, started, sandbox_hint=_needs_sandbox(exc))
            return code
        document.update(_plan_document(renderer, plan))

        refusal = _confirmation_refusal(plan, confirmation_missing(plan, args.confirm, confirmed=args.yes))
        if refusal is not None:
            message = f"The claim was not confirmed: {refusal}. Nothing was sent."
            document.update(ok=False, verdict=NOT_CONFIRMED, exit_code=int(ExitCode.USAGE), sent=False,
                            error={"title": "The claim was not confirmed", "detail": refusal, "advice":
                                   "Nothing was sent.", "status": None, "notification_text": None,
                                   "message": message})
            if args.json:
                out.json("claim", document)
            else:
                _print_would_send(out, renderer, plan)
            out.error(message)
            return ExitCode.USAGE

        typed = args.confirm if plan.needs_typed_confirmation else None
        out.progress(f"Claiming one reward at {renderer.url(plan.claim_url)} (sent once, never retried)…")
        stage.sending = True  # not reset on the way out: a Ctrl+C unwinds through here before claim() sees it
        try:
            result = await session.claim(plan, typed)
        except asyncio.CancelledError:
            await _learn_interrupted(session, stage)
            raise
        except MomentsError as exc:
            stage.answered = True
            code = exit_code_for_error(exc)
            _error_out(out, args, "claim", document, exc, code, started,
                       sent=getattr(exc, "may_have_been_sent", False) or None,
                       sandbox_hint=_needs_sandbox(exc))
            return code
        stage.answered = True
        code = exit_code_for_result(result.call)
        _fill_result(document, renderer, result.call, code, started)
        _fill_claim(document, renderer, result)
        if args.json:
            out.json("claim", document)
        else:
            _print_claim(out, renderer, result)
        _claim_notices(out, result)
        if out.stdout_problem is not None:
            _result_not_printed(out, renderer, result)
        return code  # the claim's own code, whether or not stdout took its result


async def _learn_interrupted(session: Any, stage: _ClaimStage) -> None:
    """Read the interrupted claim's journal row (the Session finished journaling it before the cancel
    reached here); a row that cannot be read leaves the outcome unknown."""
    from moments_desktop.core.errors import MomentsError

    try:
        entry = await session.interrupted_claim()
    except MomentsError:
        stage.interrupted = UNKNOWN_ROW
        return
    stage.interrupted = entry
    if entry is not None and entry.outcome is Outcome.SUCCESS and entry.reward_url:
        stage.reward_url_shown = session.renderer.url(entry.reward_url)


def _result_not_printed(out: Output, renderer: Renderer, result: ClaimResult) -> None:
    """The claim was sent and its result could not be printed: where to find it, in the one line stderr has."""
    if result.journal_id is not None:
        where = f"it is in the history as entry #{result.journal_id} ({result.call.outcome.value})"
    elif result.rescue_path is not None:
        where = f"its answer is kept in {result.rescue_path}"
    else:
        where = f"see '{HISTORY_HINT}'"
    url = f"; its reward URL: {renderer.url(result.reward_url)}" if result.reward_url else ""
    out.error(f"the claim's result could not be printed ({out.stdout_problem}): {where}{url}")


def _confirmation_refusal(plan: ClaimPlan, missing: Any) -> str | None:
    """The Session's answer (``confirmation_missing``: the rule is its own) in the command line's words."""
    from moments_desktop.core.session import ConfirmationMissing

    if missing is None:
        return None
    if not plan.needs_typed_confirmation:
        if missing is ConfirmationMissing.TYPED_MISMATCH:
            return "--confirm does not match the profile's campaign ID exactly (case and spaces count)"
        return "the profile is in test mode: confirm with --yes"
    why = ("the endpoint is not the profile's saved one, so the claim counts as live"
           if plan.unsaved_endpoint else "the profile is live")
    if missing is ConfirmationMissing.TYPED_MISMATCH:
        return f"{why}, and --confirm does not match its campaign ID exactly (case and spaces count)"
    return f"{why}: confirm with --confirm CAMPAIGN_ID, its campaign ID typed exactly (--yes alone never does)"


def _print_would_send(out: Output, renderer: Renderer, plan: ClaimPlan) -> None:
    from moments_desktop.core.wire import build_request

    wire = build_request(plan.request, Endpoint.GET_REWARD, "")
    out.line("Not sent. This is what the claim would send (getReward, billed: it consumes one reward):")
    out.line(f"  {wire.method} {renderer.url(wire.url)}")
    for name, value in _shown_headers(renderer, wire.headers).items():
        out.line(f"  {name}: {value}")
    for name, value in renderer.fields(plan.fields):
        out.line(f"  {name + ':':<16}{value}")
    out.line(f"  Mode:           {'live' if plan.live else 'test mode'}"
             + (" (the endpoint is not the profile's saved one)" if plan.unsaved_endpoint else ""))
    if plan.cost_per_action is not None:
        from moments_desktop.core.exports import money

        out.line(f"  Cost per claim: {money(plan.cost_per_action, plan.currency)}")
    import shlex

    confirm = (f"--confirm {shlex.quote(renderer.identifier(plan.typed_confirmation))}"
               if plan.needs_typed_confirmation
               else "--yes")
    out.line(f"To send it: add {confirm}")


def _shown_headers(renderer: Renderer, headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    from moments_desktop.api_schema import API_KEY_HEADER

    return {name: renderer.key() if name.lower() == API_KEY_HEADER else value for name, value in headers}


def _print_claim(out: Output, renderer: Renderer, result: ClaimResult) -> None:
    if result.reward_url:
        out.line(f"Reward claimed: {renderer.url(result.reward_url)}")
        reward = result.call.reward
        if reward is not None and reward.notification_text:
            out.line(f"  Text: {reward.notification_text}")
    if result.journal_id is not None:
        out.line(f"Journal entry #{result.journal_id} ({result.call.outcome.value})")


def _claim_notices(out: Output, result: ClaimResult) -> None:
    """The claim's error line, and where an answer the journal could not take is kept."""
    call = result.call
    if call.error is not None:
        out.error(_stderr_message(call.error, call.outcome is Outcome.UNKNOWN))
    if result.answer_not_journaled:
        reason = result.journal_error.reason if result.journal_error else "it could not be written"
        if result.rescue_path is not None:
            out.warning(f"the history could not record this answer ({reason}); it is kept in {result.rescue_path} "
                        "and merged into the history the next time it can be written (at the latest at the next "
                        "start of Moments Desktop).")
        else:
            out.warning(f"the history could not record this answer ({reason}), and the backup file could not be "
                        f"written either ({result.rescue_error}): copy the reward URL now.")


# --- the JSON document (moments_desktop/cli/SCHEMA.md) --------------------------------------------


def _call_document(renderer: Renderer, profile: Any, url: str, body: dict[str, str]) -> dict[str, Any]:
    """Every key of an info/claim document, in order, with what is known before sending."""
    return {
        "ok": False, "verdict": None, "exit_code": None,
        "profile": {"id": renderer.identifier(profile.id), "name": renderer.profile_name(profile.name)},
        "endpoint": renderer.url(url),
        "request": dict(renderer.fields(body)),
        "sent": False, "outcome": None, "status": None,
        "reward": None, "error": None, "duration_ms": None,
    }


def _plan_document(renderer: Renderer, plan: ClaimPlan) -> dict[str, Any]:
    from moments_desktop.core.wire import build_request

    wire = build_request(plan.request, Endpoint.GET_REWARD, "")
    return {
        "endpoint": renderer.url(plan.claim_url),
        "request": dict(renderer.fields(plan.fields)),
        "live": plan.live,
        "unsaved_endpoint": plan.unsaved_endpoint,
        "confirmation": "--confirm" if plan.needs_typed_confirmation else "--yes",
        "cost_per_action": None if plan.cost_per_action is None else str(plan.cost_per_action),
        "currency": plan.currency,
        "would_send": {"method": wire.method, "url": renderer.url(wire.url),
                       "headers": _shown_headers(renderer, wire.headers),
                       "body": dict(renderer.fields(plan.fields))},
        "reward_url": None, "journal_id": None, "answer_journaled": None, "rescue_path": None,
    }


def _fill_result(document: dict[str, Any], renderer: Renderer, result: CallResult, code: int,
                 started: float) -> None:
    from moments_desktop.core.verdict import verdict_of_result

    exchange = result.exchange
    document.update(
        ok=code == ExitCode.SUCCESS, verdict=verdict_of_result(result).value, exit_code=int(code),
        sent=exchange.outcome is not Outcome.NOT_SENT, outcome=exchange.outcome.value, status=exchange.status,
        reward=_reward_document(renderer, result.reward) if result.reward is not None else None,
        error=_error_document(result.error, _stderr_message(result.error, exchange.outcome is Outcome.UNKNOWN))
        if result.error is not None else None,
        duration_ms=_duration(exchange.duration_ms, started))


def _fill_claim(document: dict[str, Any], renderer: Renderer, result: ClaimResult) -> None:
    document.update(
        reward_url=renderer.url(result.reward_url) if result.reward_url else None,
        journal_id=result.journal_id,
        answer_journaled=_answer_journaled(result),
        rescue_path=str(result.rescue_path) if result.rescue_path is not None else None)


def _answer_journaled(result: ClaimResult) -> bool | None:
    """SCHEMA.md's ``answer_journaled``: null when no answer arrived to journal (not sent, or the intent row
    could not be written, so it was never sent)."""
    if result.answer_not_journaled:
        return False
    if result.journal_id is not None:
        return True
    return None


def _reward_document(renderer: Renderer, reward: RewardInfo) -> dict[str, Any]:
    end = reward.campaign_end
    return {
        "notification_text": reward.notification_text,
        "reward_url": renderer.url(reward.reward_url) if reward.reward_url else None,
        "image_url": renderer.url(reward.image_url) if reward.image_url else None,
        "remaining_count": reward.remaining_count,
        "campaign_end": end.isoformat() if end is not None else None,
        "campaign_end_raw": reward.campaign_end_raw,
        "extra": dict(reward.extra),
    }


def _stderr_message(error: MomentsError, outcome_unknown: bool, message: str | None = None) -> str:
    """The one line on stderr, which is also the document's ``error.message``."""
    message = error.message if message is None else message
    return message + (f" It was not sent again. See '{HISTORY_HINT}'." if outcome_unknown else "")


def _error_document(error: MomentsError, message: str | None = None) -> dict[str, Any]:
    inner = getattr(error, "error", None)  # a ClaimStoppedError wraps the error that stopped the claim
    source = inner if inner is not None and hasattr(inner, "title") else error
    return {
        "title": error.title,
        "detail": error.detail or None,
        "advice": error.advice or None,
        "status": getattr(source, "status", None),
        "notification_text": getattr(source, "notification_text", None),
        "message": error.message if message is None else message,
    }


def _error_out(out: Output, args: Namespace, command: str, document: dict[str, Any], error: MomentsError,
               code: int, started: float, *, sent: bool | None = None, sandbox_hint: bool = False) -> None:
    """A call that ended on an error instead of a result: the JSON document (with --json), the one line."""
    from moments_desktop.core.verdict import verdict_of_error

    from moments_desktop.core.errors import MissingKeyError

    message = error.message
    if sandbox_hint:
        message = f"{error.title}. Add --sandbox to start it for this call, or use a profile with a real endpoint."
    elif isinstance(getattr(error, "error", error), MissingKeyError):
        message = f"{error.title}. Store it in the system keychain with 'moments key set --profile NAME', then try again."
    message = _stderr_message(error, bool(sent), message)
    if args.json:
        document.update(ok=False, verdict=_verdict_word(error, verdict_of_error), exit_code=int(code),
                        sent=bool(sent), outcome=Outcome.UNKNOWN.value if sent else Outcome.NOT_SENT.value,
                        error=_error_document(error, message), duration_ms=_duration(None, started))
        out.json(command, document)
    out.error(message)


def _verdict_word(error: MomentsError, verdict_of_error) -> str:
    from moments_desktop.core.session import ConfirmationError

    return NOT_CONFIRMED if isinstance(error, ConfirmationError) else verdict_of_error(error).value


def _needs_sandbox(error: BaseException) -> bool:
    from moments_desktop.core.errors import SandboxNotRunningError

    return isinstance(getattr(error, "error", error), SandboxNotRunningError)


def _duration(exchange_ms: float | None, started: float) -> float:
    """The exchange's own time when there was one, else the command's time since it began to ask."""
    ms = exchange_ms if exchange_ms is not None else (time.perf_counter() - started) * 1000
    return round(ms, 1)


__all__ = ["claim", "info"]

"""A Session verdict (``core/verdict.py``) as a ``moments`` exit code. Nothing is decided here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moments_desktop.core.verdict import Verdict, verdict_of_error, verdict_of_result

from .exit_codes import ExitCode

if TYPE_CHECKING:
    from moments_desktop.core.client import CallResult

EXIT_CODE_OF_VERDICT = {
    Verdict.SUCCESS: ExitCode.SUCCESS,
    Verdict.NO_REWARD: ExitCode.NO_REWARD,
    Verdict.REFUSED: ExitCode.REFUSED,
    Verdict.UNKNOWN: ExitCode.UNKNOWN,
    Verdict.LOCAL: ExitCode.LOCAL,
    Verdict.NETWORK: ExitCode.NETWORK,
    Verdict.INTERNAL: ExitCode.INTERNAL,
}


def exit_code_for_result(result: CallResult) -> ExitCode:
    return EXIT_CODE_OF_VERDICT[verdict_of_result(result)]


def exit_code_for_error(error: BaseException) -> ExitCode:
    from moments_desktop.core.session import ConfirmationError

    if isinstance(error, ConfirmationError):
        return ExitCode.USAGE  # not confirmed: nothing was sent
    return EXIT_CODE_OF_VERDICT[verdict_of_error(error)]

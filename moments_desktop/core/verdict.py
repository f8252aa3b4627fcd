"""What a call came to, in the few kinds a script acts on: the ``moments`` exit codes come from here.

The client already decides each call's Outcome and error; this only groups them, so the command line (and
anything else that needs one word for a result) decides nothing of its own. Grouping rules:

- a reward is SUCCESS;
- ``[]`` or an answer without any reward field is NO_REWARD (for getReward an empty 200 is UNKNOWN: the
  client says a reward may be gone, and that wins);
- the API refusing or declining (403, 429 throttled or over quota, a decline text, any other error answer)
  is REFUSED;
- sent with no complete answer is UNKNOWN when a reward may have been consumed (getReward); for the free
  getRewardInfo nothing is at stake, and a lost answer is NETWORK like one that never left;
- nothing left this machine because of the network (or the time limit ran out before sending) is NETWORK;
  because of something here (keychain, history, invalid values, no key, a claim in flight elsewhere) it is
  LOCAL. A result that was not sent is never REFUSED nor UNKNOWN, whatever its error's class.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from moments_desktop.api_schema import Outcome

from . import errors

if TYPE_CHECKING:
    from .client import CallResult


class Verdict(StrEnum):
    SUCCESS = "success"
    NO_REWARD = "no_reward"
    REFUSED = "refused"
    UNKNOWN = "unknown"
    LOCAL = "local"
    NETWORK = "network"
    INTERNAL = "internal"  # an unexpected error of ours (logged)


def verdict_of_result(result: CallResult) -> Verdict:
    if result.ok:
        return Verdict.SUCCESS
    error = result.error
    outcome = result.outcome
    if outcome is Outcome.UNKNOWN:
        return Verdict.UNKNOWN
    if outcome is Outcome.NOT_SENT:
        return _not_sent(error)
    if isinstance(error, (errors.NoRewardError, errors.EmptyAnswerError)):
        return Verdict.NO_REWARD
    if isinstance(error, errors.TransportError):
        # The free call: sent, no complete answer (a timeout, its deadline, a dropped connection); nothing at
        # stake. (A billed call in that state is UNKNOWN, above.)
        return Verdict.NETWORK
    if error is None:  # answered 2xx with a reward that has no URL is a BusinessError; this is defensive
        return Verdict.REFUSED
    if isinstance(error, errors.UnexpectedError):
        return Verdict.INTERNAL
    return Verdict.REFUSED


def _not_sent(error: BaseException | None) -> Verdict:
    """Nothing left this machine, whatever the error says: never REFUSED (the client's "no API key" is a
    ForbiddenError it made up, not the API's answer) and never UNKNOWN (a claim whose deadline ran out
    while it waited for the rate limiter is a ClaimDeadlineError, an OutcomeUnknownError, yet unsent)."""
    if isinstance(error, errors.TransportError):
        return Verdict.NETWORK  # could not connect, or the time limit ran out before anything was sent
    if isinstance(error, errors.UnexpectedError):
        return Verdict.INTERNAL
    return Verdict.LOCAL  # invalid values, no or unsendable key, the history, a claim in flight elsewhere


def verdict_of_error(error: BaseException | None) -> Verdict:
    """For a MomentsError raised instead of a result (nothing to show but the error)."""
    from .session import ClaimStoppedError

    if isinstance(error, ClaimStoppedError):
        return Verdict.UNKNOWN if error.may_have_been_sent else _not_sent(error.error)
    if isinstance(error, errors.OutcomeUnknownError):
        return Verdict.UNKNOWN
    if isinstance(error, errors.TransportError):
        return Verdict.NETWORK
    if isinstance(error, errors.UnexpectedError) or not isinstance(error, errors.MomentsError):
        return Verdict.INTERNAL
    if isinstance(error, errors.ApiError):
        return Verdict.REFUSED
    return Verdict.LOCAL

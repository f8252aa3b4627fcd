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
- nothing left this machine because of the network is NETWORK; because of something here (keychain,
  history, invalid values, no key, a claim in flight elsewhere) it is LOCAL.
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
        return Verdict.NETWORK if isinstance(error, errors.NotSentError) else verdict_of_error(error)
    if isinstance(error, (errors.NoRewardError, errors.EmptyAnswerError)):
        return Verdict.NO_REWARD
    if isinstance(error, (errors.PreviewTimeoutError, errors.ConnectionDroppedError)):
        return Verdict.NETWORK  # the free call: sent, no answer, nothing at stake
    if error is None:  # answered 2xx with a reward that has no URL is a BusinessError; this is defensive
        return Verdict.REFUSED
    if isinstance(error, errors.UnexpectedError):
        return Verdict.INTERNAL
    return Verdict.REFUSED


def verdict_of_error(error: BaseException | None) -> Verdict:
    """For a MomentsError raised instead of a result (nothing to show but the error)."""
    from .session import ClaimStoppedError

    if isinstance(error, ClaimStoppedError):
        return Verdict.UNKNOWN if error.may_have_been_sent else verdict_of_error(error.error)
    if isinstance(error, errors.OutcomeUnknownError):
        return Verdict.UNKNOWN
    if isinstance(error, errors.NotSentError):
        return Verdict.NETWORK
    if isinstance(error, errors.UnexpectedError) or not isinstance(error, errors.MomentsError):
        return Verdict.INTERNAL
    if isinstance(error, errors.ApiError):
        return Verdict.REFUSED
    return Verdict.LOCAL

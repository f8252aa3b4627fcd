"""core/verdict.py: every (outcome, error) the client, Operations and the Session produce, grouped into the
verdict a script acts on (and so the moments exit code). The results are built in the shapes those modules
make them (see core/client.py's _finish and its callers, operations.py's _not_sent); the CLI tests
(tests/cli/) check the same verdicts end to end against the real sandbox."""

from __future__ import annotations

import pytest

from moments_desktop.api_schema import Endpoint, Outcome
from moments_desktop.cli.exit_codes import ExitCode
from moments_desktop.cli.verdicts import exit_code_for_error, exit_code_for_result
from moments_desktop.core import errors
from moments_desktop.core.client import CallResult
from moments_desktop.core.exchange import Exchange
from moments_desktop.core.operations import ClaimInProgressError
from moments_desktop.core.reward import RewardInfo
from moments_desktop.core.session import ClaimsDisabledError, ClaimStoppedError, ConfirmationError
from moments_desktop.core.verdict import Verdict, verdict_of_error, verdict_of_result


class ClaimRefusedElsewhere(errors.MomentsError):
    """Stands for an error added later (e.g. the cross-process claim guard's): a MomentsError of no known
    family. A claim it stops before sending must still be LOCAL."""

    title = "A claim for this profile is in flight in another process"


def result(endpoint: Endpoint, outcome: Outcome, error: errors.MomentsError | None, *,
           reward: RewardInfo | None = None, status: int | None = None) -> CallResult:
    exchange = Exchange(endpoint=endpoint, url="http://127.0.0.1:9" + endpoint.path, request_headers={},
                        request_body={}, status=status, outcome=outcome)
    return CallResult(exchange=exchange, reward=reward, error=error)


INFO, CLAIM = Endpoint.GET_REWARD_INFO, Endpoint.GET_REWARD
NO_KEY = errors.ForbiddenError("no API key is set for this profile")  # the client's own, before sending

CASES = [
    # (id, result, verdict)
    ("reward", result(INFO, Outcome.SUCCESS, None, reward=RewardInfo(notification_text="hi"), status=200),
     Verdict.SUCCESS),
    ("claim-url", result(CLAIM, Outcome.SUCCESS, None, reward=RewardInfo(reward_url="https://r/1"), status=200),
     Verdict.SUCCESS),
    ("[]", result(INFO, Outcome.NO_REWARD, errors.NoRewardError(status=200), status=200), Verdict.NO_REWARD),
    ("claim-[]", result(CLAIM, Outcome.NO_REWARD, errors.NoRewardError(status=200), status=200), Verdict.NO_REWARD),
    ("info-{}", result(INFO, Outcome.ERROR, errors.EmptyAnswerError(), status=200), Verdict.NO_REWARD),
    ("claim-{}", result(CLAIM, Outcome.UNKNOWN, errors.EmptyAnswerError(), status=200), Verdict.UNKNOWN),
    ("decline", result(CLAIM, Outcome.NO_REWARD, errors.BusinessError(status=200, notification_text="ended"),
                       status=200), Verdict.REFUSED),
    ("403", result(INFO, Outcome.ERROR, errors.ForbiddenError(status=403), status=403), Verdict.REFUSED),
    ("429", result(INFO, Outcome.ERROR, errors.ThrottledError(status=429), status=429), Verdict.REFUSED),
    ("quota", result(CLAIM, Outcome.ERROR, errors.QuotaExceededError(status=429), status=429), Verdict.REFUSED),
    ("500", result(INFO, Outcome.ERROR, errors.ServerError(status=500), status=500), Verdict.REFUSED),
    ("html", result(INFO, Outcome.ERROR, errors.InvalidResponseError(status=200), status=200), Verdict.REFUSED),
    ("claim-504", result(CLAIM, Outcome.UNKNOWN, errors.OutcomeUnknownError("504"), status=504), Verdict.UNKNOWN),
    ("claim-dropped", result(CLAIM, Outcome.UNKNOWN, errors.OutcomeUnknownError("closed")), Verdict.UNKNOWN),
    ("claim-deadline", result(CLAIM, Outcome.UNKNOWN, errors.ClaimDeadlineError(5)), Verdict.UNKNOWN),
    ("info-timeout", result(INFO, Outcome.ERROR, errors.PreviewTimeoutError()), Verdict.NETWORK),
    ("info-deadline", result(INFO, Outcome.ERROR, errors.PreviewDeadlineError(5)), Verdict.NETWORK),
    ("info-dropped", result(INFO, Outcome.ERROR, errors.ConnectionDroppedError("closed")), Verdict.NETWORK),
    ("connect", result(INFO, Outcome.NOT_SENT, errors.NotSentError("refused")), Verdict.NETWORK),
    ("claim-connect", result(CLAIM, Outcome.NOT_SENT, errors.NotSentError("refused")), Verdict.NETWORK),
    # Not sent, whatever the error's class says:
    ("no-key", result(CLAIM, Outcome.NOT_SENT, NO_KEY), Verdict.LOCAL),
    ("unsendable-key", result(CLAIM, Outcome.NOT_SENT, errors.UnsendableKeyError()), Verdict.LOCAL),
    ("invalid", result(CLAIM, Outcome.NOT_SENT, errors.ValidationError({"appId": "required"})), Verdict.LOCAL),
    # A claim whose deadline ran out waiting for the rate limiter: a ClaimDeadlineError, but nothing went out.
    ("rate-limiter-deadline", result(CLAIM, Outcome.NOT_SENT, errors.ClaimDeadlineError(5)), Verdict.NETWORK),
    ("info-rate-limiter-deadline", result(INFO, Outcome.NOT_SENT, errors.PreviewDeadlineError(5)), Verdict.NETWORK),
    ("guard", result(CLAIM, Outcome.NOT_SENT, ClaimRefusedElsewhere()), Verdict.LOCAL),
    ("in-progress", result(CLAIM, Outcome.NOT_SENT, ClaimInProgressError()), Verdict.LOCAL),
    ("unexpected", result(INFO, Outcome.ERROR, errors.UnexpectedError()), Verdict.INTERNAL),
]


@pytest.mark.parametrize(("call", "verdict"), [pytest.param(c, v, id=i) for i, c, v in CASES])
def test_verdict_of_each_result(call, verdict):
    assert verdict_of_result(call) is verdict


def test_not_sent_is_never_refused_nor_unknown():
    for _id, call, verdict in CASES:
        if call.outcome is Outcome.NOT_SENT:
            assert verdict in (Verdict.LOCAL, Verdict.NETWORK, Verdict.INTERNAL), _id


@pytest.mark.parametrize(("error", "verdict"), [
    pytest.param(ClaimStoppedError(errors.MissingKeyError(), False), Verdict.LOCAL, id="stopped-no-key"),
    pytest.param(ClaimStoppedError(ClaimRefusedElsewhere(), False), Verdict.LOCAL, id="stopped-guard"),
    pytest.param(ClaimStoppedError(ClaimsDisabledError(), False), Verdict.LOCAL, id="stopped-claims-off"),
    pytest.param(ClaimStoppedError(errors.ClaimDeadlineError(5), False), Verdict.NETWORK, id="stopped-unsent-deadline"),
    pytest.param(ClaimStoppedError(errors.UnexpectedError(), True), Verdict.UNKNOWN, id="stopped-after-sending"),
    pytest.param(ClaimInProgressError(), Verdict.LOCAL, id="in-progress"),
    pytest.param(errors.MissingKeyError(), Verdict.LOCAL, id="no-key"),
    pytest.param(errors.SandboxNotRunningError(), Verdict.LOCAL, id="no-sandbox"),
    pytest.param(errors.ValidationError({"appId": "required"}), Verdict.LOCAL, id="invalid"),
    pytest.param(errors.OutcomeUnknownError(), Verdict.UNKNOWN, id="unknown"),
    pytest.param(errors.NotSentError(), Verdict.NETWORK, id="not-sent"),
    pytest.param(errors.PreviewTimeoutError(), Verdict.NETWORK, id="preview-timeout"),
    pytest.param(errors.ForbiddenError(status=403), Verdict.REFUSED, id="403"),
    pytest.param(errors.UnexpectedError(), Verdict.INTERNAL, id="unexpected"),
    pytest.param(RuntimeError("bug"), Verdict.INTERNAL, id="not-ours"),
])
def test_verdict_of_each_raised_error(error, verdict):
    assert verdict_of_error(error) is verdict


def test_exit_codes_follow_the_verdicts():
    assert exit_code_for_result(CASES[0][1]) is ExitCode.SUCCESS
    assert exit_code_for_result(result(CLAIM, Outcome.NOT_SENT, NO_KEY)) is ExitCode.LOCAL
    assert exit_code_for_error(ConfirmationError("type it")) is ExitCode.USAGE
    assert exit_code_for_error(ClaimStoppedError(ClaimRefusedElsewhere(), False)) is ExitCode.LOCAL

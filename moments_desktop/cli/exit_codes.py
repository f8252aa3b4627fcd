"""The ``moments`` exit codes: distinct, documented in ``moments --help`` and the README, tested.

The Session's verdict on an outcome (``core/verdict.py``) decides which one applies; this module only
numbers them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    SUCCESS = 0
    INTERNAL = 1  # a bug of ours: logged, told in one line with where the log is
    USAGE = 2  # a wrong argument, an unknown profile, a claim not confirmed (nothing sent)
    NO_REWARD = 3  # the service answered [] or an answer without reward fields
    REFUSED = 4  # the API refused or declined: 403, 429, a decline text, an error answer
    UNKNOWN = 5  # sent, and no complete answer came back: a reward may have been consumed
    LOCAL = 6  # not sent because of a local problem: keychain, journal, validation, a claim in flight elsewhere
    NETWORK = 7  # a network error: nothing sent, or a free call (getRewardInfo) that lost its connection
    SWEEP_FAILED = 8  # `moments sweep`: a combination is an error, declined or no reward (or changed, when asked)
    INTERRUPTED = 130  # Ctrl+C (for a claim already sent, the journal records the outcome as unknown)


EXIT_CODE_TABLE = (
    (ExitCode.SUCCESS, "success"),
    (ExitCode.INTERNAL, "an internal error (a bug; details in the log file named on stderr)"),
    (ExitCode.USAGE, "usage error: bad arguments, unknown profile, or a claim not confirmed (nothing sent)"),
    (ExitCode.NO_REWARD, "no reward: the service answered [] or an answer without reward fields"),
    (ExitCode.REFUSED, "the API refused or declined (403, 429, a decline text, an error answer)"),
    (ExitCode.UNKNOWN, "outcome unknown: sent, no complete answer; a reward may have been consumed"),
    (ExitCode.LOCAL, "not sent because of a local problem (keychain, history, invalid values, a claim "
                     "in flight elsewhere)"),
    (ExitCode.NETWORK, "network error: the claim was not sent (a preview may have been sent; it is free)"),
    (ExitCode.SWEEP_FAILED, "a sweep check failed: at least one combination is an error, declined or no reward "
                            "(or changed, with --fail-on-change)"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl+C)"),
)


def exit_code_help() -> str:
    return "exit codes:\n" + "\n".join(f"  {int(code):<4} {text}" for code, text in EXIT_CODE_TABLE)

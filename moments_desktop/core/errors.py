"""Typed errors with messages a person can act on.

Every failure the client can meet is one of these classes. Each carries a short
`title` (what happened) and `advice` (what to try), so the GUI and the CLI show the
same words without re-deriving them, and no caller ever needs a traceback.
"""

from __future__ import annotations


class MomentsError(Exception):
    """Base of every error this project raises on purpose."""

    title = "Something went wrong"
    advice = ""

    def __init__(self, detail: str = "", *, advice: str | None = None):
        self.detail = detail
        if advice is not None:
            self.advice = advice
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.title + (f": {self.detail}" if self.detail else "") + "."]
        if self.advice:
            parts.append(self.advice)
        return " ".join(p.replace("..", ".") for p in parts)


class ValidationError(MomentsError):
    """A request failed validation; `field_errors` maps field name to message."""

    title = "The request is not valid"
    advice = "Correct the highlighted fields."

    def __init__(self, field_errors: dict[str, str]):
        self.field_errors = dict(field_errors)
        detail = "; ".join(f"{k}: {v}" for k, v in self.field_errors.items())
        super().__init__(detail)


# --- transport -----------------------------------------------------------------


class TransportError(MomentsError):
    """The exchange did not complete at the HTTP level."""


class NotSentError(TransportError):
    """Nothing reached the server (DNS, refused connection, TLS, connect timeout): nothing was spent."""

    title = "Could not reach the endpoint"
    advice = "Nothing was sent and nothing was spent. Check the endpoint URL and your network, then try again."


NETWORK_SETTINGS_HINT = ("Check the proxy in Moments Desktop's File \u25b8 Network settings\u2026 (the moments command also "
                         "takes --proxy URL, --proxy system or --proxy none), or your system's proxy settings")


class CertificateError(NotSentError):
    """TLS verification failed: the endpoint's certificate is not trusted by this computer (self-signed, an
    unknown authority, a company's inspection proxy whose root is not installed), expired, or for another
    name. ``host`` is the endpoint's; ``technical`` keeps the TLS library's own words."""

    def __init__(self, host: str, reason: str, technical: str = ""):
        self.host = host
        self.technical = technical
        self.title = f"The certificate of {host} could not be verified"
        super().__init__(reason, advice=(
            "Nothing was sent and nothing was spent. If your company inspects HTTPS traffic, its root "
            "certificate must be installed in the operating system's certificate store (Moments Desktop trusts "
            "what the system trusts): ask your IT department. Otherwise check the endpoint's address; the "
            "server answering may not be the one you meant."))


class ProxyError(NotSentError):
    """The proxy the request was to go through could not be reached, refused it, or wants credentials.
    Nothing reached the endpoint. ``proxy`` is shown without credentials."""

    def __init__(self, title: str, detail: str = "", *, proxy: str = "", host: str = "", advice: str = ""):
        self.proxy = proxy
        self.host = host
        self.title = title
        super().__init__(detail, advice="Nothing was sent and nothing was spent. " + (advice or (
            NETWORK_SETTINGS_HINT + ", or ask your IT department which proxy to use.")))


class OutcomeUnknownError(TransportError):
    """The request may have reached the server but no answer came back.

    For getReward this means a reward may have been consumed and billed. It is never
    retried; the user must check (campaign dashboard, sandbox ledger) before claiming again.
    """

    title = "Outcome unknown"
    advice = (
        "The request was sent but no complete answer came back, so a reward may have been consumed. "
        "Check before claiming again."
    )


class PreviewTimeoutError(TransportError):
    """A read timeout on the free getRewardInfo call (nothing is at stake, so it is not 'unknown')."""

    title = "The server did not answer in time"
    advice = "The endpoint may be overloaded or unreachable. Try again in a moment."


class ConnectionDroppedError(TransportError):
    title = "The connection was closed before a complete answer arrived"
    advice = "The endpoint or a proxy in between dropped the connection. Try again."


def _seconds(value: float) -> str:
    return f"{value:g} s"


class PreviewDeadlineError(PreviewTimeoutError):
    """The free getRewardInfo ran past its overall deadline (retries and their waits included).

    A read timeout only counts silence between bytes: a server that drips its answer a byte at a time
    never trips one, so every preview also has a limit for the whole call."""

    advice = ("The server kept the connection open but its answer did not arrive in time, so the app "
              "stopped waiting. Nothing was spent. Try again later; the time limit is in the profile's settings.")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.title = f"The preview took longer than {_seconds(seconds)}"
        super().__init__()


class ClaimDeadlineError(OutcomeUnknownError):
    """A sent getReward ran past its overall deadline: abandoned, never sent again; a reward may be gone."""

    advice = ("The claim was sent, but its answer did not arrive in time, so the app stopped waiting and "
              "will not send it again. A reward may have been consumed: check the campaign (or the sandbox "
              "ledger) before claiming again.")

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"no complete answer arrived within {_seconds(seconds)}")


# --- HTTP / API ----------------------------------------------------------------


class ApiError(MomentsError):
    """The server answered, but not with a usable reward."""

    def __init__(self, detail: str = "", *, status: int | None = None, advice: str | None = None,
                 notification_text: str | None = None):
        self.status = status
        self.notification_text = notification_text
        super().__init__(detail, advice=advice)


class ForbiddenError(ApiError):
    title = "The API key was refused (403 Forbidden)"
    advice = "Check that the profile's API key is correct and belongs to this app and endpoint."


class ThrottledError(ApiError):
    title = "Too many requests (429)"
    advice = "The Moments API allows 5 calls per second per key. Wait a moment and try again."

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(detail, **kw)


class QuotaExceededError(ApiError):
    """429 ``{"message": "Limit Exceeded"}``: API Gateway's answer when the key's usage-plan quota (calls
    per day or month) is used up [AWS docs]. Not throttling: waiting seconds will not help, so it is never
    retried automatically. ``retry_after`` (seconds) is the endpoint's Retry-After, if it sent one."""

    title = "This API key's quota is used up (429 Limit Exceeded)"
    advice = ("The key has made every call its usage plan allows for the day or the month. Waiting a few "
              "seconds will not help and the app will not retry. Try again after the quota resets, or use "
              "a key with quota left.")

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        if not detail and retry_after is not None:
            detail = f"the endpoint says it resets in {_duration(retry_after)}"
        super().__init__(detail, **kw)


def _duration(seconds: float) -> str:
    """E.g. ``3 h 12 min``, ``45 s``: a wait a person reads at a glance."""
    seconds = max(0, round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


class ServerError(ApiError):
    title = "The server reported an error"
    advice = "This is a problem on the server side (or a gateway in between). Try again later."


class RequestRejectedError(ApiError):
    """A 4xx other than 403/429: the server did not accept what we sent."""

    title = "The server rejected the request"
    advice = "Check the request fields and the endpoint URL."


class InvalidResponseError(ApiError):
    """The answer is not what the contract describes (HTML, bad JSON, wrong types, too large)."""

    title = "The server's answer could not be understood"
    advice = "The endpoint may not be a Moments API, or a proxy answered instead. See the Raw tab for what came back."


class ResponseTooLargeError(InvalidResponseError):
    title = "The server's answer is too large"
    advice = "The answer was cut off to protect the app. The endpoint may be misconfigured or hostile."


class EmptyAnswerError(InvalidResponseError):
    """A JSON object with none of the reward fields (``{}``, or only unknown keys): not a reward, and not
    the contract's ``[]`` either. Never shown or journaled as a success."""

    title = "The answer has no reward fields"
    advice = ("The server answered with an object that holds none of the fields a reward has (no text, "
              "no reward URL, no image, no count). It is not a reward. The endpoint may not be a Moments API, "
              "or a proxy answered for it: check the profile's endpoint and see the Raw tab for what came back.")


class NoRewardError(ApiError):
    """The contract's `[]`: the reward does not exist for these parameters."""

    title = "No reward exists for these parameters"
    advice = "Check appId, momentId, deviceType, campaignId and rewardGroupId against the campaign."


class BusinessError(ApiError):
    """A getReward answer with no reward URL (inventory exhausted, campaign ended...).

    Its rewardNotificationText is the explanation; the docs ask to show it verbatim.
    """

    title = "The API declined"
    advice = ""

    @property
    def message(self) -> str:  # the docs: always show the API's own message
        return self.notification_text or super().message


# --- app-level ----------------------------------------------------------------


class MissingKeyError(MomentsError):
    title = "No API key for this profile"
    advice = "Add the profile's API key (it is kept in the system keychain), then try again."


class UnsendableKeyError(MomentsError):
    """The stored key has characters an HTTP header cannot carry (e.g. typographic dashes pasted
    from a document): sending would fail inside the HTTP library after a claim's intent is written."""

    title = "The stored API key cannot be sent"
    advice = ("It contains characters that cannot go in an HTTP header, often from copying it out of a "
              "document. Nothing was sent. Enter the key again as plain text.")


class SandboxNotRunningError(MomentsError):
    title = "The built-in sandbox is not running"
    advice = "Restart the app to start the sandbox, or choose a profile with a real endpoint."


class UnexpectedError(MomentsError):
    title = "Something unexpected went wrong"
    advice = "Try again. If it keeps happening, restart the app."


class SettingsUnwritableError(MomentsError):
    title = "The network settings could not be saved"
    advice = "Nothing was changed. Make the settings folder writable, then try again."

"""Overall deadlines of the network calls: the app's defaults and the bounds of a profile's own.

httpx's timeouts count the silence between two bytes; a server that drips its answer never trips
them. So each whole call has a limit of its own (core/client.py applies the preview's and the
claim's, ui/image_loader.py the image's). A profile may set its own within the bounds
(Profile.*_deadline_s; None: these defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_DEADLINE_S = 5
MAX_DEADLINE_S = 120


@dataclass(frozen=True)
class Deadlines:
    """Overall limits, in seconds, for one whole call: a preview (retries and their waits included),
    a reward image's download, a claim."""

    preview: float = 30.0
    image: float = 20.0
    claim: float = 30.0

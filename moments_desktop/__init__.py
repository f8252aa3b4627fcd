"""Moments Desktop: test and preview Amazon Moments rewards."""

import sys as _sys

__version__ = "0.1.0"
APP_NAME = "Moments Desktop"
APP_ID = "moments-desktop"

# httpx's package __init__ imports its own command-line client (httpx._main: rich, click, pygments;
# ~55 ms, a third of a `moments info`) whenever those happen to be installed, as HTTPie installs them.
# No process of ours runs httpx's command line, so it is marked absent before anything here imports httpx:
# httpx then defines the stub `main` it has for a missing [cli] extra. Every module of ours that imports
# httpx is in this package, so this runs before any of them; a process that imported httpx first keeps
# its httpx whole.
if "httpx" not in _sys.modules:
    _sys.modules.setdefault("httpx._main", None)

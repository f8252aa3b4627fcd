"""Qt widgets. Thin: they call the SessionBridge (bridge.py) and render what it emits; no sockets, files,
keyring or business rules here (those are core/session.py's)."""

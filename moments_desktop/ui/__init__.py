"""Qt widgets. Thin: they call controllers and render results; no sockets, files or keyring here."""

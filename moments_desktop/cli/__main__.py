"""``python -m moments_desktop.cli``: the same as the ``moments`` command."""

import sys

try:
    from moments_desktop.cli import main
except KeyboardInterrupt:  # Ctrl+C during the first import: no traceback either
    sys.stderr.write("moments: interrupted\n")
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())

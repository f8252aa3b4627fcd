"""``python -m moments_desktop``: start the desktop app."""

import sys

from moments_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())

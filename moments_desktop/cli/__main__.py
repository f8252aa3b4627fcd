"""``python -m moments_desktop.cli``: the same as the ``moments`` command."""

import sys

from moments_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())

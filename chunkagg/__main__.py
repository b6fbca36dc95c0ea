"""``python -m chunkagg``: the same as the ``chunkagg`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())

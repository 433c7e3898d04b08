"""``python -m headwater._private.cli``: the ``headwater`` command line."""

from headwater._private.cli import main

main()

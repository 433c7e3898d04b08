"""``python -m headwater.cli``: the ``headwater`` command line."""

from headwater.cli import main

main()

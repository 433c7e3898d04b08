"""The ``headwater`` command line (typer).

Imported only by the ``headwater`` console script and ``python -m
headwater.cli``; ``import headwater`` never imports typer or rich. The CLI
lives outside ``headwater._private`` because it imports the server (``headwater
server start``), and nothing under ``headwater._private`` may.

Example:
    >>> from typer.testing import CliRunner
    >>> from headwater.cli import app
    >>> CliRunner().invoke(app, ["version"]).exit_code
    0
"""

from headwater.cli._help import hide_flag_types

hide_flag_types()  # before the app's help is ever printed

from headwater.cli._app import app, main  # noqa: E402

__all__ = ["app", "main"]

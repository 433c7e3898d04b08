"""Regenerate ``src/headwater/_private/storage/sqlite_schema.sql`` from the migrations.

Run it after adding a migration (and bumping ``HEAD_REVISION`` in
``src/headwater/_private/storage/revision.py``)::

    python scripts/dump_sqlite_schema.py          # rewrite the file
    python scripts/dump_sqlite_schema.py --check  # exit 1 if it is out of date

It runs ``alembic upgrade head`` on a temporary SQLite database and writes
out that database's ``sqlite_master`` statements, which
``headwater._private.storage.sqlite_schema.ensure_sqlite_schema`` replays to
create a fresh database without alembic.
"""

from __future__ import annotations

import argparse
import sys

from headwater._private.storage.sqlite_schema import SCHEMA_FILE
from headwater.server.database.migrate import regenerate_sql


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file differs from the migrations")
    args = parser.parse_args()
    text = regenerate_sql()
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else None
    if args.check:
        if current != text:
            print(f"{SCHEMA_FILE} is out of date: run python scripts/dump_sqlite_schema.py",
                  file=sys.stderr)
            return 1
        print(f"{SCHEMA_FILE} is up to date")
        return 0
    if current == text:
        print(f"{SCHEMA_FILE} is up to date")
    else:
        with open(SCHEMA_FILE, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

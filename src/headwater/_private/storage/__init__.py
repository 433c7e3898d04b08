"""The storage core: what the embedded runtime and the server share to store runs.

Standard library only, and below both the runtime (``headwater._private``)
and the server (``headwater.server``), which import it and never the other
way round (``tests/test_layers.py`` checks both). It holds:

- ``state_types``: the state type enum every layer shares;
- ``bookkeeping``: how a run's row follows its states (the one rule);
- ``record_statements`` and friends: the SQLite write path of record
  batches, a sans-I/O statement generator with a ``sqlite3`` driver;
- ``lease_rules`` and ``lease_sqlite``: the concurrency slot lease rules and
  their SQLite statements;
- ``sqlite_schema`` and ``revision``: the SQLite schema at the head revision,
  created without alembic;
- ``transactions``: the ``sqlite3`` transaction every stdlib driver runs in.

PostgreSQL, SQLAlchemy and the migrations stay in ``headwater.server``.
Nothing is re-exported here: import the module you need, so importing one
piece never pays for the others.
"""

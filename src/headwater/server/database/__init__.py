"""Tables, the engine and its write discipline, and the alembic migrations."""

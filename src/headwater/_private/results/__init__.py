"""Result persistence: serializers, storage, records, stable hashing, and the engine's I/O.

Nothing here imports cloudpickle, pydantic or fsspec at import time.
"""

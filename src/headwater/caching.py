"""Task caching helpers: `task_input_hash`, `explain_cache_key`, and input hashing.

Example:
    >>> from headwater import task
    >>> from headwater.caching import explain_cache_key, task_input_hash
    >>> @task(cache_key_fn=task_input_hash)
    ... def double(x: int) -> int:
    ...     return 2 * x
    >>> explanation = explain_cache_key(double, 21)
    >>> ", ".join(part.detail for part in explanation.parts if part.source == "inputs")
    'x'
"""

from headwater._private.caching import (
    CacheKeyExplanation,
    explain_cache_key,
    hash_objects,
    task_input_hash,
)
from headwater._private.results.hashing import register_hasher, stable_hash

__all__ = [
    "CacheKeyExplanation",
    "explain_cache_key",
    "hash_objects",
    "register_hasher",
    "stable_hash",
    "task_input_hash",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name

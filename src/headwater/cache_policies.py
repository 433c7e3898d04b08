"""Cache policies for ``@task(cache_policy=...)``: what a cache key is made of.

Combine with ``+`` and leave inputs out with ``-``:

Example:
    >>> from headwater import task
    >>> from headwater.cache_policies import INPUTS, TASK_SOURCE
    >>> @task(cache_policy=INPUTS + TASK_SOURCE - "verbose")
    ... def load(path: str, verbose: bool = False) -> str:
    ...     return path
"""

from headwater._private.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NONE,
    RUN_ID,
    TASK_SOURCE,
    CacheKeyFnPolicy,
    CachePolicy,
    CompoundCachePolicy,
    FlowParameters,
    Inputs,
    KeyPart,
    RunId,
    TaskSource,
)

__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "FlowParameters",
    "Inputs",
    "KeyPart",
    "RunId",
    "TaskSource",
]

for _name in ("CacheKeyFnPolicy", "CachePolicy", "CompoundCachePolicy", "FlowParameters",
              "Inputs", "KeyPart", "RunId", "TaskSource"):
    globals()[_name].__module__ = __name__
del _name

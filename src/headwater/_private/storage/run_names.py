"""Random flow run names such as ``crimson-otter``: the engine's and the API's default.

A run created without a name gets one of these, whether the engine
(``_private/names.py``) or the API (``server/services/runs.py``) creates it;
it sits in the storage core, below both, so neither imports the other for it.

Standard library only: part of the storage core.
"""

from __future__ import annotations

import random

__all__ = ["random_flow_run_name"]

_ADJECTIVES = (
    "amber", "brisk", "calm", "crimson", "daring", "eager", "fearless", "gentle", "golden",
    "hidden", "icy", "jolly", "keen", "lively", "mellow", "nimble", "olive", "proud",
    "quiet", "rapid", "silver", "steady", "tidy", "upbeat", "vivid", "wandering", "witty",
    "young", "zesty", "bold", "clever", "dusky", "electric", "frosty", "glowing", "humble",
)
_NOUNS = (
    "otter", "heron", "falcon", "badger", "lynx", "salmon", "beaver", "marten", "osprey",
    "trout", "kestrel", "newt", "pike", "wren", "egret", "ibis", "stoat", "vole", "moose",
    "bison", "crane", "finch", "gecko", "hare", "koala", "lemur", "mink", "orca", "puffin",
    "quail", "raven", "seal", "tapir", "urchin", "walrus", "yak", "zebra",
)
_rng = random.Random()  # its own generator: a user's random.seed() does not repeat names


def random_flow_run_name() -> str:
    """Return a friendly random name such as ``crimson-otter``."""
    return f"{_rng.choice(_ADJECTIVES)}-{_rng.choice(_NOUNS)}"

"""Random flow run names such as ``crimson-otter``: the engine's and the API's default.

A run created without a name gets one of these, whether the engine
(``_private/names.py``) or the API (``server/services/runs.py``) creates it;
it sits in the storage core, below both, so neither imports the other for it.

Names are looked up (``headwater flow-run inspect crimson-otter``), so they
should rarely repeat. The space is ``len(ADJECTIVES) * len(ANIMALS)``
(about half a million, ``run_name_words.py``), and one process never repeats
a name before it has used them all: it walks the space in a random order
(a random start and a random step coprime with the size, over lists shuffled
per process), so a worker or the server naming thousands of runs gives each
its own. Separate processes draw independently: among ``n`` names from
different processes about ``n**2 / (2 * size)`` repeat (10,000 -> about 100,
one day's 1,000 runs -> about 1).

Standard library only: part of the storage core.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading

__all__ = ["name_space_size", "random_flow_run_name"]


def name_space_size() -> int:
    """How many different names there are (adjectives times animals)."""
    from headwater._private.storage.run_name_words import ADJECTIVES, ANIMALS

    return len(ADJECTIVES) * len(ANIMALS)


class _Walk:
    """One process's random walk through every name, each visited once per lap."""

    def __init__(self) -> None:
        # The words are loaded with the first name, not on ``import headwater``.
        from headwater._private.storage.run_name_words import ADJECTIVES, ANIMALS

        rng = random.Random()  # its own: a user's random.seed() does not repeat names
        self.adjectives = rng.sample(ADJECTIVES, len(ADJECTIVES))
        self.animals = rng.sample(ANIMALS, len(ANIMALS))
        self.size = size = len(ADJECTIVES) * len(ANIMALS)
        self.start = rng.randrange(size)
        step = rng.randrange(1, size)
        while math.gcd(step, size) != 1:  # coprime: the walk visits every index
            step = rng.randrange(1, size)
        self.step = step
        self.counter = itertools.count()  # next() is atomic: threads get distinct names

    def next_name(self) -> str:
        index = (self.start + next(self.counter) * self.step) % self.size
        adjective, animal = divmod(index, len(self.animals))
        return f"{self.adjectives[adjective]}-{self.animals[animal]}"


_walk: _Walk | None = None  # made at the first name: importing costs nothing
_lock = threading.Lock()


def _forget_walk() -> None:
    global _walk
    _walk = None  # a forked child walks its own way, not on from its parent's place


os.register_at_fork(after_in_child=_forget_walk)


def random_flow_run_name() -> str:
    """Return a friendly random name such as ``crimson-otter``."""
    global _walk
    walk = _walk
    if walk is None:
        with _lock:
            if _walk is None:
                _walk = _Walk()
            walk = _walk
    return walk.next_name()

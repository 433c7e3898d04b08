"""Generated flow run names: two words, as in Prefect 2, and rarely the same twice."""

from __future__ import annotations

import multiprocessing
import random
import re

from headwater import flow, runtime
from headwater._private.storage import run_names
from headwater._private.storage.run_name_words import ADJECTIVES, ANIMALS

NAME = re.compile(r"[a-z]+-[a-z]+")  # what the conformance normaliser expects


def test_the_word_lists_are_plain_distinct_words() -> None:
    for words in (ADJECTIVES, ANIMALS):
        assert len(set(words)) == len(words)
        assert all(re.fullmatch(r"[a-z]+", w) for w in words)
    assert not set(ADJECTIVES) & set(ANIMALS)
    assert run_names.name_space_size() >= 400_000


def test_one_process_names_10000_runs_without_a_repeat() -> None:
    names = [run_names.random_flow_run_name() for _ in range(10_000)]
    assert len(set(names)) == len(names)
    assert all(NAME.fullmatch(name) for name in names)


def test_names_from_separate_processes_repeat_about_as_often_as_the_space_says() -> None:
    # Separate processes draw independently: each one's first name is uniform
    # over the space (a random start over shuffled lists), as these draws are.
    rng = random.Random()
    n = 10_000
    names = {f"{rng.choice(ADJECTIVES)}-{rng.choice(ANIMALS)}" for _ in range(n)}
    expected = n * n / (2 * run_names.name_space_size())  # birthday bound, ~97
    assert n - len(names) <= 3 * expected  # generous: the old lists gave 8,668
    firsts = {run_names._Walk().next_name() for _ in range(300)}  # fresh walks: spread out
    assert len(firsts) >= 295


def _child_name(queue: multiprocessing.Queue[str]) -> None:
    queue.put(run_names.random_flow_run_name())


def test_a_forked_child_does_not_walk_on_from_its_parent() -> None:
    context = multiprocessing.get_context("fork")
    run_names.random_flow_run_name()  # the parent has a walk
    queue: multiprocessing.Queue[str] = context.Queue()
    children = [context.Process(target=_child_name, args=(queue,)) for _ in range(3)]
    for child in children:
        child.start()
    got = [queue.get(timeout=30) for _ in children]
    for child in children:
        child.join()
    assert len(set(got)) == 3  # same place in the same walk would give one name thrice


def test_a_flow_run_gets_an_adjective_animal_name() -> None:
    @flow
    def named() -> str:
        return runtime.flow_run.name

    adjective, animal = named().split("-")
    assert adjective in ADJECTIVES and animal in ANIMALS

# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (a custom cache_key_fn)
from prefect import flow, task

calls = []


def by_first_letter(context, parameters):
    return parameters["word"][0]


@task(cache_key_fn=by_first_letter)
def shout(word):
    calls.append(word)
    return word.upper()


@flow
def f():
    return shout("apple"), shout("avocado"), shout("banana")


print(f(), calls)

# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (wait_for applies to every mapped run)
from prefect import flow, task

log = []


@task
def setup():
    log.append("setup")


@task
def item(x):
    log.append("setup" in log)
    return x


@flow
def f():
    s = setup.submit()
    futs = item.map([1, 2, 3], wait_for=[s])
    return [x.result() for x in futs], log[1:]


print(f())

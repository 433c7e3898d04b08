# Source: https://docs-2.prefect.io/latest/concepts/states/ (a KeyboardInterrupt in a task crashes the run and propagates)
from prefect import flow, task


@task
def t():
    raise KeyboardInterrupt()


@flow
def f():
    t()


try:
    f()
except KeyboardInterrupt:
    print("KeyboardInterrupt propagated")

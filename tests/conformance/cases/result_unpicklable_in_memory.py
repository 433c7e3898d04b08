# Source: https://docs-2.prefect.io/latest/concepts/results/ (without persistence, any object can be returned)
import threading

from prefect import flow, task


@task
def make_lock():
    return threading.Lock()


@flow
def f():
    lock = make_lock()
    return type(lock).__name__


print(f())

# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (ConcurrentTaskRunner runs tasks concurrently)
import threading
import time

from prefect import flow, task
from prefect.task_runners import ConcurrentTaskRunner

barrier = threading.Barrier(2, timeout=5)


@task
def meet(i):
    barrier.wait()  # only returns when both runs are in flight at once
    time.sleep(0.01)
    return i


@flow(task_runner=ConcurrentTaskRunner())
def f():
    a, b = meet.submit(1), meet.submit(2)
    return a.result(), b.result()


print(f())

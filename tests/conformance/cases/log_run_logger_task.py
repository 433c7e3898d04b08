# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-in-tasks (get_run_logger in a task)
import logging

from prefect import flow, get_run_logger, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def t():
    get_run_logger().warning("careful in the task")


@flow
def f():
    t()


f()
print([(r.levelname, r.getMessage()) for r in records if "careful" in r.getMessage()])

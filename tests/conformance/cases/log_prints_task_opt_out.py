# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (a task's log_prints=False wins)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task(log_prints=False)
def t():
    print("task MARK to stdout")


@flow(log_prints=True)
def f():
    t()


f()
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (log_prints on a task alone)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task(log_prints=True)
def t():
    print("task MARK")


@flow
def f():
    print("flow MARK")
    t()


f()
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

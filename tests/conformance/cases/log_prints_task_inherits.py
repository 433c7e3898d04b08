# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (tasks inherit the flow's log_prints)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def t():
    print("task MARK")


@flow(log_prints=True)
def f():
    t()


f()
print([(r.name, r.getMessage()) for r in records if "MARK" in r.getMessage()])

# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (a task's own log_prints=False is respected)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


@task(log_prints=False)
def t():
    print("MARK task print on stdout")


@flow(log_prints=True)
def f():
    logging.getLogger("prefect").addHandler(ListHandler())
    t()


f()
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

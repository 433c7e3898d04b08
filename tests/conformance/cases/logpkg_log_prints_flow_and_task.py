# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (printed lines become INFO records of the run)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


@task
def t():
    print("MARK task print")


@flow(log_prints=True)
def f():
    logging.getLogger("prefect").addHandler(ListHandler())
    print("MARK flow print")
    t()


f()
print([(r.name, r.levelname, r.getMessage()) for r in records if "MARK" in r.getMessage()])

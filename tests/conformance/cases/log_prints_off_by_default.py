# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (without log_prints, print writes to stdout)
import logging

from prefect import flow

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow
def f():
    print("plain MARK")


f()
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

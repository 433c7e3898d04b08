# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (log_prints=True sends print to the logger)
import logging

from prefect import flow

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow(log_prints=True)
def f():
    print("printed MARK")


f()
print([(r.levelname, r.getMessage()) for r in records if "MARK" in r.getMessage()])

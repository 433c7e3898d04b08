# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (PREFECT_LOGGING_LOG_PRINTS turns it on globally)
import os

os.environ["PREFECT_LOGGING_LOG_PRINTS"] = "true"

import logging

from prefect import flow

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow
def f():
    print("env MARK")


f()
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

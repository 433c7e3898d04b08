# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (print to an explicit file is left alone)
import io
import logging

from prefect import flow

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())
buffer = io.StringIO()


@flow(log_prints=True)
def f():
    print("to buffer MARK", file=buffer)


f()
print(repr(buffer.getvalue()))
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

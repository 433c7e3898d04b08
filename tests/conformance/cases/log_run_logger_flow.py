# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-in-flows (get_run_logger in a flow)
import logging

from prefect import flow, get_run_logger

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow
def f():
    get_run_logger().info("hello from the flow")


f()
print([(r.levelname, r.getMessage()) for r in records if "hello" in r.getMessage()])

# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-in-flows (get_run_logger in async flows)
import asyncio
import logging

from prefect import flow, get_run_logger

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow
async def f():
    get_run_logger().info("async MARK")


asyncio.run(f())
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

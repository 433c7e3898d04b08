# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-configuration (the default level is INFO)
import logging

from prefect import flow, get_run_logger

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow
def f():
    logger = get_run_logger()
    logger.debug("MARK debug")
    logger.info("MARK info")
    logger.error("MARK error")


f()
print([(r.levelname, r.getMessage()) for r in records if "MARK" in r.getMessage()])

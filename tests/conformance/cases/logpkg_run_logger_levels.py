# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-configuration (run log records reach the prefect logger at INFO and above)
import logging

from prefect import flow, get_run_logger

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


@flow
def f():
    # Attached inside the run, after Prefect's logging configuration is in place.
    logging.getLogger("prefect").addHandler(ListHandler())
    logger = get_run_logger()
    logger.debug("MARK debug")
    logger.info("MARK info")
    logger.warning("MARK warning")


f()
print([(r.name, r.levelname, r.getMessage()) for r in records if "MARK" in r.getMessage()])

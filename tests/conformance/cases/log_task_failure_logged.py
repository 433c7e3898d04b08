# Source: https://docs-2.prefect.io/latest/concepts/logs/ (a failed task run is logged at ERROR)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def bad():
    raise ValueError("MARK failure")


@flow
def f():
    bad(return_state=True)
    return 0


f()
print(sorted({(r.name, r.levelname) for r in records if "Finished in state Failed" in r.getMessage()}))

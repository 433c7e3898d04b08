# Source: https://docs-2.prefect.io/latest/concepts/logs/ (the engine logs a flow run's final state)
import logging

from prefect import flow

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow
def f():
    return 1


f()
print([r.getMessage() for r in records if r.getMessage().startswith("Finished in state")])

# Source: https://docs-2.prefect.io/latest/concepts/logs/ (the engine logs a task run's final state)
# deliberate-difference: docs/migration.md#completed-task-runs-log-at-debug
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def t():
    return 1


@flow
def f():
    t()


f()
print([(r.name, r.levelname, r.getMessage()) for r in records
       if r.getMessage() == "Finished in state Completed()"])

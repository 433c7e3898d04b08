# Source: https://docs-2.prefect.io/latest/concepts/logs/ (a task run that raises is reported at ERROR with its final state)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


@task
def bad():
    raise ValueError("MARK failure")


@flow
def f():
    logging.getLogger("prefect").addHandler(ListHandler())
    bad(return_state=True)
    return 0


f()
print(sorted({(r.name, r.levelname, r.getMessage()) for r in records
              if r.getMessage().startswith("Finished in state")}))

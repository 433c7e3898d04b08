# Source: https://docs-2.prefect.io/latest/concepts/logs/#including-logs-from-other-libraries (a standard library logger in a task still propagates)
import logging

from prefect import flow, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())
mylog = logging.getLogger("myapp")
mylog.setLevel(logging.INFO)


@task
def t():
    mylog.info("MARK from myapp")


@flow
def f():
    t()


f()
print([(r.name, r.getMessage()) for r in records if "MARK" in r.getMessage()])

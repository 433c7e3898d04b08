# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-in-tasks (get_run_logger in a task called outside a flow)
import logging

from prefect import get_run_logger, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def t():
    get_run_logger().info("MARK lonely task")
    return 1


print(t())
print([r.getMessage() for r in records if "MARK" in r.getMessage()])

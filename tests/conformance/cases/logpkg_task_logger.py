# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-in-tasks (task run records go through prefect.task_runs)
import logging

from prefect import flow, get_run_logger, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


@task(task_run_name="my-task-run")
def t():
    get_run_logger().info("MARK from task")


@flow
def f():
    logging.getLogger("prefect").addHandler(ListHandler())
    t()


f()
print([(r.name, r.task_run_name, r.task_name, r.getMessage()) for r in records if "MARK" in r.getMessage()])

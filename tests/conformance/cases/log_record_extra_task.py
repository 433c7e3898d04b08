# Source: https://docs-2.prefect.io/latest/concepts/logs/ (task log records carry task_run_name and task_name)
import logging

from prefect import flow, get_run_logger, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def my_task():
    get_run_logger().info("MARK")


@flow
def f():
    my_task()


f()
for r in records:
    if r.getMessage() == "MARK":
        print(r.task_run_name, r.task_name, bool(r.task_run_id), bool(r.flow_run_id))

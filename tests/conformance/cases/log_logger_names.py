# Source: https://docs-2.prefect.io/latest/concepts/logs/ (run loggers are prefect.flow_runs and prefect.task_runs)
import logging

from prefect import flow, get_run_logger, task

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@task
def t():
    get_run_logger().info("MARK task")


@flow
def f():
    get_run_logger().info("MARK flow")
    t()


f()
print(sorted((r.name, r.getMessage()) for r in records if "MARK" in r.getMessage()))

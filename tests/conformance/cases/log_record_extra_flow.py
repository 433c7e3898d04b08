# Source: https://docs-2.prefect.io/latest/concepts/logs/ (run log records carry the run's name and flow name)
import logging

from prefect import flow, get_run_logger

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger().addHandler(ListHandler())


@flow(flow_run_name="named-run")
def my_flow():
    get_run_logger().info("MARK")


my_flow()
for r in records:
    if r.getMessage() == "MARK":
        print(r.flow_run_name, r.flow_name, bool(r.flow_run_id))

# Source: https://docs-2.prefect.io/latest/concepts/logs/ (flow run records carry flow_run_name and flow_name)
import logging

from prefect import flow, get_run_logger

records = []


class ListHandler(logging.Handler):
    def emit(self, record):
        records.append(record)


@flow(name="extra-flow", flow_run_name="extra-run")
def f():
    logging.getLogger("prefect").addHandler(ListHandler())
    get_run_logger().info("MARK")


f()
print([(r.flow_run_name, r.flow_name) for r in records if r.getMessage() == "MARK"])

# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (flow retries re-run the flow)
from prefect import flow

calls = []


@flow(retries=2, retry_delay_seconds=0)
def f():
    calls.append(1)
    if len(calls) < 3:
        raise RuntimeError("flow again")
    return "flow ok"


print(f(), len(calls))

# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (a flow failing all attempts ends Failed)
from prefect import flow

calls = []


@flow(retries=1, retry_delay_seconds=0)
def f():
    calls.append(1)
    raise RuntimeError("always")


s = f(return_state=True)
print(s.type.value, s.name, len(calls))

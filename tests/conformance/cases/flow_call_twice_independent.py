# Source: https://docs-2.prefect.io/latest/concepts/flows/ (each call is a new flow run)
from prefect import flow
from prefect.runtime import flow_run

ids = []


@flow
def f():
    ids.append(flow_run.id)
    return len(ids)


print(f(), f())
print(ids[0] != ids[1])

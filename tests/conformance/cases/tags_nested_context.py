# Source: https://docs-2.prefect.io/latest/concepts/tasks/#tags (nested tags blocks add up)
from prefect import flow, tags
from prefect.runtime import flow_run


@flow
def f():
    return sorted(flow_run.tags)


with tags("outer"):
    with tags("inner"):
        print(f())
    print(f())
print(f())

# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (after the last retry the run fails)
from prefect import flow, task

calls = []


@task(retries=2, retry_delay_seconds=0)
def always_bad():
    calls.append(1)
    raise ValueError(f"attempt {len(calls)}")


@flow
def f():
    s = always_bad(return_state=True)
    return s.name, str(s.result(raise_on_failure=False))


print(f(), len(calls))

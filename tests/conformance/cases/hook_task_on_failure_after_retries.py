# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (on_failure runs once, after the last retry)
from prefect import flow, task

seen = []


@task(retries=2, retry_delay_seconds=0, on_failure=[lambda task, task_run, state: seen.append(state.name)])
def t():
    raise ValueError("x")


@flow
def f():
    t(return_state=True)
    return 0


f()
print(seen)

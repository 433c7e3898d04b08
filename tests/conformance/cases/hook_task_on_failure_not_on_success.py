# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (on_failure is not called for a completed run)
from prefect import flow, task

seen = []


@task(on_failure=[lambda task, task_run, state: seen.append("failure")],
      on_completion=[lambda task, task_run, state: seen.append("completion")])
def t():
    return 1


@flow
def f():
    t()


f()
print(seen)

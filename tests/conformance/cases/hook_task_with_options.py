# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (hooks can be set with with_options)
from prefect import flow, task

seen = []


@task
def t():
    return 1


@flow
def f():
    t.with_options(on_completion=[lambda task, task_run, state: seen.append(state.name)])()


f()
print(seen)

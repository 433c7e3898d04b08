# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (task on_failure hooks)
from prefect import flow, task

seen = []


def failed(task, task_run, state):
    seen.append((task.name, state.type.value, state.message))


@task(on_failure=[failed])
def t():
    raise ValueError("hook me")


@flow
def f():
    t(return_state=True)
    return 0


f()
print(seen)

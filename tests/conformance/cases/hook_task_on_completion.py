# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (task on_completion hooks)
from prefect import flow, task

seen = []


def done(task, task_run, state):
    seen.append((task.name, state.name))


@task(on_completion=[done])
def t():
    return 1


@flow
def f():
    t()


f()
print(seen)

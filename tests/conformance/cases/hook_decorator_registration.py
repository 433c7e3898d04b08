# Source: https://docs-2.prefect.io/latest/api-ref/prefect/tasks/ (hooks can be registered with @t.on_completion)
from prefect import flow, task

seen = []


@task
def t():
    return 1


@t.on_completion
def done(task, task_run, state):
    seen.append(("decorated", state.name))


@flow
def f():
    t()


f()
print(seen)

# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retry_condition_fn is called with the task, the task run and the state)
from prefect import flow, task

seen = []


def check(task, task_run, state):
    seen.append((task.name, task_run.name, state.type.value))
    return False


@task(retries=1, retry_delay_seconds=0, retry_condition_fn=check)
def t():
    raise ValueError("x")


@flow
def f():
    return t(return_state=True).name


print(f(), seen)

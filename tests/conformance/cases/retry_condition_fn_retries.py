# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retry_condition_fn returning True retries)
from prefect import flow, task

calls = []


def always(task, task_run, state):
    return True


@task(retries=2, retry_delay_seconds=0, retry_condition_fn=always)
def t():
    calls.append(1)
    if len(calls) < 3:
        raise ValueError("again")
    return len(calls)


@flow
def f():
    return t()


print(f())

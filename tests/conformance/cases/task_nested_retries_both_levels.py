# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retries apply to nested task calls too, since 2.18)
from prefect import flow, task

attempts = {"inner": 0, "outer": 0}


@task(retries=2, retry_delay_seconds=0)
def inner():
    attempts["inner"] += 1
    if attempts["inner"] < 2:
        raise ValueError("inner flaky")
    return "inner ok"


@task(retries=1, retry_delay_seconds=0)
def outer():
    attempts["outer"] += 1
    value = inner()
    if attempts["outer"] < 2:
        raise ValueError("outer flaky")
    return value


@flow
def main():
    return outer(return_state=True)


state = main()
print(state.type.value, state.result())
print(attempts)

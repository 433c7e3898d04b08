# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retry_condition_fn decides whether to retry)
from prefect import flow, task

calls = []


def only_connection_errors(task, task_run, state):
    try:
        state.result()
    except ConnectionError:
        return True
    except Exception:
        return False
    return False


@task(retries=3, retry_delay_seconds=0, retry_condition_fn=only_connection_errors)
def t():
    calls.append(1)
    raise ValueError("not retryable")


@flow
def f():
    return t(return_state=True).name


print(f(), len(calls))

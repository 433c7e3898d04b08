# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (task_run.run_count counts attempts)
from prefect import flow, task
from prefect.runtime import task_run

seen = []


@task(retries=2, retry_delay_seconds=0)
def flaky():
    seen.append(task_run.run_count)
    if len(seen) < 3:
        raise RuntimeError("again")
    return "ok"


@flow
def f():
    return flaky()


print(f(), seen)

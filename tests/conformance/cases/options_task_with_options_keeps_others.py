# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (options not passed to with_options are kept)
from prefect import task


@task(retries=2, tags=["a"], timeout_seconds=30)
def t():
    return 1


u = t.with_options(name="renamed")
print(u.name, u.retries, sorted(u.tags), u.timeout_seconds)

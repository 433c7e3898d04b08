# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (with_options returns a copy with new options)
from prefect import task


@task(name="original", retries=1)
def t():
    return 1


u = t.with_options(name="copy", retries=3)
print(t.name, t.retries, u.name, u.retries, u is t)

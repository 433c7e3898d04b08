# Source: https://docs-2.prefect.io/latest/concepts/tasks/#tags (task.tags is a set)
from prefect import task


@task(tags=["b", "a", "a"])
def t():
    return 1


print(type(t.tags).__name__, sorted(t.tags))

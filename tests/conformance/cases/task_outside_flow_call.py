# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (tasks can be called outside of flows in 2.x)
from prefect import task


@task
def inc(x):
    return x + 1


print(inc(1))

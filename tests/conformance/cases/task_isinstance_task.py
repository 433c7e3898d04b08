# Source: https://docs-2.prefect.io/latest/api-ref/prefect/tasks/ (@task returns a Task object)
from prefect import Task, task


@task
def t():
    return 1


print(isinstance(t, Task), callable(t))

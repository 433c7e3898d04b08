# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (a task called outside a flow can return its state)
from prefect import task


@task
def bad():
    raise ValueError("outside")


s = bad(return_state=True)
print(s.type.value, s.name, s.is_failed())

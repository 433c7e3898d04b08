# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (a task whose upstream failed does not run)
from prefect import flow, task

ran = []


@task
def bad():
    raise ValueError("upstream broke")


@task
def down(x):
    ran.append(x)
    return x


@flow
def f():
    a = bad.submit()
    b = down.submit(a)
    s = b.wait()
    return s.type.value, s.name, ran


print(f())

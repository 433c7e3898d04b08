# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (hooks run for submitted runs too)
from prefect import flow, task

seen = []


@task(on_failure=[lambda task, task_run, state: seen.append(task_run.name)])
def t(i):
    raise ValueError(str(i))


@flow
def f():
    futs = [t.submit(i) for i in range(2)]
    for fut in futs:
        fut.wait()
    return 0


f()
print(sorted(seen))

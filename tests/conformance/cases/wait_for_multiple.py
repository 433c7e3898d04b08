# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (wait_for takes several futures)
from prefect import flow, task

done = []


@task
def work(i):
    done.append(i)


@task
def summary():
    return sorted(done)


@flow
def f():
    futs = [work.submit(i) for i in range(4)]
    return summary.submit(wait_for=futs).result()


print(f())

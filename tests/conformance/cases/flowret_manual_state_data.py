# Source: https://docs-2.prefect.io/latest/concepts/states/#returning-a-state (a returned manual state's data is the flow's result)
from prefect import flow
from prefect.states import Completed


@flow
def f():
    return Completed(message="done early", data=5)


s = f(return_state=True)
print(s.type.value, s.name, s.message)
print(s.result(), f())

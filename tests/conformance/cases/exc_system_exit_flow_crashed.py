# Source: https://docs-2.prefect.io/latest/concepts/states/#state-types (a run stopped by SystemExit is Crashed)
from prefect import flow


@flow
def f():
    raise SystemExit(2)


try:
    f(return_state=True)
except SystemExit as exc:
    print("SystemExit", exc.code)

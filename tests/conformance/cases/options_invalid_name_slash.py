# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (names may not contain certain characters)
from prefect import flow

try:

    @flow(name="a/b")
    def f():
        return 1

    print("accepted", f.name)
except Exception as exc:
    print(type(exc).__name__)

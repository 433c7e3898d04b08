# Source: https://docs-2.prefect.io/latest/concepts/flows/#timeouts (a flow past timeout_seconds fails)
# deliberate-difference: docs/migration.md#errors-are-more-specific-subclasses
import time

from prefect import flow


@flow(timeout_seconds=0.1)
def slow():
    for _ in range(20):
        time.sleep(0.05)


s = slow(return_state=True)
print(s.type.value, s.name)
print(type(s.result(raise_on_failure=False)).__name__)

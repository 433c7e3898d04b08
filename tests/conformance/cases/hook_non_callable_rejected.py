# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (hooks must be callables)
# deliberate-difference: docs/migration.md#errors-are-more-specific-subclasses
from prefect import task

try:

    @task(on_completion=["not a function"])
    def t():
        return 1

except Exception as exc:
    print(type(exc).__name__)

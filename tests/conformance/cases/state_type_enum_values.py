# Source: https://docs-2.prefect.io/latest/concepts/states/#state-types (the state types)
from prefect.states import StateType

print(sorted(t.value for t in StateType))

# Source: https://docs-2.prefect.io/latest/concepts/states/ (Failed constructor)
from prefect.states import Failed

s = Failed(message="it broke")
print(s.type.value, s.name, s.message, s.is_failed())

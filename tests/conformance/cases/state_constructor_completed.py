# Source: https://docs-2.prefect.io/latest/concepts/states/ (state constructors in prefect.states)
from prefect.states import Completed

s = Completed(data=42, message="all good")
print(s.type.value, s.name, s.message, s.result())
print(s.is_completed(), s.is_final())

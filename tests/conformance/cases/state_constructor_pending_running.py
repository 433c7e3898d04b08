# Source: https://docs-2.prefect.io/latest/concepts/states/#state-types (Pending and Running are not final)
from prefect.states import Pending, Running

for s in (Pending(), Running()):
    print(s.type.value, s.name, s.is_final())

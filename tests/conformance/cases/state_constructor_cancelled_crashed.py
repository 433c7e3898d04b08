# Source: https://docs-2.prefect.io/latest/concepts/states/#state-types (Cancelled and Crashed are final)
from prefect.states import Cancelled, Crashed

for s in (Cancelled(message="stop"), Crashed(message="boom")):
    print(s.type.value, s.name, s.message, s.is_final(), s.is_cancelled(), s.is_crashed())

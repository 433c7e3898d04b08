# Source: https://docs-2.prefect.io/latest/concepts/states/ (states print as Name(message))
from prefect.states import Completed, Failed

print(str(Completed()))
print(str(Failed(message="bad")))

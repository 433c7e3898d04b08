# Source: https://docs-2.prefect.io/latest/concepts/states/ (a state's name can refine its type)
from prefect.states import Completed, Failed

print(Completed(name="Skipped").name, Completed(name="Skipped").type.value)
print(Failed(name="Rejected").name, Failed(name="Rejected").type.value)

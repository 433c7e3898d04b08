# Source: https://docs-2.prefect.io/latest/guides/creating-interactive-workflows/#providing-initial-data (RunInput.with_initial_data; RunInput forbids unknown fields)
import pydantic
from prefect.input import RunInput, keyset_from_base_key


class UserNameInput(RunInput):
    name: str


WithDefault = UserNameInput.with_initial_data(description="Who are you?", name="anonymous")
print(WithDefault.__name__, issubclass(WithDefault, UserNameInput))
print(WithDefault().name, WithDefault(name="Ada").name)
try:
    UserNameInput(name="Ada", extra=1)
except pydantic.ValidationError:
    print("ValidationError")
print(sorted(keyset_from_base_key("approval").items()))
print(sorted(UserNameInput.keyset_from_type().items()))

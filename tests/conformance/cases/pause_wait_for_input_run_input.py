# Source: https://docs-2.prefect.io/latest/guides/creating-interactive-workflows/#waiting-for-input (pause_flow_run(wait_for_input=RunInput subclass) returns the typed input)
import threading
import time

from prefect import flow, pause_flow_run, resume_flow_run
from prefect.context import get_run_context
from prefect.input import RunInput


class UserNameInput(RunInput):
    name: str
    age: int = 30


def resume_later(run_id, run_input):
    def go():
        time.sleep(0.5)
        resume_flow_run(run_id, run_input=run_input)

    threading.Thread(target=go).start()


@flow
def greet():
    resume_later(get_run_context().flow_run.id, {"name": "Ada"})
    user = pause_flow_run(wait_for_input=UserNameInput, timeout=5, poll_interval=0.1)
    print(type(user).__name__, isinstance(user, RunInput), user.name, user.age)
    return f"Hello, {user.name}!"


print(greet())

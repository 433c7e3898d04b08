# Source: https://docs-2.prefect.io/latest/guides/creating-interactive-workflows/#waiting-for-input (wait_for_input=int: the input is {"value": ...} and pause_flow_run returns the value)
import threading
import time

from prefect import flow, pause_flow_run, resume_flow_run
from prefect.context import get_run_context


def resume_later(run_id, run_input):
    def go():
        time.sleep(0.5)
        resume_flow_run(run_id, run_input=run_input)

    threading.Thread(target=go).start()


@flow
def ask():
    resume_later(get_run_context().flow_run.id, {"value": 42})
    answer = pause_flow_run(wait_for_input=int, timeout=5, poll_interval=0.1)
    print(type(answer).__name__, answer)
    return answer + 1


print(ask())

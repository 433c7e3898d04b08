# Source: https://docs-2.prefect.io/latest/api-ref/prefect/engine/#prefect.engine.pause_flow_run (key and wait_for_input: a pause whose key already fired does not pause again)
# deliberate-difference: docs/migration.md#a-repeated-keyed-pause-returns-its-input
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
    resume_later(get_run_context().flow_run.id, {"value": 5})
    print("first", pause_flow_run(wait_for_input=int, timeout=60, poll_interval=0.1, key="k"))
    print("again", pause_flow_run(wait_for_input=int, timeout=2, poll_interval=0.1, key="k"))


ask()

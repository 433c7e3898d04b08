# Source: https://docs-2.prefect.io/latest/api-ref/prefect/engine/#prefect.engine.pause_flow_run (key: a pause with a key that already fired does not pause again)
import threading
import time

from prefect import flow, pause_flow_run, resume_flow_run
from prefect.context import get_run_context


def resume_later(run_id):
    def go():
        time.sleep(0.5)
        resume_flow_run(run_id)

    threading.Thread(target=go).start()


@flow
def approve():
    run_id = get_run_context().flow_run.id
    resume_later(run_id)
    print("first", pause_flow_run(timeout=5, poll_interval=0.1, key="approval"))
    print("second", pause_flow_run(timeout=2, poll_interval=0.1, key="approval"))
    return "done"


print(approve())

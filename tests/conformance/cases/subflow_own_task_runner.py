# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (a subflow uses its own task runner)
from prefect import flow
from prefect.context import get_run_context
from prefect.task_runners import SequentialTaskRunner


@flow(task_runner=SequentialTaskRunner())
def child():
    return isinstance(get_run_context().task_runner, SequentialTaskRunner)


@flow
def parent():
    return isinstance(get_run_context().task_runner, SequentialTaskRunner), child()


print(parent())

"""The smallest headwater program: one flow, one task.

Run it with ``python examples/hello.py``.
"""

from headwater import flow, get_run_logger, task


@task
def say_hello(name: str) -> str:
    get_run_logger().info("Hello, %s!", name)
    return f"Hello, {name}!"


@flow
def hello(name: str = "world") -> str:
    return say_hello(name)


if __name__ == "__main__":
    print(hello())

# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (a dict is coerced to a pydantic model parameter)
from prefect import flow
from pydantic import BaseModel


class Point(BaseModel):
    x: int
    y: int


@flow
def f(p: Point):
    return type(p).__name__, p.x + p.y


print(f({"x": "1", "y": 2}))

# Source: https://docs-2.prefect.io/latest/concepts/logs/#logging-print-statements (printed text goes to the logger instead of stdout)
from prefect import flow


@flow(log_prints=True)
def f():
    print("this line is logged")


f()
print("after the flow")

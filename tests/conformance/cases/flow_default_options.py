# Source: https://docs-2.prefect.io/latest/api-ref/prefect/flows/ (Flow option defaults)
from prefect import flow


@flow
def plain():
    return None


print(plain.retries, plain.retry_delay_seconds, plain.timeout_seconds, plain.log_prints)

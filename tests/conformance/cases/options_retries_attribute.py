# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (options are readable as attributes)
from prefect import task


@task(retries=3, retry_delay_seconds=7, retry_jitter_factor=0.5)
def t():
    return 1


print(t.retries, t.retry_delay_seconds, t.retry_jitter_factor)

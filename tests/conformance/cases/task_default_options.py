# Source: https://docs-2.prefect.io/latest/api-ref/prefect/tasks/ (Task option defaults)
from prefect import task


@task
def t():
    return None


print(t.retries, t.retry_delay_seconds, t.timeout_seconds)
print(t.cache_key_fn, t.cache_expiration, t.retry_jitter_factor)
print(sorted(t.tags))

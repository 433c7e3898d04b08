# Source: https://docs-2.prefect.io/latest/concepts/tasks/#custom-retry-behavior (exponential_backoff gives doubling delays)
from prefect.tasks import exponential_backoff

print(exponential_backoff(backoff_factor=10)(3))
print(exponential_backoff(backoff_factor=1)(4))

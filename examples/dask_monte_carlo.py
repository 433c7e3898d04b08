"""Monte Carlo on Dask: each simulation runs in a worker process of a temporary LocalCluster."""

from headwater import flow, task
from headwater.dask import DaskTaskRunner


@task(retries=2)
def simulate(seed: int, draws: int) -> float:
    import random

    rng = random.Random(seed)
    mean = sum(rng.random() for _ in range(draws)) / draws
    print(f"seed {seed}: {mean:.4f}")  # log_prints: a log line of this task run
    return mean


@flow(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1}),
      log_prints=True)
def monte_carlo(runs: int = 8, draws: int = 200_000) -> float:
    means = simulate.map(range(runs), draws)
    return sum(means.result()) / runs


if __name__ == "__main__":  # worker processes import this module: guard the call
    estimate = monte_carlo()
    assert abs(estimate - 0.5) < 0.01, estimate
    print(f"estimate: {estimate:.4f}")

"""A small ETL flow: extract, transform with .map(), a flaky step with retries, load.

Run it with ``python examples/etl.py``; it writes a CSV under the system temp folder.
"""

import csv
import tempfile
from pathlib import Path

from headwater import flow, get_run_logger, task

_attempts = 0  # counts calls to publish(), so it fails exactly once


@task
def extract(n: int) -> list[dict]:
    """Generate some orders in-process (no network)."""
    return [
        {"id": i, "amount": 10.0 * i, "currency": "EUR" if i % 2 else "USD"}
        for i in range(1, n + 1)
    ]


@task
def transform(order: dict, usd_per_eur: float) -> dict:
    """Convert one order to USD."""
    rate = usd_per_eur if order["currency"] == "EUR" else 1.0
    return {"id": order["id"], "amount_usd": round(order["amount"] * rate, 2)}


@task
def load(rows: list[dict], folder: Path) -> Path:
    """Write the rows to a CSV file and return its path."""
    path = folder / "orders.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "amount_usd"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@task(retries=2, retry_delay_seconds=0.1)
def publish(path: Path) -> str:
    """Pretend to notify a flaky service: fails on the first attempt only."""
    global _attempts
    _attempts += 1
    if _attempts == 1:
        raise ConnectionError("service unavailable, try again")
    print(f"Published {path.name} on attempt {_attempts}")  # sent to the log (log_prints)
    return f"published after {_attempts} attempts"


@flow(log_prints=True)
def etl(n: int = 5, usd_per_eur: float = 1.1) -> dict:
    logger = get_run_logger()
    orders = extract(n)
    logger.info("Extracted %d orders", len(orders))
    rows = transform.map(orders, usd_per_eur).result()  # one task run per order
    folder = Path(tempfile.mkdtemp(prefix="headwater-etl-"))
    path = load(rows, folder)
    status = publish(path)
    return {
        "rows": len(rows),
        "total_usd": round(sum(r["amount_usd"] for r in rows), 2),
        "file": str(path),
        "publish": status,
    }


if __name__ == "__main__":
    summary = etl()
    print(summary)

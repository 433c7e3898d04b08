"""A real notebook, executed in an IPython kernel: the notebook promise, tested for real.

The kernel runs its own event loop in the main thread, so a sync flow is called
where a loop already runs, and an async flow is awaited at the top level of a
cell. The flows' logs must show as the cells' output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_WHY = "the notebook test needs nbclient and ipykernel: pip install -e '.[test]'"
nbformat = pytest.importorskip("nbformat", reason=_WHY)
nbclient = pytest.importorskip("nbclient", reason=_WHY)
pytest.importorskip("ipykernel", reason=_WHY)

pytestmark = pytest.mark.slow  # starting a kernel takes a second or more

SETUP = """\
from headwater import flow, task, get_run_logger

@task
def add(x: int, y: int) -> int:
    return x + y

@flow
def sync_flow(x: int) -> int:
    get_run_logger().info("sync flow got %d", x)
    return add(x, 1)

@flow
async def async_flow(x: int) -> int:
    get_run_logger().info("async flow got %d", x)
    return add(x, 2)
"""


def _text(cell: Any) -> str:
    """Everything a cell showed: streams (stdout, stderr) and its result."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "execute_result":
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "".join(parts)


def test_flows_run_in_a_real_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))  # the kernel inherits it
    # The kernel's connection file and IPython's profile stay out of the user's home.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("sync_flow(10)"),
        nbformat.v4.new_code_cell("await async_flow(20)"),
    ]
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    _, sync_cell, async_cell = notebook.cells
    sync_out, async_out = _text(sync_cell), _text(async_cell)
    assert sync_cell.outputs[-1].output_type == "execute_result", sync_out
    assert sync_cell.outputs[-1].data["text/plain"] == "11"
    assert "sync flow got 10" in sync_out
    assert async_cell.outputs[-1].output_type == "execute_result", async_out
    assert async_cell.outputs[-1].data["text/plain"] == "22"
    assert "async flow got 20" in async_out
    assert "Completed" in async_out  # the run's final state is logged too

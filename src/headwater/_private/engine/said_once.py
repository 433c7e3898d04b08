"""User errors said once: the line that explains one is not repeated by the runs above it.

Some failures are the user's to fix and carry the fix in their message: a
parameter of the wrong type (`ParameterTypeError`), a result the serializer
cannot write (`SerializationError`). The run that meets one logs the message
once, at ERROR, and marks the exception. The lines that would repeat it, the
"Finished in state Failed(<the message>)" of that run and, as the exception
rises, the "Encountered exception during execution:" traceback and final line
of each flow run above, then name it briefly instead. (Raised out of the
outermost call, Python prints it once more, with its traceback.)

Other exceptions keep Prefect 2's lines: a traceback where the exception is
met, and the message in every "Finished in state" line.
"""

from __future__ import annotations

from typing import Any

__all__ = ["encountered_line", "finished_line", "mark_said", "was_said"]

_MARK = "_headwater_said"


def mark_said(exc: BaseException) -> BaseException:
    """Mark ``exc`` as logged with its fix; return it."""
    setattr(exc, _MARK, True)
    return exc


def was_said(exc: Any) -> bool:
    """Whether ``exc`` is an exception whose message a run logged already."""
    return isinstance(exc, BaseException) and getattr(exc, _MARK, False) is True


def finished_line(state: Any) -> str | None:
    """The "Finished in state" line for ``state`` when its error was said (else None: the usual).

    Cheap for the common case (a Completed state's data is not an exception).
    """
    data = state.data
    if not was_said(data):
        return None
    return f"Finished in state {state.name}: {type(data).__name__}, as logged above."


def encountered_line(exc: BaseException) -> str:
    """The flow's "Encountered exception" line for an error said already (no traceback)."""
    return f"Encountered exception during execution: {type(exc).__name__}, as logged above."

"""The one normaliser for conformance output, used when recording and when comparing.

A case prints what a user can observe. Some of it legitimately differs between
two runs of the same script (ids, clocks, generated names, addresses); those
parts are replaced with placeholders here, so that golden files recorded under
Prefect 2 compare equal to headwater's output when the behaviour is the same.

Nothing here may hide a behaviour: every rule matches a value that varies from
run to run even on the same runtime.
"""

from __future__ import annotations

import re

__all__ = ["normalise"]

# Order matters: timestamps before bare times, UUIDs before hex addresses.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I),
        "<UUID>",
    ),
    # ISO 8601 date-times, with or without zone: 2024-05-01T12:00:00.123+00:00
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "<TIMESTAMP>",
    ),
    # datetime(...) / DateTime(...) reprs.
    (re.compile(r"\b(?:datetime\.datetime|DateTime)\([^)]*\)"), "<TIMESTAMP>"),
    # Clock times as log formatters print them: 12:00:00.123
    (re.compile(r"\b\d{2}:\d{2}:\d{2}\.\d{3}\b"), "<TIME>"),
    # timedelta strings (0:00:00.012345) and measured durations ("in 0.0123s").
    # Configured values such as "timeout of 0.1 seconds" have fewer decimals and
    # are kept: they do not vary.
    (re.compile(r"\b\d+:\d{2}:\d{2}\.\d+\b"), "<DURATION>"),
    (re.compile(r"\b\d+\.\d{3,} ?(?:s|seconds|sec)\b"), "<DURATION>"),
    (re.compile(r"\b0x[0-9a-f]{4,}\b", re.I), "0x<ADDR>"),
    # Generated flow run names (adjective-noun), in the contexts where they are
    # printed: log prefixes and messages, and the `flow_run_name=` lines cases print.
    (re.compile(r"([Ff]low run ')[a-z]+-[a-z]+(')"), r"\1<RUN-NAME>\2"),
    (re.compile(r"(\bflow_run(?:\.|_)name[=:] ?'?)[a-z]+-[a-z]+\b"), r"\1<RUN-NAME>"),
    # Temporary folders the runner creates per case.
    (re.compile(r"/tmp/[\w./-]+"), "<TMP>"),
)


def normalise(text: str) -> str:
    """Return ``text`` with run-to-run variation replaced by placeholders.

    Also drops trailing whitespace on each line and ends with one newline, so
    editors and platforms do not make goldens differ.
    """
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


_EXIT_MARK = "[exit {code}]"


def compose_output(stdout: str, stderr: str, returncode: int) -> str:
    """Combine what a case run printed into the text compared with its golden.

    That is stdout; when the script exits non-zero, an ``[exit N]`` line and
    the last line of stderr (for an uncaught exception, its type and message)
    follow. The result is normalised.
    """
    text = stdout
    if returncode != 0:
        if text and not text.endswith("\n"):
            text += "\n"
        last = [line for line in stderr.splitlines() if line.strip()][-1:] or [""]
        text += _EXIT_MARK.format(code=returncode) + "\n" + last[0] + "\n"
    return normalise(text)


_RENAMES = (
    (re.compile(r"PREFECT_"), "HEADWATER_"),
    (re.compile(r"Prefect"), "Headwater"),
    (re.compile(r"prefect"), "headwater"),
)


def rename_output(text: str) -> str:
    """Apply the documented rename to golden text recorded under Prefect 2.

    Names that a case prints (``PrefectFuture``, ``prefect.exceptions``) are
    expected to come out in headwater's spelling, as the rename promises.
    """
    for pattern, replacement in _RENAMES:
        text = pattern.sub(replacement, text)
    return text

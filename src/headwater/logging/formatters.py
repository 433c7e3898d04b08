"""The formatters named in ``logging.yml`` (re-exported; they live in ``headwater._private``)."""

from headwater._private.log_formatters import JsonFormatter, RunFormatter

__all__ = ["JsonFormatter", "RunFormatter"]

"""`HeadwaterHTTPStatusError`, kept apart so ``headwater.exceptions`` does not import httpx."""

from __future__ import annotations

import httpx


class HeadwaterHTTPStatusError(httpx.HTTPStatusError):
    """Raised when an API answer has an error status (Prefect 2's ``PrefectHTTPStatusError``)."""

    @classmethod
    def from_httpx_error(cls, error: httpx.HTTPStatusError) -> HeadwaterHTTPStatusError:
        """Return the same error as a `HeadwaterHTTPStatusError`."""
        return cls(str(error), request=error.request, response=error.response)


HeadwaterHTTPStatusError.__module__ = "headwater.exceptions"

"""What every LinkedIn REST call shares: the base URL, the versioned headers, the error shape."""

from __future__ import annotations

from typing import Any

import httpx

from bandeja.channels.base import ChannelConfig, SendError

REST_API = "https://api.linkedin.com"
# The Marketing API version (YYYYMM). LinkedIn sunsets versions after about a year: a channel
# account can override it with the ``linkedin_version`` setting without a release.
VERSION = "202510"
# Rate limits and passing outages. LinkedIn sends HTTP 429 for throttles (serviceErrorCode 101
# with some versions); 5xx are transient.
_THROTTLED = {101}


def headers(channel: ChannelConfig) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {channel.secrets.get('access_token', '')}",
        "LinkedIn-Version": str(channel.settings.get("linkedin_version") or VERSION),
        "X-Restli-Protocol-Version": "2.0.0",
    }


def error(response: httpx.Response) -> SendError:
    """LinkedIn's error answer ``{"status", "serviceErrorCode", "code"?, "message"}`` as a
    SendError keeping its codes: the service error code when there is one, else its ``code``
    name, else the HTTP status."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    service = body.get("serviceErrorCode")
    name = body.get("code")
    if service is not None:
        code = f"{service}" + (f".{name}" if name else "")
    else:
        code = str(name or f"http_{response.status_code}")
    message = str(body.get("message") or response.text[:300] or response.reason_phrase)
    retry_after: float | None = None
    if response.headers.get("retry-after"):
        try:
            retry_after = float(response.headers["retry-after"])
        except ValueError:
            retry_after = None
    retryable = response.status_code == 429 or response.status_code >= 500 or service in _THROTTLED
    return SendError(code, message, retryable=retryable, retry_after=retry_after)

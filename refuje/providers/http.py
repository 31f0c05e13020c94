"""The one HTTP seam for provider clients: explicit timeouts and User-Agent, error classification."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import certifi
import httpx
from django.conf import settings

from .base import ProviderError

# Some provider APIs sit behind Cloudflare, which answers library default User-Agents with HTML 403s.
USER_AGENT = f"Refuje/0.1 httpx/{httpx.__version__}"

# Bodies of failed calls are logged to diagnose undocumented error shapes; keep the lines short.
_BODY_LOG_LIMIT = 500


@cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds; a context is safe to share between clients.
    return ssl.create_default_context(cafile=certifi.where())


def build_client(*, base_url: str, headers: Mapping[str, str]) -> httpx.Client:
    """A short-lived client; settings are read now so tests and deployments can point it anywhere."""
    timeout = httpx.Timeout(float(settings.PROVIDER_HTTP_TIMEOUT_SECONDS))
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, **headers},
        follow_redirects=False,
        verify=_tls_context(),
    )


def request(client: httpx.Client, method: str, path: str, *, provider: str, **kwargs: Any) -> httpx.Response:
    """Send one request; transport failures become transient ProviderErrors (the call may be retried)."""
    try:
        return client.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError(f"{provider}: request timed out", transient=True, provider=provider) from exc
    except httpx.HTTPError as exc:
        # Connection failures and garbled answers: the provider may well succeed on a later try.
        raise ProviderError(
            f"{provider}: network error ({type(exc).__name__})", transient=True, provider=provider
        ) from exc


def is_transient_status(status_code: int) -> bool:
    """Rate limits and server-side failures can clear up; other client errors will not."""
    return status_code in (408, 425, 429) or status_code >= 500


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when the body is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def redact(text: str, secrets: Iterable[str]) -> str:
    """Blank out anything secret we sent (the code, the key, personal template values)."""
    for secret in secrets:
        # Very short values (a "1" parameter) would shred the text without protecting anything.
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def loggable_body(response: httpx.Response, *, secrets: Iterable[str] = ()) -> str:
    """The raw body, redacted and shortened, for diagnosing undocumented error shapes."""
    return redact(response.text, secrets)[:_BODY_LOG_LIMIT]

"""The Azure function's login: its managed identity, through the App Service identity endpoint.

Azure Functions give a function app with a managed identity two environment variables,
``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``; a ``GET`` of the endpoint with ``resource``,
``api-version=2019-08-01`` and (for a user-assigned identity) ``client_id``, sending the header
value as ``X-IDENTITY-HEADER``, returns ``{"access_token", "expires_on", ...}``. This module is
that one call (standard library only), as an azure-core ``TokenCredential``: the package does not
bundle azure-identity, whose MSAL dependency needs native code.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Final

from .errors import ContractError

ENV_ENDPOINT: Final = "IDENTITY_ENDPOINT"
ENV_HEADER: Final = "IDENTITY_HEADER"
#: The user-assigned identity to log in as (the program sets it to the function's identity).
ENV_CLIENT_ID: Final = "AZURE_CLIENT_ID"
API_VERSION: Final = "2019-08-01"
#: A token is refreshed this many seconds before it expires.
REFRESH_MARGIN: Final = 300


def available(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs with an App Service managed identity endpoint."""
    env = os.environ if env is None else env
    return bool(env.get(ENV_ENDPOINT) and env.get(ENV_HEADER))


class ManagedIdentity:
    """``get_token(*scopes)`` from the identity endpoint (one scope, ``<resource>/.default``)."""

    def __init__(self, env: Mapping[str, str] | None = None, timeout: float = 10.0) -> None:
        env = os.environ if env is None else env
        if not available(env):
            raise ContractError(f"{ENV_ENDPOINT} and {ENV_HEADER} are not set: no managed identity")
        self._endpoint = env[ENV_ENDPOINT]
        self._header = env[ENV_HEADER]
        self._client_id = env.get(ENV_CLIENT_ID) or None
        self._timeout = timeout
        self._cache: dict[str, Any] = {}

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        del kwargs
        if len(scopes) != 1:
            raise ContractError("a managed identity token is asked for exactly one scope")
        resource = scopes[0].removesuffix("/.default")
        cached = self._cache.get(resource)
        if cached is not None and cached.expires_on - REFRESH_MARGIN > time.time():
            return cached
        query = {"resource": resource, "api-version": API_VERSION}
        if self._client_id:
            query["client_id"] = self._client_id
        if not self._endpoint.startswith(("http://", "https://")):
            raise ContractError(f"{ENV_ENDPOINT} is not an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 (an http(s) URL, checked above)
            f"{self._endpoint}?{urllib.parse.urlencode(query)}",
            headers={"X-IDENTITY-HEADER": self._header, "Metadata": "true"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 (the runtime's endpoint)
                body = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise ContractError(f"the managed identity endpoint refused a token: {exc}") from None
        token, expires = body.get("access_token"), body.get("expires_on")
        if not isinstance(token, str) or not str(expires or "").isdigit():
            raise ContractError("the managed identity endpoint answered without a token")
        cached = AccessToken(token, int(str(expires)))
        self._cache[resource] = cached
        return cached

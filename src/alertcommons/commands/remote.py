"""Commands that talk to a running hub over its HTTP API: shared options and error handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import httpx

from alertcommons.errors import AlertCommonsError

F = TypeVar("F", bound=Callable[..., Any])


def hub_options(token_help: str) -> Callable[[F], F]:
    """``--hub`` and ``--token`` (also from ALERTCOMMONS_HUB_URL and ALERTCOMMONS_TOKEN)."""

    def decorate(command: F) -> F:
        command = click.option(
            "--token", envvar="ALERTCOMMONS_TOKEN", required=True, help=token_help
        )(command)
        return click.option(
            "--hub",
            "hub_url",
            envvar="ALERTCOMMONS_HUB_URL",
            default="http://127.0.0.1:8080",
            show_default=True,
            help="The hub's address [env ALERTCOMMONS_HUB_URL].",
        )(command)

    return decorate


def client(hub_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def call(http: httpx.Client, method: str, path: str, expect: int = 200) -> dict[str, Any]:
    """One request; anything but ``expect`` becomes a clear error with the problem's detail."""
    try:
        response = http.request(method, path)
    except httpx.HTTPError as exc:
        raise AlertCommonsError(f"cannot reach the hub: {exc}") from None
    if response.status_code != expect:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise AlertCommonsError(f"the hub answered {response.status_code}: {detail}")
    answer: dict[str, Any] = response.json()
    return answer

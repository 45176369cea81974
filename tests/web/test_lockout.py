"""Lock-out under parallel attack, over real HTTP to a hub process, on SQLite and PostgreSQL.

40 wrong passwords and the right one sent at once: at most the limit of passwords is checked,
the right one cannot reset the count, a right password during the lock is refused, and wrong
tries during the lock do not extend it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.pg import fresh_database
from tests.support.server import HubProcess
from tests.web.conftest import ADMIN, PASSWORD

LIMIT = 5
WINDOW_SECONDS = 6.0
WRONG = "wrong password, try again"
CHECKED_WRONG = ("違います", "回失敗したため")  # the password was checked and was wrong
REFUSED = "までロックされています"  # refused without checking the password


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubProcess]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_database()) if request.param == "postgresql" else None
        env = {
            "ALERTCOMMONS_LOGIN_MAX_FAILURES": str(LIMIT),
            "ALERTCOMMONS_LOGIN_LOCK_SECONDS": str(WINDOW_SECONDS),
        }
        process = HubProcess(tmp_path / "data", ADMIN, url, env=env)
        process.start()
        stack.callback(process.stop)
        city = process.org("東京都千代田区", "issuer", "city.chiyoda.tokyo.jp", ["131016"])
        created = httpx.post(
            f"{process.url}/api/v1/organizations/{city['id']}/users",
            headers={"Authorization": f"Bearer {ADMIN}"},
            json={
                "username": "chiyoda",
                "display_name": "千代田 防災",
                "password": PASSWORD,
                "roles": ["drafter"],
            },
        )
        assert created.status_code == 201, created.text
        yield process


async def _ready_client(url: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=url, timeout=60)
    page = await client.get("/console/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return client, found.group(1)


async def _attempt(url: str, password: str) -> httpx.Response:
    client, token = await _ready_client(url)
    try:
        return await client.post(
            "/console/login",
            data={"csrf_token": token, "username": "chiyoda", "password": password},
        )
    finally:
        await client.aclose()


def _checked_wrong(response: httpx.Response) -> bool:
    return response.status_code == 401 and any(text in response.text for text in CHECKED_WRONG)


def _refused(response: httpx.Response) -> bool:
    return response.status_code == 401 and REFUSED in response.text


@pytest.mark.anyio
async def test_parallel_wrong_passwords_cannot_beat_the_lock(hub: HubProcess) -> None:
    clients = [await _ready_client(hub.url) for _ in range(41)]
    passwords = [WRONG] * 20 + [PASSWORD] + [WRONG] * 20
    started = time.monotonic()
    try:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/console/login",
                    data={"csrf_token": token, "username": "chiyoda", "password": password},
                )
                for (client, token), password in zip(clients, passwords, strict=True)
            )
        )
    finally:
        for client, _ in clients:
            await client.aclose()
    wrong = [a for a, p in zip(answers, passwords, strict=True) if p == WRONG]
    checked = sum(_checked_wrong(a) for a in wrong)
    assert checked <= LIMIT, f"{checked} wrong passwords checked, limit {LIMIT}"
    assert checked + sum(_refused(a) for a in wrong) == 40
    right = answers[20]
    assert right.status_code in (303, 401)
    if right.status_code == 401:  # it came when the limit was reached: refused unchecked
        assert _refused(right)

    # Whatever the right one did, the wrong ones stay counted: the limit is reached after
    # exactly LIMIT checked wrong passwords in all, never more.
    while checked < LIMIT:
        answer = await _attempt(hub.url, WRONG)
        assert _checked_wrong(answer), answer.text
        checked += 1
    during = await _attempt(hub.url, PASSWORD)
    assert _refused(during), during.text  # the right password during the lock: refused
    assert _refused(await _attempt(hub.url, WRONG))  # and it reset nothing

    # Wrong tries all through the lock do not extend it: it ends with its window.
    while True:
        assert time.monotonic() - started < WINDOW_SECONDS + 3, "the lock was extended"
        if (await _attempt(hub.url, PASSWORD)).status_code == 303:
            break
        await _attempt(hub.url, WRONG)
        await asyncio.sleep(0.2)
    assert time.monotonic() - started >= WINDOW_SECONDS - 0.5

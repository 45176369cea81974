"""`alertcommons user add`: the first console admin is made at a terminal and can sign in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.server import HubProcess
from tests.web.conftest import ADMIN, PASSWORD


def _add(data: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", "user", "add", *args, "--password-stdin"],
        input=password + "\n",
        env={**os.environ, "ALERTCOMMONS_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_first_admin_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hub = HubProcess(data, ADMIN)
    hub.start()  # creates the database and the operator organization
    try:
        made = _add(data, "ops", "--org", "operator", "--roles", "admin", "--name", "運用当番")
        assert made.returncode == 0, made.stderr
        assert "account ops (admin) created for operator" in made.stdout
        assert PASSWORD not in made.stdout + made.stderr

        for args, message in (
            (("ops", "--org", "operator", "--roles", "admin"), "taken"),
            (("x1", "--org", "nowhere"), "no organization"),
            (("x2", "--org", "operator", "--roles", "king"), "roles are"),
        ):
            refused = _add(data, *args)
            assert refused.returncode != 0 and message in refused.stderr + refused.stdout
            assert "Traceback" not in refused.stderr
        weak = _add(data, "x3", "--org", "operator", password="short")
        assert weak.returncode != 0 and "12" in weak.stderr + weak.stdout

        with httpx.Client(base_url=hub.url) as client:
            page = client.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            signed = client.post(
                "/console/login",
                data={"csrf_token": token.group(1), "username": "ops", "password": PASSWORD},
            )
            assert signed.status_code == 303
            assert client.get("/console/admin").status_code == 200
    finally:
        hub.stop()

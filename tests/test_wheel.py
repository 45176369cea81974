"""The wheel is the hub: built, installed outside the checkout, it serves every page complete.

How it runs, and why:

* **Build**: ``python -m build --wheel`` when the ``build`` front-end is installed (the dev
  extra has it), else ``pip wheel --no-deps`` — the same PEP 517 build through the same
  setuptools back-end in an isolated environment, whose setuptools comes from pip's cache or
  the index as in CI. The sources (``pyproject.toml``, ``README.md``, ``src/``) are copied to a
  temporary directory first, so the build never writes ``build/`` or ``*.egg-info`` into the
  checkout.
* **Install**: a new venv in ``tmp_path`` (no pip of its own: the project venv's pip installs
  into it with ``--python``). Its dependencies are those already installed in the project's
  venv, made visible by a ``.pth`` line naming that venv's site-packages — what
  ``--system-site-packages`` would do if it reached a venv's packages rather than the base
  interpreter's. A ``.pth`` line adds a directory to ``sys.path`` without running the
  ``.pth`` files in it, so the project's editable install (which points at ``src/``) is not
  loaded: ``alertcommons`` is imported from the wheel, and the test checks that it is. pip
  resolves the wheel's dependencies as usual (no ``--no-deps``) and finds them satisfied, so
  the install needs no network and takes seconds instead of a minute of downloads.
* **Serve**: ``alertcommons serve --demo`` from that venv, in a working directory outside the
  checkout, with ``PYTHONPATH`` removed; the public index, an alert page, the console
  sign-in and ``/docs`` (Swagger UI from the wheel), and every asset they reference (and
  the images Leaflet's CSS names), answer 200.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[1]
# Every kind of file the hub reads from its package at run time.
ASSETS = (
    "alertcommons/cap/schema/cap12.xsd",
    "alertcommons/geo/data/municipalities-2021.topojson",
    "alertcommons/geo/data/prefectures-2021.topojson",
    "alertcommons/store/migrations/script.py.mako",
    "alertcommons/web/templates/public_alert.html",
    "alertcommons/web/static/app.css",
    "alertcommons/web/static/vendor/leaflet/leaflet.js",
    "alertcommons/web/static/vendor/leaflet/leaflet.css",
    "alertcommons/web/static/vendor/leaflet/images/marker-icon.png",
    "alertcommons/web/static/vendor/axe-core/axe.min.js",
    "alertcommons/web/static/vendor/swagger-ui/swagger-ui-bundle.js",
    "alertcommons/web/static/vendor/swagger-ui/swagger-ui.css",
    "alertcommons/web/static/vendor/swagger-ui/favicon-32x32.png",
    "alertcommons/py.typed",
)


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("ALERTCOMMONS_", "VIRTUAL_ENV"))
    }


def _build(tmp_path: Path) -> Path:
    vendor = ROOT / "src/alertcommons/web/static/vendor"
    if not all(
        (vendor / name).is_file()
        for name in ("leaflet/leaflet.js", "swagger-ui/swagger-ui-bundle.js")
    ):
        pytest.fail("the npm assets are missing: run `make assets` first")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    dist = tmp_path / "dist"
    if importlib.util.find_spec("build") is not None:
        command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)]
    built = subprocess.run(
        command, cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=180
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("alertcommons-*.whl")
    return wheel


def _install(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(target) / "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", str(wheel)],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    where = subprocess.run(
        [str(python), "-c", "import alertcommons; print(alertcommons.__file__)"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where  # the wheel's copy, not the checkout
    return venv


def _assets(base: str, page: str, html: str) -> set[str]:
    """Same-host files a page loads: scripts, stylesheets, icons, images."""
    found = set()
    for match in re.finditer(r"<(script|link|img)\b[^>]*>", html):
        tag = match.group(0)
        if match.group(1) == "link" and not re.search(
            r'rel="(stylesheet|(shortcut )?icon|preload)"', tag
        ):
            continue
        ref = re.search(r'(?:src|href)="([^"]+)"', tag)
        if ref and not ref.group(1).startswith(("data:", "http:", "https:", "//")):
            found.add(urljoin(urljoin(base, page), ref.group(1)))
    return found


def _css_urls(css_url: str, css: str) -> set[str]:
    refs = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)
    return {urljoin(css_url, ref) for ref in refs if not ref.startswith(("#", "data:"))}


def test_the_wheel_serves_every_page_complete(tmp_path: Path) -> None:
    wheel = _build(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [asset for asset in ASSETS if asset not in names]
    venv = _install(tmp_path, wheel)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = (tmp_path / "hub.log").open("w")
    hub = subprocess.Popen(
        [str(venv / "bin" / "alertcommons"), "serve", "--demo", "--port", str(port)],
        cwd=elsewhere,
        env=_clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert hub.poll() is None, (tmp_path / "hub.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as client:
            alert_id = client.get("/api/v1/alerts", params={"active": "true"}).json()["items"][0]
            pages = ["/", f"/alerts/{alert_id['id']}", "/console/login", "/docs"]
            assets: set[str] = set()
            for page in pages:
                answer = client.get(page)
                assert answer.status_code == 200, (page, answer.status_code)
                assets |= _assets(base, page, answer.text)
            assert f"{base}/static/vendor/leaflet/leaflet.js" in assets  # the alert's map
            assert f"{base}/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets  # /docs
            assert client.get("/openapi.json").status_code == 200
            for url in sorted(assets):
                answer = client.get(url)
                assert answer.status_code == 200, url
                if url.endswith(".css"):
                    for image in sorted(_css_urls(url, answer.text)):
                        assert client.get(image).status_code == 200, image
        assert (elsewhere / "alertcommons-data" / "hub-key.pem").is_file()
    finally:
        hub.terminate()
        hub.wait(timeout=20)
        log.close()

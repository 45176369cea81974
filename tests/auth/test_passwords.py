"""Console passwords: the dummy hash a wrong username is checked against."""

from __future__ import annotations

import subprocess
import sys

from alertcommons.auth.passwords import dummy_hash, verify_password


def test_importing_the_module_computes_no_hash() -> None:
    """Every CLI command imports this module: the ~50 ms scrypt must wait for a sign-in."""
    probe = (
        "import alertcommons.auth.passwords as p, alertcommons.cli;"
        "print(p.dummy_hash.cache_info().misses)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0"


def test_the_dummy_hash_is_made_once_and_matches_no_password() -> None:
    assert dummy_hash() is dummy_hash()
    assert dummy_hash().startswith("scrypt$")
    assert not verify_password("", dummy_hash())

"""Settings: every one documented, flags over environment over defaults, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertcommons.settings import Settings, SettingsError, setting_names

OPERATIONS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


@pytest.mark.parametrize("name", setting_names())
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in OPERATIONS.read_text()


def test_precedence_and_types() -> None:
    env = {"ALERTCOMMONS_PORT": "9000", "ALERTCOMMONS_HOST": "0.0.0.0"}
    settings = Settings.load(env, port=9100)
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"
    assert settings.data_dir == Path("alertcommons-data")
    assert settings.store_url.endswith("alertcommons-data/alertcommons.db")


def test_secret_never_shown() -> None:
    settings = Settings.load({"ALERTCOMMONS_ADMIN_TOKEN": "ac_very-secret"})
    assert settings.admin_token == "ac_very-secret"
    assert "very-secret" not in repr(settings)


def test_bad_value_is_clear() -> None:
    with pytest.raises(SettingsError, match="ALERTCOMMONS_PORT"):
        Settings.load({"ALERTCOMMONS_PORT": "eighty"})

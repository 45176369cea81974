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


@pytest.mark.parametrize(
    "url", ["ftp://x y", "nats://", "nats//host:4222", "nats://host:99999", "http://host:4222"]
)
def test_a_malformed_nats_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(SettingsError, match=r"ALERTCOMMONS_NATS_URL.*not a NATS URL"):
        Settings.load({"ALERTCOMMONS_NATS_URL": url})


@pytest.mark.parametrize("url", ["nats://127.0.0.1:4222", "tls://nats.example:4222", "nats://n"])
def test_a_nats_url_is_taken(url: str) -> None:
    assert Settings.load({"ALERTCOMMONS_NATS_URL": url}).nats_url == url


@pytest.mark.parametrize("name", ["a.b", "a b", "a*", ">", ""])
def test_a_cluster_name_that_would_change_its_subjects_is_refused(name: str) -> None:
    if not name:  # empty: the default applies
        assert Settings.load({"ALERTCOMMONS_CLUSTER_NAME": name}).cluster_name == "alertcommons"
        return
    with pytest.raises(SettingsError, match="ALERTCOMMONS_CLUSTER_NAME"):
        Settings.load({"ALERTCOMMONS_CLUSTER_NAME": name})

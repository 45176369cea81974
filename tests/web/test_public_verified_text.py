"""The public verification panel shows the text of the signed XML it verified: a changed JSON
copy in the database never appears under 「電子署名を確認しました」, a changed XML is shown as
not verified, and an alert re-signed under a look-alike of the hub's certificate (same
subject, another key) is never "verified"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from sqlalchemy import update

from alertcommons.cap.signing import SigningKey
from alertcommons.store.schema import alerts
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.certs import Identity
from tests.support.hub import Hub

CHIYODA = "city.chiyoda.tokyo.jp"
GENUINE = "【警戒レベル4】避難指示 神田地区"
VERIFIED = "電子署名を確認しました"


async def _published(hub: Hub) -> str:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(CHIYODA, ["131016"], headline=GENUINE)),
        headers={**city["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def _row(hub: Hub, alert_id: str) -> Any:
    return await hub.services.store.read(
        lambda c: c.execute(alerts.select().where(alerts.c.id == alert_id)).first()
    )


async def _set(hub: Hub, alert_id: str, **values: Any) -> None:
    await hub.services.store.write(
        lambda c: c.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
    )


def _look_alike(genuine: x509.Certificate) -> Identity:
    """A self-made certificate copying the hub's subject and issuer, over another key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(key.public_key())
        .serial_number(genuine.serial_number)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return Identity(key, certificate)


@pytest.mark.anyio
async def test_changed_json_copy_never_shows_as_verified(hub: Hub) -> None:
    alert_id = await _published(hub)
    row = await _row(hub, alert_id)
    copy = json.loads(row.cap_json)
    copy["info"][0]["headline"] = "【解除】避難指示は解除されました"
    copy["info"][0]["instruction"] = "自宅に戻ってください"
    await _set(hub, alert_id, cap_json=json.dumps(copy, ensure_ascii=False))

    page = (await hub.client.get(f"/alerts/{alert_id}")).text
    assert 'data-signature="valid"' in page and VERIFIED in page
    assert GENUINE in page  # what the signed XML says
    assert "避難指示は解除されました" not in page and "自宅に戻ってください" not in page


@pytest.mark.anyio
async def test_changed_xml_shows_as_not_verified(hub: Hub) -> None:
    alert_id = await _published(hub)
    row = await _row(hub, alert_id)
    changed = bytes(row.cap_xml).replace("神田地区".encode(), "全域解除".encode())
    await _set(hub, alert_id, cap_xml=changed)

    page = (await hub.client.get(f"/alerts/{alert_id}")).text
    assert 'data-signature="invalid"' in page and VERIFIED not in page
    assert "この情報を信用しないでください" in page


@pytest.mark.anyio
async def test_unreadable_xml_shows_as_not_verified(hub: Hub) -> None:
    alert_id = await _published(hub)
    await _set(hub, alert_id, cap_xml=b"<not-cap/>")
    response = await hub.client.get(f"/alerts/{alert_id}")
    assert response.status_code == 200
    assert 'data-signature="invalid"' in response.text and VERIFIED not in response.text


@pytest.mark.anyio
async def test_look_alike_certificate_is_not_verified_on_the_page(hub: Hub) -> None:
    # The hub re-signs what it accepts (an incoming signature is not kept), so no API path
    # stores a pre-signed alert: the forgery is stored directly, as an attacker with write
    # access to the database (or a rogue replica) would.
    alert_id = await _published(hub)
    forger = _look_alike(hub.services.key.signing.certificate)
    assert forger.certificate.subject == hub.services.key.signing.certificate.subject
    row = await _row(hub, alert_id)
    edited = etree.fromstring(bytes(row.cap_xml).replace("神田地区".encode(), "訓練".encode()))
    for signature in edited.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        edited.remove(signature)
    forged = SigningKey(forger.key_pem, forger.cert_pem).sign(edited)
    await _set(
        hub, alert_id, cap_xml=etree.tostring(forged, xml_declaration=True, encoding="UTF-8")
    )

    page = (await hub.client.get(f"/alerts/{alert_id}")).text
    assert 'data-signature="invalid"' in page and VERIFIED not in page
    assert "【警戒レベル4】避難指示 訓練" in page  # the forged text, shown as not verified

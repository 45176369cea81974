"""Every JMA sample converts to valid CAP or is skipped with a reason; per type, the event,
areas and status are right."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alertcommons.cap import Alert, read_alert, to_xml, validate
from alertcommons.cap.model import Info
from alertcommons.cap.values import format_datetime, parse_datetime
from alertcommons.cap.xmlsafe import DEFAULT_MAX_BYTES
from alertcommons.jp.jma import JMAError, convert, follow
from alertcommons.jp.national import requests_activation


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "jma-samples").glob("*.xml"))
    assert len(files) == 541
    return files


def test_every_sample_converts_or_is_skipped(samples: list[Path]) -> None:
    outcome: Counter[str] = Counter()
    for path in samples:
        converted = convert(path.read_bytes())
        if converted.alert is None:
            assert converted.skipped, path
            outcome["skipped"] += 1
            continue
        report = validate(read_alert(to_xml(converted.alert)))
        assert report.valid, (path.name, report.errors)
        outcome["converted"] += 1
    assert outcome["converted"] > 200 and outcome["skipped"] > 0


def _one(samples: list[Path], suffix: str, index: int = 0):  # type: ignore[no-untyped-def]
    path = [p for p in samples if p.name.endswith(f"_{suffix}.xml")][index]
    converted = convert(path.read_bytes())
    assert converted.alert is not None, converted.skipped
    return converted.alert


def _ja(alert: Alert) -> list[Info]:
    """The Japanese infos: each has an English twin after them (test_jma_english.py)."""
    return [info for info in alert.infos if info.language == "ja-JP"]


def _codes(alert, value_name: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        pair.value
        for info in alert.infos
        for area in info.areas
        for pair in area.geocodes
        if pair.value_name == value_name
    }


def test_tsunami_warning_graded_by_level(samples: list[Path]) -> None:
    # 2011-03-11 14:49: 大津波警報 for Iwate, Miyagi, Fukushima; lesser levels elsewhere.
    alert = _one(samples, "VTSE41")
    assert alert.status == "Actual" and alert.sender == "jma.go.jp"
    graded = [(i.severity, i.event, i.urgency) for i in _ja(alert)]
    assert graded == [
        ("Extreme", "大津波警報", "Immediate"),
        ("Severe", "津波警報", "Immediate"),
        ("Moderate", "津波注意報", "Immediate"),
        ("Minor", "津波予報（若干の海面変動）", "Expected"),
    ]
    major = {(g.value_name, g.value) for g in alert.infos[0].areas[0].geocodes}
    assert {code for kind, code in major if kind == "JMA:tsunami"} == {"210", "220", "250"}
    # … and their prefectures (岩手県, 宮城県, 福島県) as local-government codes
    assert {code for kind, code in major if kind == "JIS X 0402"} == {"030007", "040002", "070009"}
    assert alert.infos[0].response_types == ["Evacuate"]
    assert alert.infos[3].response_types == []
    # 大津波警報 and 津波警報 start loudspeakers, as J-Alert relays them; lesser levels do not.
    assert [requests_activation(replace(alert, infos=[i])) for i in _ja(alert)] == [
        True,
        True,
        False,
        False,
    ]
    assert all(i.categories == ["Geo"] for i in alert.infos)


def test_weather_warning_graded_by_level(samples: list[Path]) -> None:
    path = next(p for p in samples if p.name == "15_08_01_130412_VPWW53.xml")
    alert = convert(path.read_bytes()).alert
    assert alert is not None
    assert [i.severity for i in _ja(alert)] == ["Extreme", "Moderate"]
    assert [i.event for i in alert.infos if i.language == "pt-BR"] == [
        "Alerta meteorológico de emergência",
        "Aviso meteorológico",
    ]
    assert alert.infos[0].event == "大雨特別警報"
    advisory = alert.infos[1].event or ""
    assert "注意報" in advisory and "警報" not in advisory.replace("注意報", "")


def test_follow_links_reports_of_one_event(samples: list[Path]) -> None:
    first = convert(_path(samples, "VTSE41").read_bytes())
    assert first.alert is not None and first.event_base.startswith("jma.tsunami.")
    again = follow(first.alert, first.event_base, ("jma.tsunami.x.1", "2011-03-11T14:46:00+09:00"))
    assert again is not None and again.msg_type == "Update"
    assert again.references == "jma.go.jp,jma.tsunami.x.1,2011-03-11T14:46:00+09:00"
    assert follow(first.alert, first.event_base, None) is first.alert
    cancel = replace(first.alert, msg_type="Cancel", references="jma.go.jp,placeholder,x")
    assert follow(cancel, first.event_base, None) is None  # nothing held to cancel
    correction = replace(first.alert, msg_type="Update", references="jma.go.jp,placeholder,x")
    alone = follow(correction, first.event_base, None)
    assert alone is not None and alone.msg_type == "Alert" and alone.references is None


def _path(samples: list[Path], suffix: str) -> Path:
    return next(p for p in samples if p.name.endswith(f"_{suffix}.xml"))


def test_earthquake_early_warning(samples: list[Path]) -> None:
    alert = _one(samples, "VXSE43")
    assert alert.infos[0].event == "緊急地震速報（警報）"
    assert alert.infos[0].urgency == "Immediate"
    assert requests_activation(alert)
    assert not requests_activation(_one(samples, "VXSE44"))  # a forecast starts nothing
    assert _codes(alert, "JMA:eew-pref")


def test_weather_warning_carries_local_government_codes(samples: list[Path]) -> None:
    alert = _one(samples, "VPWW53")
    cities = _codes(alert, "JMA:city")
    local = _codes(alert, "JIS X 0402")
    assert cities and local
    assert all(len(code) == 6 for code in local)


def test_status_and_cancellation(samples: list[Path]) -> None:
    statuses: Counter[str] = Counter()
    cancels = 0
    for path in samples:
        converted = convert(path.read_bytes())
        if converted.alert is None:
            continue
        statuses[converted.alert.status or ""] += 1
        if converted.alert.msg_type == "Cancel":
            cancels += 1
            assert converted.alert.references
    assert statuses["Actual"] > 0
    assert set(statuses) <= {"Actual", "Exercise", "Test"}


def test_not_jma_is_an_error(cap_dir: Path) -> None:
    with pytest.raises(JMAError, match="not a JMA report"):
        convert((cap_dir / "canada.cap").read_bytes())
    with pytest.raises(JMAError, match="DOCTYPE"):
        convert((cap_dir / "xee.cap").read_bytes())


def test_cli_json(samples: list[Path], cap_dir: Path) -> None:
    chosen = [str(p) for p in samples[:40]]
    result = subprocess.run(
        [sys.executable, "-m", "alertcommons", "jma", "convert", "--json", *chosen],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 40
    for line in lines:
        assert set(line) >= {"file", "type", "cap", "skipped", "errors"}
        assert (line["cap"] is None) == (line["skipped"] is not None)
    broken = subprocess.run(
        [sys.executable, "-m", "alertcommons", "jma", "convert", str(cap_dir / "canada.cap")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode == 1 and "ERROR" in broken.stdout


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_converted_sample_is_accepted_by_the_hub(hub, samples: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """Published as the JMA, every sample that converts is accepted: stale codes of merged
    municipalities (old reports name them) must not get a whole warning refused."""
    from alertcommons.hub.jma_ingest import JMA_NAME, JMA_ORG_ID
    from alertcommons.hub.system_issuers import national_issuer
    from alertcommons.jp.jma import SENDER

    jma = await national_issuer(hub.services.store, JMA_ORG_ID, JMA_NAME, SENDER)
    # The test hub admits 256 KB; a report of a great quake names a thousand municipalities
    # and needs the hub's default limit (1 MB, ALERTCOMMONS_MAX_BODY_BYTES).
    hub.services.publisher.max_bytes = DEFAULT_MAX_BYTES
    accepted, twins = 0, 0
    published: set[str] = set()
    for path in samples:
        converted = convert(path.read_bytes())
        if converted.alert is None or converted.alert.msg_type != "Alert":
            continue
        # The JMA issues one warning in parallel formats (VPWW50/53, 53/54, …) with the same
        # office, time and serial: one alert, as the feed ingest keeps the first.
        if converted.alert.identifier in published:
            twins += 1
            continue
        await hub.services.publisher.publish(jma, _retimed(converted.alert))
        published.add(converted.alert.identifier or "")
        accepted += 1
    assert accepted > 150 and twins > 0


def _retimed(alert: Alert) -> Alert:
    """The samples are years old and the hub admits only fresh alerts: every time in the
    alert is moved by the same amount, so that it was sent now."""
    sent = parse_datetime(alert.sent or "")
    shift = datetime.now(UTC).replace(microsecond=0) - sent

    def moved(text: str | None) -> str | None:
        return None if text is None else format_datetime(parse_datetime(text) + shift)

    alert.sent = moved(alert.sent)
    for info in alert.infos:
        info.effective, info.onset, info.expires = (
            moved(info.effective),
            moved(info.onset),
            moved(info.expires),
        )
    return alert


MEGAQUAKE_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"
        xmlns:jmx_ib="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
  <Control><Title>南海トラフ地震臨時情報</Title><DateTime>2026-08-08T07:15:00Z</DateTime>
    <Status>{status}</Status><EditorialOffice>気象庁本庁</EditorialOffice>
    <PublishingOffice>気象庁</PublishingOffice></Control>
  <jmx_ib:Head><jmx_ib:Title>南海トラフ地震臨時情報（{level}）</jmx_ib:Title>
    <jmx_ib:ReportDateTime>2026-08-08T16:15:00+09:00</jmx_ib:ReportDateTime>
    <jmx_ib:TargetDateTime>2026-08-08T16:15:00+09:00</jmx_ib:TargetDateTime>
    <jmx_ib:EventID>20260808161500</jmx_ib:EventID><jmx_ib:InfoType>発表</jmx_ib:InfoType>
    <jmx_ib:Serial>1</jmx_ib:Serial><jmx_ib:InfoKind>南海トラフ地震に関連する情報</jmx_ib:InfoKind>
    <jmx_ib:InfoKindVersion>1.0_0</jmx_ib:InfoKindVersion>
    <jmx_ib:Headline><jmx_ib:Text>南海トラフ地震の想定震源域で大規模地震の可能性が高まっています。</jmx_ib:Text></jmx_ib:Headline>
  </jmx_ib:Head>
</Report>"""


@pytest.mark.parametrize(
    ("level", "severity"),
    [("巨大地震警戒", "Severe"), ("巨大地震注意", "Moderate"), ("調査終了", "Minor")],
)
def test_nankai_trough_extra_information(level: str, severity: str) -> None:
    # No sample of this report is in the shared data; the document follows the JMA's
    # Control/Head layout, which is all the converter reads for this kind.
    data = MEGAQUAKE_REPORT.format(level=level, status="通常").encode()
    converted = convert(data)
    assert converted.alert is not None
    info = converted.alert.infos[0]
    assert info.event == f"南海トラフ地震臨時情報（{level}）"
    assert info.severity == severity
    assert info.urgency == ("Expected" if severity == "Minor" else "Future")
    assert info.response_types == ([] if severity == "Minor" else ["Prepare"])
    assert validate(read_alert(to_xml(converted.alert))).valid

"""Earthquake reports as receivers need them: every municipality that reported an intensity
is a local-government area with its intensity, the text says what the quake was, the grade
follows the intensity, and the hub routes the report to the towns that shook only."""

from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path

import pytest
from lxml import etree

from alertcommons.cap import read_alert, to_xml, validate
from alertcommons.cap.model import Alert, Info
from alertcommons.cap.xmlsafe import DEFAULT_MAX_BYTES
from alertcommons.delivery.dispatcher import DispatchSettings
from alertcommons.hub.admission import Admission
from alertcommons.jp.codes import CodeError, normalize, registry, with_check_digit
from alertcommons.jp.jma import convert
from alertcommons.jp.jma.seismic import INTENSITIES, OBSERVED
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

SEISMOLOGY = "{http://xml.kishou.go.jp/jmaxml1/body/seismology1/}"
IWATE_MIYAGI_2008 = "32-35_06_03_240613_VXSE53.xml"  # 岩手・宮城内陸地震, max 6+
OSHU = "032158"  # 奥州市: intensity 6+


@pytest.fixture(scope="module")
def reports(shared_data: Path) -> list[Path]:
    found = sorted((shared_data / "jma-samples").glob("*_VXSE5[123].xml"))
    assert len(found) == 44
    return found


def _ja(alert: Alert) -> Info:
    infos = [info for info in alert.infos if info.language == "ja-JP"]
    assert len(infos) == 1
    return infos[0]


def _reported(path: Path) -> dict[str, str]:
    """The municipalities the report's body gives an intensity, as local-government codes
    with their highest intensity, read straight from the JMA XML."""
    root = etree.parse(str(path)).getroot()
    levels: dict[str, str] = {}
    for city in root.iter(f"{SEISMOLOGY}City"):
        code = city.findtext(f"{SEISMOLOGY}Code", "").strip()
        level = city.findtext(f"{SEISMOLOGY}MaxInt", "").strip()
        if not level and city.findtext(f"{SEISMOLOGY}Condition") == "震度５弱以上未入電":
            level = "5-"
        try:
            place = normalize(code[:5])
        except CodeError:
            continue  # merged away since the report
        if not code.endswith("00") or len(place) != 5 or level not in INTENSITIES:
            continue
        local = with_check_digit(place)
        if local not in levels or INTENSITIES.index(level) > INTENSITIES.index(levels[local]):
            levels[local] = level
    return levels


def _levels(info: Info, value_name: str) -> dict[str, str]:
    """Each code's level as the CAP parameters give it."""
    found: dict[str, str] = {}
    for pair in info.parameters:
        if pair.value_name == f"JMA:intensity:{value_name}":
            level, *codes = (pair.value or "").split()
            for code in codes:
                found.setdefault(code, level)
    return found


def _geocodes(info: Info, value_name: str) -> set[str]:
    return {
        pair.value or ""
        for area in info.areas
        for pair in area.geocodes
        if pair.value_name == value_name
    }


def test_every_report_names_the_municipalities_that_shook(reports: list[Path]) -> None:
    with_cities = 0
    for path in reports:
        converted = convert(path.read_bytes())
        assert converted.alert is not None, (path.name, converted.skipped)
        assert validate(read_alert(to_xml(converted.alert))).valid, path.name
        info = _ja(converted.alert)
        reported = _reported(path)
        if converted.alert.msg_type == "Cancel":
            continue  # 取消: no body; the hub finds what it cancels by its references
        assert info.areas, f"{path.name}: no area"
        if path.name.endswith("VXSE53.xml") and reported:
            with_cities += 1
            assert _geocodes(info, "JIS X 0402") == set(reported), path.name
            assert _levels(info, "JIS X 0402") == reported, path.name
        elif path.name.endswith("VXSE51.xml"):
            # Seismic areas only: each with its intensity, and the prefectures' own codes
            # so that local-government subscribers there are reached.
            areas = _levels(info, "JMA:seismic")
            assert areas and _geocodes(info, "JMA:seismic") == set(areas), path.name
            assert _geocodes(info, "JIS X 0402"), path.name
        elif path.name.endswith("VXSE52.xml"):
            assert _geocodes(info, "JMA:epicentre"), path.name  # the quake alone
    assert with_cities >= 10


def test_the_description_says_what_the_quake_was(shared_data: Path) -> None:
    converted = convert((shared_data / "jma-samples" / IWATE_MIYAGI_2008).read_bytes())
    assert converted.alert is not None
    ja, en = converted.alert.infos
    assert ja.language == "ja-JP" and en.language == "en-US"
    text = ja.description or ""
    for expected in (
        "発生時刻：2008年6月14日8時43分ころ",
        "震央地名：岩手県内陸南部（北緯39.0度 東経140.9度）",
        "深さ：約10km",
        "マグニチュード：M7.0",
        "最大震度6強",
        "震度6強：奥州市、栗原市",
        "この地震による津波の心配はありません。",
    ):
        assert expected in text
    english = en.description or ""
    for expected in (
        "Origin time: 2008-06-14 08:43 JST",
        "Epicentre: 岩手県内陸南部 (39.0N, 140.9E)",
        "Depth: about 10 km",
        "Magnitude: 7.0",
        "Maximum intensity 6 upper",
        "Intensity 6 upper: 奥州市, 栗原市",
        "There is no risk of a tsunami from this earthquake.",
    ):
        assert expected in english
    assert (ja.severity, ja.urgency) == (en.severity, en.urgency) == ("Extreme", "Immediate")
    assert ja.areas[0].area_desc == "震度6強：奥州市、栗原市"


SMALL_REPORT = "32-35_04_01_100831_VXSE51.xml"  # 震度速報, max 4


@pytest.mark.parametrize(
    ("maximum", "grade"),
    [
        ("1", ("Minor", "Past")),
        ("2", ("Minor", "Past")),
        ("4", ("Moderate", "Past")),
        ("5-", ("Severe", "Immediate")),
        ("6+", ("Extreme", "Immediate")),
    ],
)
def test_graded_by_the_highest_intensity(
    shared_data: Path, maximum: str, grade: tuple[str, str]
) -> None:
    text = (shared_data / "jma-samples" / SMALL_REPORT).read_text(encoding="utf-8")
    for level in ("4", "3"):
        text = text.replace(f"<MaxInt>{level}</MaxInt>", f"<MaxInt>{maximum}</MaxInt>")
    converted = convert(text.encode())
    assert converted.alert is not None
    info = _ja(converted.alert)
    assert (info.severity, info.urgency) == grade == OBSERVED[maximum]
    assert (info.severity, info.urgency) == grade
    assert any(p.value_name == "JMA:max-intensity" and p.value == maximum for p in info.parameters)


def test_every_sample_is_graded_by_its_table(reports: list[Path]) -> None:
    for path in reports:
        root = etree.parse(str(path)).getroot()
        observed = root.findtext(f".//{SEISMOLOGY}Observation/{SEISMOLOGY}MaxInt")
        converted = convert(path.read_bytes())
        assert converted.alert is not None
        info = _ja(converted.alert)
        if observed and converted.alert.msg_type != "Cancel":
            assert (info.severity, info.urgency) == OBSERVED[observed], path.name


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_town_that_shook_gets_the_report_one_that_did_not_does_not(
    hub: Hub, receiver: Receiver, shared_data: Path
) -> None:
    from alertcommons.hub.jma_ingest import JMA_NAME, JMA_ORG_ID
    from alertcommons.hub.system_issuers import national_issuer
    from alertcommons.jp.jma import SENDER

    hub.services.dispatcher.settings = DispatchSettings(retry_base_seconds=0.05, poll_seconds=0.05)
    # The sample is from 2008 and names 600 municipalities: freshness off, default size.
    hub.services.publisher.admission = Admission(max_sent_age=0)
    hub.services.publisher.max_bytes = DEFAULT_MAX_BYTES
    path = shared_data / "jma-samples" / IWATE_MIYAGI_2008
    converted = convert(path.read_bytes())
    assert converted.alert is not None
    shook = _reported(path)
    # A town of 岩手県 itself that reported no intensity: no prefecture-wide code reaches it.
    quiet = next(
        m.code6
        for code, m in sorted(registry().municipalities.items())
        if m.prefecture == "03" and m.parent is None and m.code6 not in shook
    )
    viewer = await hub.org(f"受信者-{uuid.uuid4().hex[:6]}", None, [], kind="receiver")
    for path_name, area in (("/ok/oshu", OSHU), ("/ok/quiet", quiet), ("/ok/naha", "472018")):
        endpoint = {
            "channel": "webhook",
            "url": receiver.url(path_name),
            "filter": {"areas": [area]},
        }
        created = await hub.client.post(
            "/api/v1/endpoints", json=endpoint, headers=viewer["headers"]
        )
        assert created.status_code == 201, created.text

    jma = await national_issuer(hub.services.store, JMA_ORG_ID, JMA_NAME, SENDER)
    published = await hub.services.publisher.publish(jma, converted.alert)
    assert published.deliveries == 1  # 奥州市 only

    await until(lambda: receiver.for_path("/ok/oshu"))
    got = read_alert(receiver.for_path("/ok/oshu")[0].body).alert
    info = _ja(got)
    assert _levels(info, "JIS X 0402")[OSHU] == "6+"
    assert receiver.for_path("/ok/quiet") == [] and receiver.for_path("/ok/naha") == []


def test_reports_shaped_unlike_the_samples_still_convert(reports: list[Path]) -> None:
    """Reports the team has not seen: every element of each earthquake body removed in turn,
    and every level replaced by one the tables do not know, still convert to valid CAP."""
    checked = 0
    for path in reports[::4]:
        original = etree.parse(str(path)).getroot()
        body = original.find(f"{SEISMOLOGY}Body")
        if body is None:
            continue
        positions = [e for e in body.iter() if e is not body and isinstance(e.tag, str)]
        for index in range(0, len(positions), max(1, len(positions) // 25)):
            root = copy.deepcopy(original)
            copied_body = root.find(f"{SEISMOLOGY}Body")
            assert copied_body is not None
            doomed = list(copied_body.iter())[index + 1]
            parent = doomed.getparent()
            assert parent is not None
            parent.remove(doomed)
            _converts(etree.tostring(root))
            checked += 1
        strange = etree.tostring(original)
        for tag in (b"MaxInt", b"Int", b"From", b"To", b"Coordinate", b"Magnitude"):
            strange = re.sub(rb"(<(?:jmx_eb:)?%s[^>]*>)[^<]*" % tag, rb"\1?", strange)
        _converts(strange)
    assert checked > 100


def _converts(data: bytes) -> None:
    converted = convert(data)
    if converted.alert is not None:
        report = validate(read_alert(to_xml(converted.alert)))
        assert report.valid, report.errors


def test_every_kind_of_report_carries_each_municipality_that_shook(reports: list[Path]) -> None:
    """Whatever the kind (震度速報, 震源に関する情報, 震源・震度に関する情報): every municipality
    the report gives an intensity is a ``JIS X 0402`` area with that intensity."""
    kinds: set[str] = set()
    for path in reports:
        converted = convert(path.read_bytes())
        assert converted.alert is not None, path.name
        if converted.alert.msg_type == "Cancel":
            continue
        reported = _reported(path)
        if not reported:
            continue
        kinds.add(path.name[-10:-4])
        info = _ja(converted.alert)
        assert set(reported) <= _geocodes(info, "JIS X 0402"), path.name
        levels = _levels(info, "JIS X 0402")
        assert {code: levels.get(code) for code in reported} == reported, path.name
    assert "VXSE53" in kinds

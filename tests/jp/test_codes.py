"""Local-government codes: check digits on real codes, refusals of bad ones, the registry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from alertcommons.jp.codes import CodeError, check_digit, name_of, normalize, parent_of


@pytest.mark.parametrize(
    ("code", "canonical", "name"),
    [
        ("131016", "13101", "東京都千代田区"),
        ("011002", "01100", "北海道札幌市"),
        ("271004", "27100", "大阪府大阪市"),
        ("13101", "13101", "東京都千代田区"),
        ("13", "13", "東京都"),
        ("130001", "13", "東京都"),
        ("472018", "47201", "沖縄県那覇市"),
    ],
)
def test_real_codes(code: str, canonical: str, name: str) -> None:
    assert normalize(code) == canonical
    assert name_of(code) == name
    if len(code) == 6:
        assert check_digit(code[:5]) == int(code[5])


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("131017", "check digit 7"),
        ("011003", "check digit 3"),
        ("48", "01-47"),
        ("00", "01-47"),
        ("1310", "4 digits"),
        ("13101a", "digits only"),
        ("\uff11\uff13\uff11\uff10\uff11", "digits only"),  # full-width digits
        ("13999", "names no municipality"),
    ],
)
def test_bad_codes_are_refused_precisely(code: str, words: str) -> None:
    with pytest.raises(CodeError, match=words):
        normalize(code)


def test_wards_belong_to_their_city() -> None:
    assert parent_of("27127") == "27100"
    assert parent_of("14131") == "14130"
    assert parent_of("13101") is None


def test_cli_code() -> None:
    run = [sys.executable, "-m", "alertcommons", "jp", "code"]
    good = subprocess.run([*run, "131016", "--json"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0
    answer = json.loads(good.stdout)
    assert (answer["name"], answer["code5"], answer["code6"]) == (
        "東京都千代田区",
        "13101",
        "131016",
    )
    jma_city = json.loads(
        subprocess.run(
            [*run, "2712700", "--json"], capture_output=True, text=True, timeout=60
        ).stdout
    )
    assert jma_city["name"] == "大阪府大阪市北区" and jma_city["part_of"] == "大阪市"
    bad = subprocess.run([*run, "131017"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "check digit" in bad.stdout

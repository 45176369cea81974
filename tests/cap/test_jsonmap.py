"""The JSON mapping refuses what does not map onto CAP, naming the member."""

from __future__ import annotations

import pytest

from alertcommons.cap import CapJSONError, from_json, to_json
from alertcommons.cap.model import Alert, Info


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        ([], "alert", "expected an object"),
        ({"identifer": "x"}, "alert/identifer", "not a CAP element"),
        ({"code": "x"}, "alert/code", "expected a list"),
        ({"sent": 20260701}, "alert/sent", "expected a string"),
        ({"info": [{"category": [1]}]}, "alert/info[1]/category[1]", "expected a string"),
        ({"info": ["x"]}, "alert/info[1]", "expected an object"),
        ({"note": "bell\x07"}, "alert/note", "U+0007"),
    ],
)
def test_refusals_name_the_member(document: object, path: str, words: str) -> None:
    with pytest.raises(CapJSONError) as caught:
        from_json(document)
    assert caught.value.path == path
    assert words in caught.value.message


def test_null_means_absent() -> None:
    assert from_json({"identifier": "x", "note": None}) == Alert(identifier="x")


def test_repeatable_elements_are_lists_and_names_are_caps() -> None:
    alert = Alert(identifier="x", msg_type="Alert", infos=[Info(categories=["Met"], event="e")])
    assert to_json(alert) == {
        "identifier": "x",
        "msgType": "Alert",
        "info": [{"category": ["Met"], "event": "e"}],
    }


def test_documented_example_is_valid_cap() -> None:
    import json

    from alertcommons.cap import to_xml, validate
    from tests.support.docs import runnable

    (block,) = runnable("docs/cap-json.md", "json")
    alert = from_json(json.loads(block.text))
    assert validate(alert).valid
    assert to_xml(alert).count(b"<geocode>") == 1

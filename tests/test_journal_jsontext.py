"""The reused JSON encoder of the journal and of `Event.data_json` writes what json.dumps
writes, raises what it raises, and is not confused by a value it failed on before."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest

from console.domain.jsontext import make_encoder

VALUES: list[Any] = [
    {}, [], "", "plain", "Grüße \u2028 \"quoted\" \\ \n\t\x00", "lone \ud800 surrogate",
    {"a": [1, 2.5, -0.0, 1e300, 10**30, True, False, None], "b": {"c": {"d": []}}},
    {3: "int key", 2.5: "float key", True: "bool key", None: "none key"},
    [math.inf, -math.inf, math.nan], ("tuple", ["inside"]), 7, 3.14, None,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    for check in (True, False):
        assert make_encoder(check_circular=check)(value) == json.dumps(value, ensure_ascii=False)
    assert make_encoder(default=str)({"d": Decimal("1.5"), "v": value}) == \
        json.dumps({"d": Decimal("1.5"), "v": value}, ensure_ascii=False, default=str)


def test_the_same_errors_as_json_dumps() -> None:
    encode = make_encoder()
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        encode({"s": {1}})
    with pytest.raises(TypeError):
        encode({(1, 2): "tuple key"})
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        encode(loop)
    with pytest.raises(RecursionError):
        make_encoder(check_circular=False)(loop)


def test_a_value_it_failed_inside_is_not_taken_for_circular_afterwards() -> None:
    """The C encoder leaves the containers it was in marked when it raises."""
    encode = make_encoder()
    value: dict[str, Any] = {"inner": [1, {"x": 2}], "bad": {1, 2}}
    with pytest.raises(TypeError):
        encode(value)
    del value["bad"]
    assert encode(value) == json.dumps(value, ensure_ascii=False)


def test_an_events_data_is_encoded_once_and_shared() -> None:
    from console.domain.events import Event

    event = Event("/v2/me/outbound", {"referenceId": "r", "n": "Grüße"}, 1.0, seq=1)
    first = event.data_json
    assert first is event.data_json and json.loads(first) == event.data
    assert first == json.dumps(event.data, ensure_ascii=False)
    assert event == Event("/v2/me/outbound", {"referenceId": "r", "n": "Grüße"}, 1.0, seq=1)
    assert json.loads(event.json_line())["data"] == event.data

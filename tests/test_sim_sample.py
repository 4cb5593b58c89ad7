"""The documentation sample, end to end over sockets: request -> response -> notifications."""

from __future__ import annotations

from typing import Any

from console.sim import Simulator
from tests.helpers import Gws, RawBayeux, events_of, sample


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what "key for key" means for generated numbers."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


async def test_sample_request_gives_sample_response_and_notifications(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    doc = sample()
    await bayeux.open("/v2/me/outbound", "/me/internal")

    reply = await gws.add_record(doc["request"])
    assert reply.status_code == 200
    assert reply.json() == doc["response"]

    messages = await bayeux.connect()
    events = events_of(messages)
    assert [e["channel"] for e in events] == ["/v2/me/outbound", "/me/internal"]
    ack, user_event = events
    # The acknowledgement is equal to the sample, value for value.
    assert ack == doc["notifications"][0]
    # The user event: same keys and types; values equal except the generated metrics.
    expected = doc["notifications"][1]
    assert shape(user_event) == shape(expected)
    assert user_event["data"]["userData"] == expected["data"]["userData"]
    assert user_event["data"]["deviceId"] == expected["data"]["deviceId"]
    assert user_event["data"]["messageType"] == "DeviceUserEventMessage"
    # The connect reply rides last, with the sample's advice.
    connect = messages[-1]
    assert connect["channel"] == "/meta/connect" and connect["successful"] is True
    assert connect["advice"] == {"interval": 0, "timeout": sim.bayeux.settings.timeout_ms,
                                 "reconnect": "retry"}


async def test_sample_record_is_kept_once(sim: Simulator, gws: Gws) -> None:
    await gws.add_record(sample()["request"])
    state = sim.state()
    assert state["store"]["accepted"] == 1
    [record] = state["records"]
    assert record["referenceId"] == "123456789"
    assert record["chainId"] == 2 and record["chainN"] == 0
    assert record["fate"] == "ack"
    assert record["body"] == sample()["request"]

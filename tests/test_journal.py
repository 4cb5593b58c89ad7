"""The journal: one flushed JSON line per entry, secrets never written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from console.domain.journal import Journal, redact


def test_lines_are_json_and_flushed_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path=path)
    journal.write("request", body={"phoneNumber": "5551234"})
    # Readable before close: flushed per line.
    [line] = path.read_text().splitlines()
    entry = json.loads(line)
    assert entry["kind"] == "request" and entry["body"]["phoneNumber"] == "5551234"
    journal.write("verdict", state="acknowledged")
    journal.close()
    assert len(path.read_text().splitlines()) == 2


def test_kill_9_loses_nothing_already_written(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from console.domain.journal import Journal\n"
        f"j = Journal(path=Path({str(path)!r}))\n"
        "for n in range(50):\n"
        "    j.write('event', n=n)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    assert proc.returncode == -9
    lines = path.read_text().splitlines()
    assert [json.loads(line)["n"] for line in lines] == list(range(50))


def test_credentials_are_redacted_at_any_depth(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    journal = Journal(path=path, secrets=("hunter2",))
    journal.write("request", headers={"Authorization": "Basic abc", "Cookie": "JSESSIONID=x"},
                  nested=[{"password": "hunter2"}], note="the password hunter2 leaked here")
    journal.close()
    text = path.read_text()
    assert "hunter2" not in text and "Basic abc" not in text and "JSESSIONID=x" not in text
    assert text.count("[redacted]") == 4


def test_redact_leaves_other_values() -> None:
    assert redact({"a": 1, "list": [{"token": "t", "b": 2}]}) == {
        "a": 1, "list": [{"token": "[redacted]", "b": 2}]}


def test_one_file_per_day_in_the_directory(tmp_path: Path) -> None:
    journal = Journal(directory=tmp_path / "journal")
    journal.write("session")
    journal.close()
    [path] = list((tmp_path / "journal").glob("*.jsonl"))
    assert path.stem.count("-") == 2  # YYYY-MM-DD


def test_event_lines_share_the_encoded_data_and_still_redact(tmp_path: Path) -> None:
    from console.domain.events import Event

    path = tmp_path / "e.jsonl"
    journal = Journal(path=path)
    plain = Event("/v2/me/outbound", {"referenceId": "r", "n": "Grüße"}, 1.0, seq=1)
    leaky = Event("/me/internal", {"userData": {"GSW_PASSWORD": "hunter2", "x": 1}}, 2.0, seq=2)
    journal.write_event(plain, "r")
    journal.write_event(leaky, None)
    journal.close()
    first, second = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    assert first["kind"] == "event" and first["data"] == plain.data and first["matched"] == "r"
    assert second["data"]["userData"] == {"GSW_PASSWORD": "[redacted]", "x": 1}
    assert "hunter2" not in path.read_text()
    assert json.loads(plain.json_line())["data"] == plain.data


def test_every_line_names_its_target(tmp_path: Path) -> None:
    from console.domain.events import Event

    path = tmp_path / "t.jsonl"
    target = {"profile": "eu-prod", "url": "https://gws.eu:8090", "user": "agent",
              "simulator": False, "environment": "production"}
    journal = Journal(path=path, target=target)
    journal.write("request", body={"phoneNumber": "5551234"})
    journal.write_event(Event("/v2/me/outbound", {"referenceId": "r1"}, 1.0, 1), "r1")
    journal.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [entry["target"] for entry in lines] == [target, target]


ODD_SECRET_KEYS = ["password", "Password", "PASSWD", "pass", "GSW_PASSWORD", "userPassword",
                   "x-api-key", "X_API_KEY", "apiKey", "ApiKey", "Authorization",
                   "proxy-authorization", "Set-Cookie", "cookie", "client_secret", "SECRET",
                   "Credentials", "userToken", "ToKeN", "pa\u017f\u017fword"]  # long s: ſ


def nest(depth: int, leaf: dict[str, object]) -> object:
    """`leaf` buried `depth` levels down, through dicts and lists in turn."""
    value: object = leaf
    for level in range(depth):
        value = {f"level{level}": value, "n": level} if level % 2 else [1, value, "x"]
    return value


def test_every_credential_key_is_redacted_at_any_depth_in_both_kinds_of_line(
        tmp_path: Path) -> None:
    from console.domain.events import Event

    path = tmp_path / "r.jsonl"
    journal = Journal(path=path, secrets=("hunter2",), target={"profile": "p"})
    leaf = {key: f"leak-{n}" for n, key in enumerate(ODD_SECRET_KEYS)} | {"keep": "visible"}
    for depth in (0, 1, 2, 5, 12):
        journal.write("request", body=nest(depth, leaf))
        journal.write_event(Event("/me/internal", {"userData": nest(depth, leaf)}, 1.0, depth),
                            None)
    # The decision is cached per key name: the same keys again, and after the cache overflowed.
    journal.write("response", **{f"k{n}": n for n in range(5000)})
    journal.write("verdict", extra=[leaf], **leaf)
    journal.close()
    text = path.read_text(encoding="utf-8")
    assert "leak-" not in text and "hunter2" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 12 and all(line["target"] == {"profile": "p"} for line in lines)
    assert text.count('"visible"') == 12
    assert text.count("[redacted]") == 12 * len(ODD_SECRET_KEYS)  # 10 + 2 on the last line


def test_redact_and_the_quick_check_agree_on_every_key() -> None:
    from console.domain.journal import has_secret_key

    for key in ODD_SECRET_KEYS:
        assert has_secret_key({"a": [{"b": {key: 1}}]}), key
        assert redact({"a": [{"b": {key: 1}}]}) == {"a": [{"b": {key: "[redacted]"}}]}
    for key in ["phoneNumber", "GSW_PHONE", "referenceId", "GSW_CHAIN_ID", 7]:
        assert not has_secret_key({"a": [{key: 1}]}), key
        assert redact({"a": [{key: 1}]}) == {"a": [{key: 1}]}
    # Any key with "pass" in it is taken for a secret: redacting one too many is the safe side.
    assert has_secret_key({"a": [{"passive": 1}]})
    assert redact({"passive": 1}) == {"passive": "[redacted]"}


def test_the_password_is_cut_as_typed_and_as_json_escapes_it(tmp_path: Path) -> None:
    from console.domain.events import Event

    path = tmp_path / "p.jsonl"
    password = 'pa"ss\\wörd\u2028'
    journal = Journal(path=path, secrets=(password,))
    journal.write("error", message=f"GWS said: bad credentials {password}")
    journal.write_event(Event("/me/internal", {"note": f"x{password}y"}, 1.0, 1), None)
    journal.close()
    raw = path.read_bytes().decode("utf-8")
    for form in (password, json.dumps(password)[1:-1], json.dumps(password, ensure_ascii=False)[1:-1]):
        assert form not in raw
    assert raw.count("[redacted]") == 2
    assert [json.loads(line)["kind"] for line in raw.splitlines()] == ["error", "event"]


def test_lone_surrogates_never_stop_the_journal(tmp_path: Path) -> None:
    from console.domain.events import Event

    path = tmp_path / "u.jsonl"
    journal = Journal(path=path, target={"profile": "p"})
    journal.write("request", body={"otherFields": {"a": "\ud800", "\udfff": 1}})
    journal.write_event(Event("/v2/me/outbound", {"referenceId": "r\ud800"}, 1.0, 1), "r\ud800")
    journal.write("verdict", state="acknowledged")
    journal.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["body"]["otherFields"] == {"a": "\ud800", "\udfff": 1}
    assert lines[1]["data"]["referenceId"] == "r\ud800" and lines[1]["matched"] == "r\ud800"
    assert lines[2]["state"] == "acknowledged"


def test_values_json_cannot_carry_become_text_not_exceptions(tmp_path: Path) -> None:
    from console.domain.events import Event

    path = tmp_path / "v.jsonl"
    journal = Journal(path=path, target={"profile": "p"})
    circular: dict[str, object] = {"a": 1}
    circular["self"] = circular
    journal.write("odd", path=Path("/x"), ids=[{1, 2}])
    journal.write("key", tuple_key={(1, 2): "v"})
    journal.write("loop", value=circular)
    journal.write_event(Event("/me/internal", circular, 1.0, 1), None)
    journal.write("status", ts="theirs", kind="theirs", target="theirs")
    journal.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["odd", "key", "loop", "event", "status"]
    assert lines[0]["path"] == "/x" and lines[0]["ids"] == ["{1, 2}"]
    assert "TypeError" in lines[1]["unencodable"] and "(1, 2)" in lines[1]["repr"]
    assert "circular" in lines[2]["unwritten"] and "circular" in lines[3]["data"]["unwritten"]
    assert lines[4]["_ts"] == lines[4]["_kind"] == lines[4]["_target"] == "theirs"
    assert all(line["target"] == {"profile": "p"} for line in lines)


def test_timestamps_are_iso_utc_with_milliseconds(tmp_path: Path) -> None:
    import datetime as dt
    import time

    path = tmp_path / "t.jsonl"
    journal = Journal(path=path)
    before = dt.datetime.now(dt.timezone.utc)
    for _ in range(3):
        journal.write("tick")
        time.sleep(0.002)
    after = dt.datetime.now(dt.timezone.utc)
    journal.close()
    stamps = [json.loads(line)["ts"] for line in path.read_text().splitlines()]
    for stamp in stamps:
        moment = dt.datetime.fromisoformat(stamp)
        assert stamp.endswith("+00:00") and len(stamp) == len("2024-05-01T12:00:00.123+00:00")
        assert before - dt.timedelta(milliseconds=1) <= moment <= after
    assert stamps == sorted(stamps)


def test_a_dict_of_known_safe_keys_is_still_searched_below_and_beside() -> None:
    """The quick check skips the key loop of a dict whose keys are all known safe: what is
    below those keys, and a new key beside them, are still looked at."""
    from console.domain.journal import has_secret_key

    assert not has_secret_key({"keep": 1, "also": [1, {"keep": 2}]})  # now known safe
    assert has_secret_key({"keep": {"also": [{"keep": 1, "x-auth-token": 2}]}})
    assert has_secret_key({"keep": 1, "also": 2, "Cookie": 3})
    assert redact({"keep": [{"also": {"apiKey": 1}}]}) == \
        {"keep": [{"also": {"apiKey": "[redacted]"}}]}


def test_credential_keys_inside_tuples_and_container_subclasses_are_redacted(
        tmp_path: Path) -> None:
    """JSON writes a tuple as a list: what is inside one is searched like a list."""
    from collections import OrderedDict

    from console.domain.events import Event
    from console.domain.journal import has_secret_key

    class Fields(dict[str, object]):
        pass

    class Items(list[object]):
        pass

    path = tmp_path / "t.jsonl"
    journal = Journal(path=path)
    values: list[object] = [({"password": "leak-0"},), [("x", {"a": ({"Token": "leak-1"},)})],
                            Fields(apiKey="leak-2"), Items([OrderedDict(cookie="leak-3")]),
                            (Fields(inner=(Items([{"secret": "leak-4"}]),)),)]
    for value in values:
        assert has_secret_key({"v": value}), value
        journal.write("request", body=value)
        journal.write_event(Event("/me/internal", {"userData": value}, 1.0, 1), None)
    journal.close()
    text = path.read_text()
    assert "leak-" not in text and text.count("[redacted]") == 2 * len(values)

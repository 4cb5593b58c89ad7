"""Profiles: YAML read safely, no secrets, search path, flags override."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from console.app.target import choose_profile
from console.errors import ProfileError
from console.gws.connection import Secret
from console.profiles import (
    DEMO,
    list_profiles,
    load_profile,
    read_profile,
    resolve_password,
    search_path,
)

REPO = Path(__file__).parent.parent
TLS = Path(__file__).parent / "data" / "tls"  # a throwaway CA and client certificate


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_shipped_profiles_load() -> None:
    demo = read_profile(REPO / "profiles" / "demo.yaml")
    assert demo.simulator and demo.username == "demo"
    example = read_profile(REPO / "profiles" / "example-production.yaml")
    assert example.url == "https://gws.example.com:8090" and example.verify is True


def test_full_profile(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes((TLS / "ca.pem").read_bytes())
    path = write(tmp_path, "eu", """
url: https://gws.eu.example:8090
username: agent1
password_from: env:EU_PASS
device_path: /devices/abc
channels: [/v2/me/*]
tls: {verify: true, ca_bundle: ca.pem}
timeout: 4.5
""")
    profile = read_profile(path)
    assert profile.name == "eu" and profile.channels == ("/v2/me/*",)
    assert profile.ca_bundle == (tmp_path / "ca.pem").resolve()
    assert profile.timeout_s == 4.5 and profile.password_from == "env:EU_PASS"


@pytest.mark.parametrize("key", ["password", "Password", "token", "secret"])
def test_a_profile_holding_a_secret_is_refused(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, "bad", f"url: https://x\nusername: u\n{key}: hunter2\n")
    with pytest.raises(ProfileError) as info:
        read_profile(path)
    message = str(info.value)
    assert "bad.yaml:3" in message and "must not hold" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(("text", "words"), [
    ("url: https://x\nusernme: u\n", "bad.yaml:2: unknown key 'usernme'"),
    ("url: ftp://x\n", "url must start with"),
    ("username: u\n", "needs url"),
    ("url: https://x\ntls: {verify: maybe}\n", "tls.verify"),
    ("url: https://x\ntimeout: -1\n", "timeout"),
    ("url: https://x\nchannels: outbound\n", "channels"),
    ("url: https://x\npassword_from: file:/etc/pw\n", "password_from"),
    ("url: https://x\ndevice_path: abc\n", "device_path"),
    ("url: [unclosed\n", "bad.yaml:2"),
    ("!!python/object/apply:os.system ['echo hi']\n", "not allowed"),
    ("- a\n- b\n", "expected a mapping"),
])
def test_bad_profiles_name_file_line_and_fix(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, "bad", text)
    with pytest.raises(ProfileError, match=words.replace("[", r"\[").replace("(", r"\(")):
        read_profile(path)


def test_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, home = tmp_path / "first", tmp_path / "home"
    (home / "profiles").mkdir(parents=True)
    first.mkdir()
    write(first, "p", "url: https://first\n")
    write(home / "profiles", "p", "url: https://home\n")
    write(home / "profiles", "q", "url: https://home-q\n")
    monkeypatch.setenv("OUTBOUND_CONSOLE_HOME", str(home))
    dirs = search_path(first)
    assert dirs[0] == first and dirs[1] == home / "profiles"
    assert load_profile("p", dirs).url == "https://first"
    assert load_profile("q", dirs).url == "https://home-q"
    names = [p.name for p in list_profiles(dirs) if not isinstance(p, ProfileError)]
    assert "demo" in names and names.count("p") == 1


def test_unknown_profile_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no profile named 'nope'.*profiles list"):
        load_profile("nope", [tmp_path])


def test_demo_is_built_in(tmp_path: Path) -> None:
    assert load_profile("demo", [tmp_path]) == DEMO


def test_flags_override_the_profile(tmp_path: Path) -> None:
    write(tmp_path, "p", "url: https://a\nusername: one\n")
    profile = choose_profile("p", tmp_path, "https://b", "two")
    assert profile.url == "https://b" and profile.username == "two"
    adhoc = choose_profile(None, tmp_path, "https://c", "three")
    assert adhoc.url == "https://c" and not adhoc.simulator


def test_password_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    profile = read_profile(write(tmp_path, "p", "url: https://a\nusername: u\npassword_from: env:MY_PW\n"))
    monkeypatch.delenv("OUTBOUND_CONSOLE_PASSWORD", raising=False)
    monkeypatch.delenv("MY_PW", raising=False)
    with pytest.raises(ProfileError, match="set MY_PW"):
        resolve_password(profile, None)
    assert resolve_password(profile, lambda label: "typed").reveal() == "typed"
    monkeypatch.setenv("MY_PW", "from-env")
    assert resolve_password(profile, None).reveal() == "from-env"
    monkeypatch.setenv("OUTBOUND_CONSOLE_PASSWORD", "global")
    assert resolve_password(profile, None).reveal() == "global"


def test_describe_never_contains_the_password(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("OUTBOUND_CONSOLE_PASSWORD", "hunter2")
    profile = read_profile(write(tmp_path, "p", "url: https://a\nusername: u\n"))
    secret = resolve_password(profile, None)
    connection = profile.connection(secret)
    assert "hunter2" not in str(profile.describe()) and "hunter2" not in repr(connection)


@pytest.mark.parametrize(("value", "production"), [("production", True), ("Prod", True),
                                                   ("staging", False), (None, False)])
def test_environment_marks_production(tmp_path: Path, value: str | None,
                                      production: bool) -> None:
    from console.profiles import read_profile

    path = tmp_path / "p.yaml"
    path.write_text("url: https://gws.example.com:8090\nusername: a\n"
                    + (f"environment: {value}\n" if value else ""))
    profile = read_profile(path)
    assert profile.production is production
    assert profile.describe()["environment"] == (value or "(not set)")


@pytest.mark.parametrize(("tls", "words"), [
    ("{ca_bundle: /nonexistent.pem}", "bad.yaml:2: tls.ca_bundle: /nonexistent.pem: cannot read: "
                                      "No such file or directory; it should be a PEM file of CA"),
    ("{ca_bundle: notes.txt}", "notes.txt is not a PEM file of CA certificates"),
    ("{ca_bundle: empty.pem}", "empty.pem is not a PEM file of CA certificates"),
    ("{ca_bundle: .}", "tls.ca_bundle: cannot read"),
    ("{client_cert: /nonexistent.pem}", "tls.client_cert: /nonexistent.pem: cannot read"),
    ("{client_cert: notes.txt}", "notes.txt is not a PEM file holding the client certificate "
                                 "and its unencrypted private key"),
    ("{client_cert: cert-only.pem}", "cert-only.pem is not a PEM file holding the client"),
    ("{client_cert: encrypted.pem}", "the private key is encrypted and the console cannot ask"),
])
def test_tls_files_are_checked_when_the_profile_is_read(tmp_path: Path, tls: str,
                                                        words: str) -> None:
    (tmp_path / "notes.txt").write_text("not a certificate\n")
    (tmp_path / "empty.pem").write_text("")
    (tmp_path / "cert-only.pem").write_bytes((TLS / "client-cert-only.pem").read_bytes())
    (tmp_path / "encrypted.pem").write_bytes((TLS / "client-encrypted-key.pem").read_bytes())
    path = write(tmp_path, "bad", f"url: https://gws.example:8090\ntls: {tls}\n")
    with pytest.raises(ProfileError) as info:
        read_profile(path)
    assert words in str(info.value)


def test_good_tls_files_load_as_the_connection_loads_them(tmp_path: Path) -> None:
    path = write(tmp_path, "good", f"url: https://gws.example:8090\ntls: {{ca_bundle: "
                 f"{TLS / 'ca.pem'}, client_cert: {TLS / 'client.pem'}}}\n")
    profile = read_profile(path)
    assert profile.ca_bundle == TLS / "ca.pem" and profile.client_cert == TLS / "client.pem"
    context = profile.connection(Secret("x")).ssl_context()
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("timeout", [".nan", ".inf", "-.inf", "1.0e+300", "601", "0", "-1", "'10'",
                                     "true"])
def test_timeout_must_be_finite_and_bounded(tmp_path: Path, timeout: str) -> None:
    path = write(tmp_path, "bad", f"url: https://x\ntimeout: {timeout}\n")
    with pytest.raises(ProfileError, match=r"bad.yaml:2: timeout must be a number of seconds "
                                           r"above 0 and at most 600"):
        read_profile(path)


@pytest.mark.parametrize(("text", "words"), [
    ("url: https://x\nproxy_from_env: 'no'\n", "bad.yaml:2: proxy_from_env must be true or false"),
    ("url: https://x\nname: prod\n", "bad.yaml:2: name 'prod' differs from the file name"),
])
def test_options_are_honoured_or_refused(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ProfileError, match=words):
        read_profile(write(tmp_path, "bad", text))


def test_a_profiles_password_variable_is_never_expanded(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from console.domain.placeholders import secret_env

    monkeypatch.setattr("console.domain.placeholders._marked", set())
    assert secret_env("GWS_EU") is None
    read_profile(write(tmp_path, "eu", "url: https://x\npassword_from: env:GWS_EU\n"))
    assert secret_env("GWS_EU") is not None

"""Profiles: where a GWS is and how to log in to it, as `profiles/<name>.yaml`.

A profile never holds a password: one with a `password` key is refused. The password comes
from an environment variable, the system keyring (when the `keyring` package is installed) or
a prompt. Search path: `--profiles DIR`, `$OUTBOUND_CONSOLE_HOME/profiles`, `./profiles`, then
the user config dir (`platformdirs`). The `demo` profile (built in, and shipped as
`profiles/demo.yaml`) runs the embedded simulator in-process.

Checked when read, so a mistake shows as file:line and its fix, never as a traceback at
connect time: `tls.ca_bundle` must load as PEM CA certificates, `tls.client_cert` as a PEM
certificate with its unencrypted private key; `timeout` is a finite number of seconds up to
`MAX_TIMEOUT_S`; a key given twice is refused (console.domain.yamlfile); a profile is the
embedded simulator or a URL, never both, and the simulator takes no `environment:`; names
(`username`, the variable of `password_from: env:`) are not empty.
"""

from __future__ import annotations

import math
import os
import re
import ssl
from pathlib import Path
from typing import Callable

import platformdirs

from console.domain.placeholders import mark_secret_env
from console.domain.urls import has_credentials, safe_url
from console.errors import ProfileError
from console.gws.connection import DEFAULT_CHANNELS, Secret
from console.profile import DEMO, ContactCenterSession, Profile, is_production

__all__ = ["Profile", "search_path", "load_profile", "list_profiles", "resolve_password",
           "missing_password", "PASSWORD_ENV", "DEMO"]

from console.profile import PASSWORD_ENV  # noqa: E402

HOME_ENV = "OUTBOUND_CONSOLE_HOME"
KNOWN_KEYS = {"name", "description", "url", "username", "password_from", "device_path",
              "channels", "tls", "timeout", "proxy_from_env", "simulator", "environment",
              "contact_center_session", "max_repaint_rate"}
TLS_KEYS = {"verify", "ca_bundle", "client_cert"}
CONTACT_CENTER_KEYS = ("start", "place", "device_path", "end_on_exit")
SECRET_KEYS = {"password", "passwd", "secret", "token"}
#: Longest REST timeout a profile may set (a longer wait is a hung session, not patience).
MAX_TIMEOUT_S = 600.0
#: Digits that YAML keeps as text (`2.50`, `010`): the message says how to write them.
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
#: A PEM file larger than this is not a certificate bundle (the Mozilla bundle is ~220 KB).
MAX_PEM_BYTES = 10 * 1024 * 1024


def search_path(profiles_dir: Path | None = None) -> list[Path]:
    dirs: list[Path] = []
    if profiles_dir is not None:
        dirs.append(profiles_dir)
    home = os.environ.get(HOME_ENV)
    if home:
        dirs.append(Path(home) / "profiles")
    dirs.append(Path.cwd() / "profiles")
    dirs.append(Path(platformdirs.user_config_dir("outbound-console")) / "profiles")
    return dirs


def list_profiles(dirs: list[Path]) -> list[Profile | ProfileError]:
    """Every profile on the search path (first one wins per name), plus the built-in demo."""
    found: dict[str, Profile | ProfileError] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
            if path.stem in found:
                continue
            try:
                found[path.stem] = read_profile(path)
            except ProfileError as exc:
                found[path.stem] = exc
    found.setdefault("demo", DEMO)
    return list(found.values())


def load_profile(name: str, dirs: list[Path]) -> Profile:
    for directory in dirs:
        path = directory / f"{name}.yaml"
        if path.is_file():
            return read_profile(path)
    if name == "demo":
        return DEMO
    looked = ", ".join(str(d) for d in dirs)
    raise ProfileError(f"no profile named {name!r} (looked for {name}.yaml in {looked}); "
                       "`outbound-console profiles list` shows the ones there are")


def read_profile(path: Path) -> Profile:
    from console.domain.yamlfile import (  # YAML when a file is read
        YamlError,
        load_yaml_mapping,
    )

    try:
        data, lines = load_yaml_mapping(path)
    except YamlError as exc:
        # `password_from: env:` is no YAML a reader understands ("mapping values are not
        # allowed"): say what it means instead.
        empty = _empty_env_line(path)
        if empty is not None:
            raise ProfileError(_EMPTY_ENV.format(where=f"{path}:{empty}")) from None
        raise ProfileError(str(exc)) from None

    def where(key: str) -> str:
        return f"{path}:{lines.get(key, 1)}"

    for key in data:
        if str(key).lower() in SECRET_KEYS:
            raise ProfileError(f"{where(key)}: profiles must not hold a {key}: remove the line "
                               f"and use password_from: env:{PASSWORD_ENV}, keyring or prompt")
        if key not in KNOWN_KEYS:
            raise ProfileError(f"{where(key)}: unknown key {key!r}; known keys: "
                               + ", ".join(sorted(KNOWN_KEYS)))

    def text(key: str, default: str | None = None) -> str | None:
        value = data.get(key, default)
        if value is not None and not isinstance(value, str):
            raise ProfileError(f"{where(key)}: {key} must be text, got {value!r}")
        return value

    simulator = data.get("simulator", False)
    if simulator not in (False, True, "embedded"):
        raise ProfileError(f"{where('simulator')}: simulator must be 'embedded' or false")
    url = text("url")
    if simulator and "url" in data:
        server = safe_url(url) if url else "a GWS"
        raise ProfileError(f"{where('url')}: url: and simulator: embedded contradict each "
                           f"other (the embedded simulator would answer, {server} never "
                           "would): remove simulator: to use that GWS, or remove url: to use "
                           "the embedded simulator")
    environment = text("environment", "") or ""
    if simulator and environment.strip():
        never = ", never production" if is_production(environment) else ""
        raise ProfileError(f"{where('environment')}: environment: {environment} does not apply "
                           f"to simulator: embedded (the embedded simulator is always marked "
                           f"SIMULATOR{never}): remove environment:, or remove simulator: and "
                           f"give the url: of the {environment} GWS")
    username = text("username", "demo" if simulator else None)
    if "username" in data and not (username or "").strip():
        raise ProfileError(f"{where('username')}: username is empty: give the GWS user "
                           "(e.g. username: agent007), or remove the line"
                           + (" (the simulator's user is demo)" if simulator
                              else " and give the user with --user"))
    if not simulator and not url:
        raise ProfileError(f"{path}: a profile needs url: (e.g. https://gws.example.com:8090) "
                           "or simulator: embedded")
    if url and has_credentials(url):
        raise ProfileError(f"{where('url')}: the url holds a user or password "
                           f"({safe_url(url)}): remove it; give the user as username: and the "
                           f"password with password_from: (env:NAME, keyring or prompt)")
    if url and not url.startswith(("http://", "https://")):
        raise ProfileError(f"{where('url')}: url must start with https:// or http://, got {url!r}")
    password_from = text("password_from", f"env:{PASSWORD_ENV}") or ""
    if password_from.startswith("env:") and not password_from[4:].strip():
        raise ProfileError(_EMPTY_ENV.format(where=where("password_from")))
    if not (password_from in ("keyring", "prompt") or password_from.startswith("env:")):
        raise ProfileError(f"{where('password_from')}: password_from must be env:NAME, keyring "
                           f"or prompt, got {password_from!r}")
    channels = data.get("channels", list(DEFAULT_CHANNELS))
    if not isinstance(channels, list) or not channels or not all(
            isinstance(c, str) and c.startswith("/") for c in channels):
        raise ProfileError(f"{where('channels')}: channels must be a list of channel names "
                           "like /v2/me/outbound")
    tls = data.get("tls", {}) or {}
    if not isinstance(tls, dict) or set(tls) - TLS_KEYS:
        raise ProfileError(f"{where('tls')}: tls takes verify, ca_bundle, client_cert")
    verify = tls.get("verify", True)
    if not isinstance(verify, bool):
        raise ProfileError(f"{where('tls')}: tls.verify must be true or false")
    timeout = data.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT_S):
        hint = ""
        if isinstance(timeout, str) and _DECIMAL.match(timeout.strip()):
            # `2.50`, `010`: text to YAML here (they would not write back as typed).
            hint = f" (text: write it as {float(timeout):g}, without quotes or extra zeros)"
        raise ProfileError(f"{where('timeout')}: timeout must be a number of seconds above 0 "
                           f"and at most {MAX_TIMEOUT_S:g}, got {timeout!r}{hint}")
    proxy_from_env = data.get("proxy_from_env", True)
    if not isinstance(proxy_from_env, bool):
        raise ProfileError(f"{where('proxy_from_env')}: proxy_from_env must be true or false, "
                           f"got {proxy_from_env!r}")
    name = data.get("name", path.stem)
    if name != path.stem:
        raise ProfileError(f"{where('name')}: name {name!r} differs from the file name: a "
                           f"profile is called by its file name ({path.stem}); remove the line "
                           "or rename the file")
    repaint: float | None = None
    if "max_repaint_rate" in data:
        from console.tui.repaint import RepaintRateError, parse_max_repaint_rate

        try:
            repaint = parse_max_repaint_rate(data["max_repaint_rate"])
        except RepaintRateError as exc:
            raise ProfileError(f"{where('max_repaint_rate')}: max_repaint_rate: {exc}") from None
    device = text("device_path")
    if device is not None and not device.startswith("/devices/"):
        raise ProfileError(f"{where('device_path')}: device_path looks like /devices/<id>")

    def file_of(key: str) -> Path | None:
        value = tls.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ProfileError(f"{where('tls')}: tls.{key} must be a file path")
        file = (path.parent / Path(value).expanduser()).resolve()
        _check_pem(file, key, where("tls"))
        return file

    contact_center = _contact_center(data.get("contact_center_session"),
                                     where("contact_center_session"))
    if password_from.startswith("env:"):
        mark_secret_env(password_from[4:])  # ${env:...} in a template never reads it
    return Profile(
        name=path.stem, url=url, username=username,
        password_from=password_from, device_path=device, channels=tuple(channels),
        verify=verify, ca_bundle=file_of("ca_bundle"), client_cert=file_of("client_cert"),
        timeout_s=float(timeout), proxy_from_env=proxy_from_env,
        simulator=bool(simulator), contact_center=contact_center,
        description=text("description", "") or "",
        environment=environment, max_repaint_rate=repaint, path=path)


_EMPTY_ENV = ("{where}: password_from: env: names no variable: give the one that holds the "
              "password, e.g. password_from: env:MY_GWS_PW (or keyring, or prompt)")
_EMPTY_ENV_LINE = re.compile(r"\s*password_from\s*:\s*['\"]?env:['\"]?\s*(#.*)?")


def _empty_env_line(path: Path) -> int | None:
    """The line of a `password_from: env:` (no variable named) in `path`, if there is one."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if _EMPTY_ENV_LINE.fullmatch(line):
            return number
    return None


def _contact_center(raw: object, where: str) -> ContactCenterSession | None:
    """`contact_center_session:` checked: a mapping of start, place, device_path, end_on_exit;
    ProfileError naming file:line, the key and the fix."""
    if raw is None:
        return None
    example = "e.g. contact_center_session: {start: true, place: Place_5001}"
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: contact_center_session must be a mapping ({example}), "
                           f"got {raw!r:.80}")
    unknown = [str(k) for k in raw if k not in CONTACT_CENTER_KEYS]
    if unknown:
        raise ProfileError(f"{where}: contact_center_session: unknown key {unknown[0]!r}; "
                           f"known keys: {', '.join(CONTACT_CENTER_KEYS)}")
    if "start" not in raw:
        raise ProfileError(f"{where}: contact_center_session needs start: true (or false) "
                           f"({example})")
    for key in ("start", "end_on_exit"):
        if key in raw and not isinstance(raw[key], bool):
            raise ProfileError(f"{where}: contact_center_session.{key} must be true or false, "
                               f"got {raw[key]!r:.80}")
    for key in ("place", "device_path"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ProfileError(f"{where}: contact_center_session.{key} must be text (a "
                               f"{'place name' if key == 'place' else 'device path'}), got "
                               f"{value!r:.80}")
    device = raw.get("device_path")
    if device is not None and not device.startswith("/devices/"):
        raise ProfileError(f"{where}: contact_center_session.device_path looks like "
                           f"/devices/<id>, got {device!r:.80}")
    return ContactCenterSession(start=raw["start"], place=raw.get("place"), device_path=device,
                                end_on_exit=raw.get("end_on_exit", True))


class _Encrypted(Exception):
    """OpenSSL asked for a private key's passphrase."""


def _no_passphrase() -> bytes:
    raise _Encrypted  # OpenSSL would otherwise prompt on the terminal by itself


def _check_pem(file: Path, key: str, where: str) -> None:
    """ProfileError (where, file, fix) unless `file` loads into an SSLContext as the
    connection will load it: CA certificates (ca_bundle) or certificate + key (client_cert)."""
    what = ("a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)" if key == "ca_bundle"
            else "a PEM file holding the client certificate and its unencrypted private key")
    from console.domain.yamlfile import YamlError, check_size

    try:
        check_size(file, MAX_PEM_BYTES, "a PEM file")
        context = ssl.create_default_context()
        if key == "ca_bundle":
            context.load_verify_locations(cafile=str(file))
        else:
            context.load_cert_chain(str(file), password=_no_passphrase)
    except YamlError as exc:
        raise ProfileError(f"{where}: tls.{key}: {exc}; it should be {what}") from None
    except _Encrypted:
        raise ProfileError(f"{where}: tls.{key}: {file}: the private key is encrypted and the "
                           "console cannot ask for its passphrase; store it decrypted (e.g. "
                           "`openssl pkey -in key.pem -out plain.pem`) in a file only you can "
                           "read") from None
    except ssl.SSLError as exc:
        reason = exc.reason or exc.strerror or str(exc)
        raise ProfileError(f"{where}: tls.{key}: {file} is not {what} ({reason})") from None
    except OSError as exc:
        raise ProfileError(f"{where}: tls.{key}: cannot read {file}: "
                           f"{exc.strerror or exc}; it should be {what}") from None


def password_label(profile: Profile) -> str:
    """What the password prompt says: the user and which server (never `(flags)`)."""
    if profile.name == "(flags)":
        return f"GWS password for {profile.username} at {profile.url}"
    return f"GWS password for {profile.username} (profile {profile.name}, {profile.url})"


def resolve_password(profile: Profile, prompt: Callable[[str], str] | None) -> Secret:
    """The password from the environment (OUTBOUND_CONSOLE_PASSWORD first), the keyring or
    a prompt; ProfileError saying what to set when none is available."""
    env_value = os.environ.get(PASSWORD_ENV)
    if env_value:
        return Secret(env_value)
    source = profile.password_from
    if source.startswith("env:"):
        value = os.environ.get(source[4:])
        if value:
            return Secret(value)
    elif source == "keyring":
        try:
            import keyring  # type: ignore[import-not-found]
        except ImportError:
            keyring = None
        if keyring is not None:
            value = keyring.get_password("outbound-console", f"{profile.name}:{profile.username}")
            if value:
                return Secret(value)
    if prompt is not None:
        return Secret(prompt(password_label(profile)))
    raise missing_password(profile)


def missing_password(profile: Profile, problem: str = "no password") -> ProfileError:
    """What to do when `profile` has no password: set the variable its password_from names
    (or OUTBOUND_CONSOLE_PASSWORD), or run from a terminal to be asked."""
    variable = profile.password_from[4:] if profile.password_from.startswith("env:") else ""
    if variable and variable != PASSWORD_ENV:
        where = f"set {variable} (the profile's password_from) or {PASSWORD_ENV}"
    else:
        where = f"set {PASSWORD_ENV}"
    if profile.password_from == "keyring":
        where = (f"store it in the keyring (service outbound-console, user "
                 f"{profile.name}:{profile.username}), {where}")
    return ProfileError(f"{problem} for profile {profile.name!r}: {where} in the environment, "
                        "or run from a terminal to be asked")

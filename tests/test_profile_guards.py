"""Profiles that contradict themselves or name nothing are refused when read (file:line and
the fix); production is one definition (any word of `environment:`); every failure to open
a target follows the `target:` line that names it; a missing password names the variable
the profile reads it from."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from console.app.target import Target, choose_profile
from console.errors import ProfileError
from console.profile import DEMO, is_production
from console.profiles import read_profile, resolve_password
from console.sim import Simulator
from tests.cli_helpers import BIN, CALLBACK, isolated_env, run_bin, write_profile
from tests.test_cli_engine import FIELDS

REPO = Path(__file__).parent.parent


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# A: contradictory keys -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "words"), [
    ("simulator: embedded\nurl: http://127.0.0.1:45749\nusername: agent007\n",
     "bad.yaml:2: url: and simulator: embedded contradict each other"),
    ("url: https://gws.example:8090\nsimulator: true\n",
     "bad.yaml:1: url: and simulator: embedded contradict each other"),
    ("simulator: embedded\nusername: agent007\nenvironment: production\n",
     "bad.yaml:3: environment: production does not apply to simulator: embedded (the embedded "
     "simulator is always marked SIMULATOR, never production)"),
    ("simulator: embedded\nenvironment: eu-prod\n", "bad.yaml:2: environment: eu-prod does not"),
    ("simulator: embedded\nenvironment: lab\n", "bad.yaml:2: environment: lab does not apply"),
])
def test_a_profile_that_says_simulator_and_a_server_is_refused(tmp_path: Path, text: str,
                                                               words: str) -> None:
    with pytest.raises(ProfileError) as info:
        read_profile(write(tmp_path, "bad", text))
    message = str(info.value)
    assert words in message and "remove" in message


def test_the_demo_and_the_shipped_profiles_still_load() -> None:
    for path in sorted((REPO / "profiles").glob("*.yaml")):
        read_profile(path)
    demo = read_profile(REPO / "profiles" / "demo.yaml")
    assert demo.simulator and demo.url is None and not demo.production
    assert DEMO.simulator and DEMO.url is None and not DEMO.environment


async def test_a_copied_demo_profile_pointing_at_a_server_sends_nothing(
        sim: Simulator, tmp_path: Path) -> None:
    """The exploratory tester's profile: replay ran on the embedded simulator, unasked."""
    folder = tmp_path / "dir"
    folder.mkdir()
    write(folder, "copied", f"simulator: embedded\nurl: {sim.url}\nusername: {sim.user}\n"
          "environment: production\n")
    env = isolated_env(tmp_path, sim.password)
    chosen = ["--profiles", str(folder), "--profile", "copied"]
    for args in (["replay", str(CALLBACK), "--count", "2", "--set", "phone=5551234", *chosen],
                 ["send", *FIELDS, *chosen], ["profiles", "show", "copied", "--profiles",
                                              str(folder)]):
        code, out, err = await run_bin(*args, env=env, cwd=tmp_path)
        assert code != 0, out + err
        assert "copied.yaml:2: url: and simulator: embedded contradict" in err, err
        assert "acknowledged" not in out
    assert sim.store.counters["posts"] == 0


# B: one definition of production ---------------------------------------------------------

@pytest.mark.parametrize("value", ["production", "Prod", "PRD", "live", "production-eu",
                                   "prod-eu", "eu-prod", "EU_PROD", "prod eu", "prod2",
                                   "euProd", "pre-prod"])
def test_any_production_word_makes_it_production(tmp_path: Path, value: str) -> None:
    assert is_production(value)
    profile = read_profile(write(tmp_path, "p", f"url: https://gws.example:8090\n"
                                                f"username: a\nenvironment: {value}\n"))
    assert profile.production
    target = Target("p", "https://gws.example:8090", "a", False, value)
    assert target.production and target.marker == "PRODUCTION"
    assert target.tag().startswith("[PRODUCTION p ")


@pytest.mark.parametrize("value", ["staging", "preprod", "productions", "reproduction",
                                   "delivery", "lab", "", None])
def test_other_environments_are_not(value: str | None) -> None:
    assert not is_production(value)
    target = Target("p", "https://gws.example:8090", "a", False, value)
    assert not target.production and target.marker == (value or "").upper()


async def test_a_replay_to_eu_prod_asks_first(sim: Simulator, tmp_path: Path) -> None:
    write_profile(tmp_path / "dir", "eu", sim.url, sim.user, environment="production-eu")
    code, out, err = await run_bin(
        "replay", str(CALLBACK), "--count", "2", "--set", "phone=5551234",
        "--profiles", str(tmp_path / "dir"), "--profile", "eu",
        env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 8, out + err
    assert f"target: PRODUCTION profile eu, {sim.url}, user {sim.user}" in err
    assert "stdin is not a terminal" in err and "--yes" in err
    assert sim.store.counters["posts"] == 0


# C: the target named on every failure to open it -----------------------------------------

async def test_send_names_the_target_when_the_password_is_wrong(sim: Simulator,
                                                                tmp_path: Path) -> None:
    write_profile(tmp_path / "dir", "prod", sim.url, sim.user, environment="production")
    code, out, err = await run_bin("send", *FIELDS, "--profiles", str(tmp_path / "dir"),
                                   "-p", "prod", env=isolated_env(tmp_path, "wrong"),
                                   cwd=tmp_path)
    assert code == 6, out + err
    lines = err.splitlines()
    assert lines[0] == f"target: PRODUCTION profile prod, {sim.url}, user {sim.user}", err
    assert lines[1].startswith("error: ") and "not authenticated" in lines[1], err


@pytest.mark.parametrize("where", ["refused", "404"])
async def test_send_names_the_server_it_cannot_open(sim: Simulator, tmp_path: Path,
                                                    where: str) -> None:
    if where == "refused":
        await sim.stop()  # nothing listens on its port any more
        url = sim.url
    else:
        url = f"{sim.url}/nothing-here"
    for command in (["send", *FIELDS], ["watch"]):
        code, out, err = await run_bin(*command, "--url", url, "--user", "agent7",
                                       env=isolated_env(tmp_path, "pw"), cwd=tmp_path)
        assert code == 6, out + err
        lines = err.splitlines()
        assert lines[0] == f"target: profile (flags), {url}, user agent7", err
        assert lines[1].startswith("error: "), err
    assert sim.store.counters["posts"] == 0


# D: the password's variable, empty names -------------------------------------------------

async def test_a_missing_password_names_the_profiles_variable(sim: Simulator,
                                                              tmp_path: Path) -> None:
    write_profile(tmp_path / "dir", "eu", sim.url, sim.user, password_from="env:MY_GWS_PW")
    for command in (["send", *FIELDS], ["watch"]):
        code, out, err = await run_bin(*command, "--profiles", str(tmp_path / "dir"),
                                       "-p", "eu", env=isolated_env(tmp_path), cwd=tmp_path)
        assert code == 6, out + err
        assert f"target: profile eu, {sim.url}, user {sim.user}" in err
        assert "error: no password for profile 'eu': set MY_GWS_PW" in err, err
    assert sim.store.counters["posts"] == 0


def test_an_empty_typed_password_names_the_variable(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTBOUND_CONSOLE_PASSWORD", raising=False)
    monkeypatch.delenv("MY_GWS_PW", raising=False)
    write(tmp_path, "eu", "url: https://gws.example\nusername: a\npassword_from: env:MY_GWS_PW\n")
    from console.app.target import TargetOptions, resolve_target

    with pytest.raises(ProfileError, match="no password for profile 'eu': set MY_GWS_PW"):
        resolve_target(TargetOptions("eu", tmp_path), prompt=lambda label: "")
    profile = read_profile(tmp_path / "eu.yaml")
    with pytest.raises(ProfileError, match="set MY_GWS_PW"):
        resolve_password(profile, None)


@pytest.mark.parametrize(("text", "words"), [
    ("url: https://x\nusername: a\npassword_from: env:\n",
     "bad.yaml:3: password_from: env: names no variable: give the one that holds the "
     "password, e.g. password_from: env:MY_GWS_PW"),
    ("url: https://x\npassword_from: env:  # later\nusername: a\n",
     "bad.yaml:2: password_from: env: names no variable"),
    ("url: https://x\npassword_from: 'env:'\n", "bad.yaml:2: password_from: env: names no"),
    ("url: https://x\nusername: ''\n", "bad.yaml:2: username is empty: give the GWS user"),
    ("url: https://x\nusername: '  '\n", "bad.yaml:2: username is empty"),
    ("url: https://x\nusername:\n", "bad.yaml:2: username is empty"),
    ("simulator: embedded\nusername: ''\n", "bad.yaml:2: username is empty"),
])
def test_empty_names_are_refused_with_file_and_line(tmp_path: Path, text: str,
                                                    words: str) -> None:
    with pytest.raises(ProfileError) as info:
        read_profile(write(tmp_path, "bad", text))
    assert words in str(info.value)


def test_an_empty_user_option_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "p", "url: https://a\nusername: one\n")
    for name, url in (("p", None), (None, "https://b"), (None, None)):
        with pytest.raises(ProfileError, match=r"--user is empty \(''\): give the GWS user"):
            choose_profile(name, tmp_path, url, "")


async def test_an_empty_user_on_the_command_line_is_refused(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, "pw")
    code, out, err = await run_bin("send", *FIELDS, "--user", "", env=env, cwd=tmp_path)
    assert code == 6 and "--user is empty" in err, out + err
    code, out, err = await run_bin("sim", "--port", "0", "--user", "", env=env, cwd=tmp_path,
                                   timeout=30)
    assert code == 2 and "'--user': the user is empty" in err, out + err
    # The console itself, on the embedded simulator (it used to skip --user there).
    done = subprocess.run([BIN, "--user", ""], env=env, cwd=tmp_path, capture_output=True,
                          stdin=subprocess.DEVNULL, text=True, timeout=60)
    assert done.returncode == 6 and "--user is empty" in done.stderr, done.stdout + done.stderr


def test_a_full_width_production_word_is_production() -> None:
    """`ＰＲＯＤ` (typed with an IME, pasted) read as PROD but did not ask before a bulk send."""
    assert is_production("ＰＲＯＤ") and is_production("eu-ｌｉｖｅ")
    assert not is_production("ｓｔａｇｉｎｇ")


def test_a_timeout_written_as_text_says_how_to_write_it(tmp_path: Path) -> None:
    """`timeout: 2.50` (YAML keeps it as text: it does not write back as typed) was refused
    with a message that did not say why."""
    path = write(tmp_path, "lab", "url: https://gws.example.com\nusername: a\ntimeout: 2.50\n")
    with pytest.raises(ProfileError, match=r"got '2.50' \(text: write it as 2.5,"):
        read_profile(path)


async def test_profiles_show_prints_a_control_character_as_an_escape(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    write_profile(profiles, "lab", "https://gws.example.com", "a", environment='"live\\r"')
    code, out, err = await run_bin("profiles", "show", "lab", "--profiles", str(profiles),
                                   env=isolated_env(tmp_path), cwd=tmp_path)
    assert code == 0, out + err
    assert "live\\x0d" in out and "\r" not in out, repr(out)

"""On a jump host with no package index: the one-file build and the wheelhouse, end to end.

Each is built once per run with the documented command (packaging/build.py,
packaging/wheelhouse.py), copied to a folder outside the checkout and run there with HOME an
empty folder, a bare environment, and, through `unshare`, a network namespace of its own (no
network but a loopback of its own) and a mount namespace in which the checkout, this virtualenv
and, for the one-file build, every Python installation of the machine are hidden under empty
folders: the host has no Python and no packages, as a locked-down jump host.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from console import __version__
from tests.helpers import process_ended
from tests.test_cli_engine import BIN, FIELDS

ROOT = Path(__file__).resolve().parent.parent
#: PATH on the jump host: the system's directories only (no virtualenv, no pyenv shims).
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
SIM_PASSWORD = "jump-host-sim-4Kz"
# Runs inside the new namespaces: bring their loopback up, hide the folders given before `--`
# under empty read-only tmpfs mounts, then run the command after it.
PROLOGUE = """
"$0" link set lo up || { echo "jump host: cannot bring loopback up" >&2; exit 97; }
while [ "$1" != -- ]; do
  mount -t tmpfs -o ro,mode=755 jumphost "$1" || { echo "jump host: cannot hide $1" >&2; exit 98; }
  shift
done
shift
exec "$@"
"""
TEMPLATE = """\
schema: 1
name: jump-host-check
description: a template found in ./profiles/templates of the folder the console runs in
request:
  applicationId: 134
  campaignName: Campaign1
  callingList: CallingList1
  phoneNumber: ${phone}
  timeZone: GMT
  phoneType: Mobile
  from: '08:00'
  until: '20:00'
"""
READY = """\
schema: 1
name: jump-host-ready
description: a complete request, sent as it is
request:
  applicationId: 134
  campaignName: Campaign1
  callingList: CallingList2
  phoneNumber: '5550100'
  timeZone: GMT
  phoneType: Mobile
  from: '08:00'
  until: '20:00'
  devicePath: /devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7
"""
PROFILE = """\
description: jump host lab, read from the user config dir
simulator: embedded
username: demo
"""


@functools.cache
def unshare() -> list[str]:
    """The `unshare` command that gives a process new network and mount namespaces here: as
    root `unshare -n -m`; else, where unprivileged user namespaces are allowed, `-r` too."""
    if shutil.which("unshare") is None:
        pytest.fail("these tests need unshare (util-linux) to take the network away")
    for command in (["unshare", "--net", "--mount"], ["unshare", "--map-root-user", "--net",
                                                       "--mount"]):
        if subprocess.run([*command, "true"], capture_output=True, timeout=10).returncode == 0:
            return command
    pytest.fail("unshare cannot create network and mount namespaces here: run the tests as "
                "root, or allow unprivileged user namespaces (kernel.unprivileged_userns_clone)")


def python_installations() -> list[Path]:
    """Where this machine keeps Python: this interpreter's prefixes and the usual places."""
    found = [Path(sys.prefix), Path(sys.base_prefix)]
    for pattern in ("/usr/lib/python3*", "/usr/local/lib/python3*", "/opt/python*"):
        found += [Path(p) for p in sorted(Path("/").glob(pattern.lstrip("/")))]
    return found


def outermost(paths: list[Path]) -> list[Path]:
    """The existing directories among `paths`, without those inside another one (hidden with it)."""
    dirs = sorted({p.resolve() for p in paths if p.is_dir()})
    return [d for d in dirs if not any(d != o and d.is_relative_to(o) for o in dirs)]


@dataclass
class JumpHost:
    """A folder outside the checkout, an empty HOME, a bare environment, and `unshare`."""

    folder: Path
    """Where commands run (their working directory)."""
    hide: list[Path]
    """Folders hidden under empty mounts (the checkout, virtualenvs, maybe Python itself)."""
    home: Path = field(init=False)
    """HOME: empty at the start."""

    def __post_init__(self) -> None:
        self.home = self.folder / "home"
        self.home.mkdir(parents=True)
        (self.folder / "tmp").mkdir()

    @property
    def env(self) -> dict[str, str]:
        # TMPDIR: a folder of its own, checked to be left empty (the one file unpacks into the
        # user's cache, not there).
        return {"PATH": SYSTEM_PATH, "HOME": str(self.home), "TMPDIR": str(self.folder / "tmp"),
                "TERM": "xterm-256color"}

    def isolated(self, argv: list[str]) -> list[str]:
        ip = shutil.which("ip", path=SYSTEM_PATH)
        if ip is None:
            pytest.fail("these tests need `ip` (iproute2) to bring up the jump host's loopback")
        return [*unshare(), "sh", "-c", PROLOGUE, ip, *map(str, outermost(self.hide)), "--",
                *argv]

    def run(self, *argv: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.isolated(list(argv)), cwd=self.folder, text=True,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout,
                              env={**self.env, **(env or {})})

    def start(self, *argv: str) -> tuple[subprocess.Popen[bytes], Path]:
        """A process group of its own, as a terminal's foreground job (`interrupted` sends it
        SIGINT as Ctrl-C does, to every process of the job); its output goes to the file
        returned."""
        output = self.folder / f"output-{uuid.uuid4().hex[:8]}.txt"
        with output.open("wb") as sink:
            process = subprocess.Popen(self.isolated(list(argv)), cwd=self.folder, env=self.env,
                                       stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, process_group=0)
        return process, output

    def tmux(self, command: str) -> Tmux:
        """A tmux server at 80x24 inside the namespaces, its first window running `command`."""
        return Tmux.start(command, self.folder, self.env, self.isolated)


@dataclass
class Tmux:
    """A tmux server of its own (socket path, not the user's config), panes kept once dead."""

    socket: Path
    """The server's socket (-S)."""
    env: dict[str, str]
    """The environment its client commands run with."""

    @classmethod
    def start(cls, command: str, folder: Path, env: dict[str, str],
              wrap: Callable[[list[str]], list[str]] | None = None) -> Tmux:
        """A server at 80x24 running `command` (a shell line) with TERM=xterm-256color."""
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed: the jump host tests need it (see .ci/run)")
        session = cls(folder / f"tmux-{uuid.uuid4().hex[:8]}.sock", env)
        # A dead pane stays, so its last screen can be read.
        session.socket.with_suffix(".conf").write_text("set -g remain-on-exit on\n")
        argv = [*session.base, "new-session", "-d", "-s", "oc", "-x", "80", "-y", "24",
                f"TERM=xterm-256color exec {command}"]
        if wrap is not None:
            argv = wrap(argv)  # the server, and so every window, runs inside the namespaces
        subprocess.run(argv, cwd=folder, env=env, check=True, timeout=20)
        return session

    @property
    def base(self) -> list[str]:
        return ["tmux", "-S", str(self.socket), "-f", str(self.socket.with_suffix(".conf"))]

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True,
                              env=self.env, timeout=10).stdout

    def screen(self, target: str = "oc", escapes: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if escapes else []), "-t", target)

    def wait_for(self, *texts: str, target: str = "oc", timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen(target)
            if all(text in shown for text in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts!r} never all appeared; the screen was:\n{shown}")
            time.sleep(0.1)

    def states(self, seconds: float = 1.5, target: str = "oc") -> set[str]:
        """The screens (with colour escapes) shown over `seconds`: a focused input's cursor
        blinks, so a still console shows two."""
        seen: set[str] = set()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            seen.add(self.screen(target, escapes=True))
            time.sleep(0.05)
        return seen

    def exited(self, target: str = "oc", timeout: float = 30.0) -> None:
        """Wait until the pane's program has exited (tmux 3.3 sometimes leaves it a zombie
        with the pane alive, so its process is what is looked at)."""
        pid = int(self("display", "-p", "-t", target, "#{pane_pid}"))
        wait_until(lambda: process_ended(pid), f"the program in {target} to exit:\n{self.screen(target)}",
                   timeout)

    def close(self) -> None:
        self("kill-server")


def quoted(*argv: str | Path) -> str:
    return shlex.join(str(a) for a in argv)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- the one-file build --------------------------------------------------------------------

@pytest.fixture(scope="module")
def onefile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """packaging/build.py, run once for this module (about a minute)."""
    out = tmp_path_factory.mktemp("onefile")
    # PyInstaller's cache goes to the build's own folder, not the user's home.
    env = {**os.environ, "PYINSTALLER_CONFIG_DIR": str(out / "pyinstaller-cache")}
    built = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--out",
                            str(out / "dist"), "--quiet"], capture_output=True, text=True,
                           env=env, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    binary = out / "dist" / "outbound-console"
    assert binary.is_file() and os.access(binary, os.X_OK), built.stdout
    return binary


@pytest.fixture
def host(onefile: Path, tmp_path: Path) -> Iterator[JumpHost]:
    """A jump host without Python: the one-file build in bin/, templates in ./profiles/templates,
    a profile in the user config dir under HOME."""
    host = JumpHost(tmp_path / "jumphost", hide=[ROOT, *python_installations()])
    (host.folder / "bin").mkdir()
    shutil.copy2(onefile, host.folder / "bin" / "outbound-console")
    templates = host.folder / "profiles" / "templates" / "Campaign1" / "CallingList1"
    templates.mkdir(parents=True)
    (templates / "jump-host-check.yaml").write_text(TEMPLATE)
    (templates.parent / "CallingList2").mkdir()
    (templates.parent / "CallingList2" / "jump-host-ready.yaml").write_text(READY)
    profiles = host.home / ".config" / "outbound-console" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "lab.yaml").write_text(PROFILE)
    yield host
    assert not any((host.folder / "tmp").iterdir()), "something was left behind in TMPDIR"
    cache = host.home / ".cache" / "outbound-console"
    if cache.exists() and any(cache.iterdir()):
        assert_unpacked_once(cache)


def binary(host: JumpHost) -> str:
    return str(host.folder / "bin" / "outbound-console")


def assert_unpacked_once(cache: Path) -> None:
    """One complete unpacked copy in the cache, nothing half-done or nested."""
    entries = sorted(p.name for p in cache.iterdir())
    assert entries == [f"{__version__}-{entries[0].split('-', 1)[-1]}"], entries
    unpacked = cache / entries[0]
    assert os.access(unpacked / "outbound-console", os.X_OK)
    assert not list(unpacked.glob(".unpacking.*")), list(unpacked.iterdir())
    assert unpacked.stat().st_mode & 0o077 == 0  # private to the user


def test_the_jump_host_has_no_network_no_python_and_no_checkout(host: JumpHost) -> None:
    links = host.run("ip", "-o", "link", "show")
    assert links.returncode == 0, links.stderr
    assert [line.split(":")[1].strip() for line in links.stdout.splitlines()] == ["lo"]
    for python in ("python3", sys.executable, sys._base_executable,  # type: ignore[attr-defined]
                   "/usr/bin/python3"):
        tried = host.run("sh", "-c", f"{shlex.quote(python)} -c 'import textual, console'")
        assert tried.returncode != 0, f"{python} imports textual on the jump host"
    listed = host.run("ls", "-A", str(ROOT))
    assert listed.returncode == 0 and listed.stdout == ""


def test_version(host: JumpHost) -> None:
    shown = host.run(binary(host), "--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"outbound-console, version {__version__}"


def test_first_runs_at_once_unpack_one_copy_where_told(host: JumpHost) -> None:
    cache = host.folder / "cache"
    runs = [subprocess.Popen(host.isolated([binary(host), "--version"]), cwd=host.folder,
                             env={**host.env, "OUTBOUND_CONSOLE_CACHE": str(cache)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(4)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and out.strip().endswith(__version__), err
    assert_unpacked_once(cache)
    assert not (host.home / ".cache").exists()  # OUTBOUND_CONSOLE_CACHE is honoured


def test_a_truncated_copy_is_refused_clearly(host: JumpHost) -> None:
    whole = Path(binary(host)).read_bytes()
    cut = host.folder / "bin" / "outbound-console-cut"
    cut.write_bytes(whole[:len(whole) // 2])
    cut.chmod(0o755)
    shown = host.run(str(cut), "--version")
    assert shown.returncode == 1, shown.stdout + shown.stderr
    assert "cannot unpack" in shown.stderr and "truncated copy" in shown.stderr, shown.stderr
    assert not list((host.home / ".cache" / "outbound-console").iterdir())


@pytest.mark.parametrize(("tool", "answer", "refusal"), [
    ("uname", "Linux aarch64", "runs on Linux x86_64 only, not on Linux aarch64"),
    ("getconf", "glibc 2.17", "this host has 2.17"),
])
def test_a_host_it_cannot_run_on_is_refused_clearly(host: JumpHost, tool: str, answer: str,
                                                    refusal: str) -> None:
    # A host answering as an ARM machine or an old distribution would (a stand-in first on
    # PATH): refused before anything is unpacked, with what it needs.
    fake = host.folder / "fake-bin"
    fake.mkdir()
    (fake / tool).write_text(f"#!/bin/sh\necho '{answer}'\n")
    (fake / tool).chmod(0o755)
    shown = host.run(binary(host), "--version", env={"PATH": f"{fake}:{SYSTEM_PATH}"})
    assert shown.returncode == 1, shown.stdout + shown.stderr
    assert refusal in shown.stderr, shown.stderr
    assert not (host.home / ".cache").exists()


def test_send_to_the_embedded_simulator_is_acknowledged(host: JumpHost) -> None:
    sent = host.run(binary(host), "send", *FIELDS)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "[SIMULATOR demo " in sent.stdout and "AddRecordAcknowledge" in sent.stdout
    assert "acknowledged in" in sent.stdout
    # The journal lands in the user state dir under HOME, not inside the unpacked bundle.
    journals = list((host.home / ".local" / "state" / "outbound-console").rglob("*.jsonl"))
    assert journals and '"state": "acknowledged"' in journals[0].read_text()


def test_profiles_and_templates_come_from_the_usual_search_path(host: JumpHost) -> None:
    listed = host.run(binary(host), "profiles", "list")
    assert listed.returncode == 0, listed.stderr
    assert "lab" in [line.split()[0] for line in listed.stdout.splitlines()], listed.stdout
    shown = host.run(binary(host), "profiles", "show", "lab")
    assert shown.returncode == 0, shown.stderr
    config = host.home / ".config" / "outbound-console" / "profiles" / "lab.yaml"
    assert f"file: {config}" in shown.stdout and "jump host lab" in shown.stdout
    templates = host.run(binary(host), "templates", "list")
    assert templates.returncode == 0, templates.stderr
    assert "jump-host-check" in templates.stdout
    sent = host.run(binary(host), "send", "--profile", "lab", "--template",
                    "profiles/templates/Campaign1/CallingList1/jump-host-check.yaml",
                    "--set", "phone=5550101")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "acknowledged in" in sent.stdout and "5550101" in sent.stdout


def test_replay(host: JumpHost) -> None:
    replayed = host.run(binary(host), "replay", "jump-host-check", "--count", "3",
                        "--set", "phone=5550102", "--json")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.count('"acknowledged"') == 3, replayed.stdout


def test_sim_serves_a_send_on_loopback(host: JumpHost) -> None:
    env = {**host.env, "OUTBOUND_CONSOLE_SIM_PASSWORD": SIM_PASSWORD}
    session = Tmux.start(quoted(binary(host), "sim", "--port", "0"), host.folder, env,
                         host.isolated)
    try:
        shown = session.wait_for("Ctrl-C to stop")
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", shown)
        assert url, shown
        # A second window of the same server: the same network namespace as the simulator.
        result = host.folder / "send.out"
        session("new-window", "-d", "-t", "oc", "-n", "send", "sh", "-c",
                f"OUTBOUND_CONSOLE_PASSWORD={SIM_PASSWORD} "
                + quoted(binary(host), "send", "--url", url[1], "--user", "demo", *FIELDS)
                + f" > {quoted(result)} 2>&1; echo exit $? >> {quoted(result)}")
        wait_until(lambda: "exit " in (result.read_text() if result.exists() else ""),
                   "the send to the simulator")
        output = result.read_text()
        assert "exit 0" in output and "acknowledged in" in output, output
        assert "[SIMULATOR" not in output  # a GWS by URL, as a real one would be
    finally:
        session.close()


def interrupted(started: tuple[subprocess.Popen[bytes], Path], ready: str) -> tuple[int, str]:
    """Ctrl-C once `ready` is printed: SIGINT to the process group, as a terminal sends it.
    Returns the exit status and everything printed."""
    process, output = started
    try:
        wait_until(lambda: re.search(ready, output.read_text()) is not None,
                   f"{ready!r} in the output")
        os.killpg(process.pid, signal.SIGINT)
        status = process.wait(timeout=30)
    except (AssertionError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise AssertionError(f"never printed {ready!r}, or still running 30 s after Ctrl-C:\n"
                             + output.read_text()) from None
    return status, output.read_text()


def test_ctrl_c_stops_the_simulator_cleanly(host: JumpHost) -> None:
    # Ctrl-C reaches the terminal's whole foreground process group. The one-file's launcher
    # exec's the program, which gets one, as an installed one does; with PyInstaller's own
    # one-file mode (a launcher process that stays and passes its own on) it got two and then,
    # often but not always, died of the second or hung: hence five tries.
    for _ in range(5):
        status, printed = interrupted(host.start(binary(host), "sim", "--port", "0"),
                                      "Ctrl-C to stop")
        assert status == 0 and "simulator stopped" in printed, f"status {status}:\n{printed}"
        assert "Aborted" not in printed and "Traceback" not in printed, printed


def test_a_hang_up_ends_the_program(host: JumpHost) -> None:
    # The terminal going away (tmux killed, an SSH link dropped) sends SIGHUP to the session
    # leader: here the program itself, which then ends, as an installed one does (PyInstaller's
    # one-file mode, told not to pass signals on, kept it running forever).
    session = Tmux.start(quoted(binary(host), "sim", "--port", "0"), host.folder, host.env,
                         host.isolated)
    session.wait_for("Ctrl-C to stop")
    pid = int(session("display", "-p", "-t", "oc", "#{pane_pid}"))
    session.close()
    wait_until(lambda: process_ended(pid), "the simulator to end after its terminal hung up")


def test_replay_stops_on_ctrl_c_and_writes_its_resume_file(host: JumpHost) -> None:
    status, printed = interrupted(
        host.start(binary(host), "replay", "jump-host-check", "--count", "500", "--rate", "5",
                   "--set", "phone=5550103"),
        r"progress [1-9]\d*/500")
    assert status == 130, printed
    not_sent = re.search(r"not sent\s+(\d+)", printed)
    assert not_sent and 0 < int(not_sent[1]) < 500, printed
    resume = list(host.folder.glob("replay-*.resume.csv"))
    assert len(resume) == 1, printed
    # The header, then one row per record never sent.
    assert len(resume[0].read_text().splitlines()) == int(not_sent[1]) + 1


def first_screens(session: Tmux) -> set[str]:
    """The first screen once connected (with and without the cursor), without what changes
    from run to run (the simulator's port, the referenceId)."""
    session.wait_for("SIMULATOR", "connected", "referenceId")
    return {re.sub(r"\b[0-9a-f]{32}\b", "REFERENCE-ID",
                   re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", shown))
            for shown in session.states()}


def test_the_console_starts_at_80x24_as_the_installed_one(host: JumpHost,
                                                          tmp_path: Path) -> None:
    session = host.tmux(quoted(binary(host)))
    try:
        bundled = first_screens(session)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", next(iter(bundled)))
        for text in ("application", "phone type", "time zone", "device", "^s Send"):
            assert text in plain, plain
        session("send-keys", "-t", "oc", "F3")
        session.wait_for("0 events")
        session("send-keys", "-t", "oc", "C-q")
        session.exited()
        assert "Traceback" not in session.screen()
    finally:
        session.close()
    # Colours, layout, themes and CSS: the same screen as the installed console's (a screen
    # both show, the cursor's blink apart).
    installed_home = tmp_path / "installed-home"
    installed_home.mkdir()
    installed = Tmux.start(quoted(BIN), tmp_path,
                           {**host.env, "HOME": str(installed_home), "TMPDIR": str(tmp_path)})
    try:
        installed_screens = first_screens(installed)
        assert installed_screens & bundled, "\n".join(
            ["the bundle's first screen differs from the installed console's:", *bundled,
             "installed:", *installed_screens])
    finally:
        installed.close()


def test_an_event_opens_as_highlighted_json(host: JumpHost) -> None:
    # rich's Syntax finds pygments' JSON lexer by name at run time, and quietly shows plain
    # text when it cannot: the colours are what shows the lexer made it into the bundle.
    session = host.tmux(quoted(binary(host)))
    try:
        session.wait_for("SIMULATOR", "connected")
        session("send-keys", "-t", "oc", "F4")
        session.wait_for("jump-host-ready")
        for _ in range(10):  # down the tree to the template: its description shows
            if "sent as it is" in session.screen():
                break
            session("send-keys", "-t", "oc", "Down")
            time.sleep(0.2)
        session.wait_for("sent as it is")
        session("send-keys", "-t", "oc", "Enter")
        session.wait_for("5550100")  # in the form
        session("send-keys", "-t", "oc", "C-s")
        session.wait_for("acknowledged in")
        session("send-keys", "-t", "oc", "F3")
        session.wait_for("AddRecordAcknowledge")
        session("send-keys", "-t", "oc", "Enter")
        session.wait_for("event #", '"channel"')
        coloured = session.screen(escapes=True)
        colour = r"\x1b\[(?:[0-9;]*;)?38;5;(\d+)m"
        key = re.search(colour + r'"channel"', coloured)
        value = re.search(colour + r'"/(?:v2/)?me/', coloured)
        assert key and value and key[1] != value[1], coloured
    finally:
        session.close()


# -- the wheelhouse ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """packaging/wheelhouse.py, run once for this module (downloads from the package index)."""
    out = tmp_path_factory.mktemp("wheelhouse")
    env = {**os.environ, "PIP_CACHE_DIR": str(out / "pip-cache")}
    built = subprocess.run([sys.executable, str(ROOT / "packaging" / "wheelhouse.py"),
                            "--out", str(out / "wheels"), "--quiet"], capture_output=True,
                           text=True, env=env, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    return out / "wheels"


def test_wheelhouse_installs_without_an_index_and_sends(wheelhouse: Path,
                                                        tmp_path: Path) -> None:
    # A jump host with Python (this machine's) but without the checkout or our virtualenv.
    host = JumpHost(tmp_path / "jumphost", hide=[ROOT, Path(sys.prefix)])
    shutil.copytree(wheelhouse, host.folder / "wheelhouse")
    venv = host.folder / "oc"
    # --without-pip and pip run from its wheel: works where the venv module has no ensurepip.
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)],  # type: ignore[attr-defined]
                   check=True, timeout=60)
    pip = next((host.folder / "wheelhouse").glob("pip-*.whl"))
    installed = host.run(str(venv / "bin" / "python"), f"{pip}/pip", "install", "--no-index",
                         "--find-links", "wheelhouse", "outbound-console", timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    console = str(venv / "bin" / "outbound-console")
    shown = host.run(console, "--version")
    assert shown.stdout.strip() == f"outbound-console, version {__version__}", shown.stderr
    sent = host.run(console, "send", *FIELDS)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "acknowledged in" in sent.stdout

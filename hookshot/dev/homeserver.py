"""A real local Synapse for tests and the `demo` command.

Synapse lives in its own cached venv (it is a fixture, not a dependency: ~240 MB, AGPL).
Facts behind the settings here are in SYNAPSE.md: generate once, then override with a second
`-c` file, because Synapse shallow-merges config files.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import hmac
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self

import httpx
import yaml

from hookshot.errors import HookshotError

SYNAPSE_VERSION: Final = "1.163.2"
# Every package of that Synapse pinned (`make lock` rewrites it), so a test homeserver
# installed next year is the one installed today.
SYNAPSE_REQUIREMENTS: Final = Path(__file__).with_name("synapse-requirements.txt")
SERVER_NAME: Final = "localhost"
CACHE_ENV: Final = "HOOKSHOT_SYNAPSE_CACHE"

# Written only after a verified install, so an interrupted install is redone.
_MARKER: Final = ".hookshot-installed"
_HOST: Final = "127.0.0.1"
_UNLIMITED: Final = {"per_second": 100000, "burst_count": 1000000}
# Every client-side rate limiter Synapse reads (nested keys are sections of one limiter).
_RATE_LIMITS: Final[dict[str, Any]] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


class HomeserverError(HookshotError):
    """The local homeserver could not be installed, started or used."""


def _tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def _find_uv() -> str | None:
    """The uv executable beside this interpreter (our venv) or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def _synapse_works(python: Path, version: str) -> bool:
    """Whether `python` imports the homeserver app of exactly `version`."""
    if not python.exists():
        return False
    # Importing the app pulls in most dependencies, so a half-finished install fails here.
    check = f"import synapse.app.homeserver, synapse; assert synapse.__version__ == {version!r}"
    result = subprocess.run([str(python), "-c", check], capture_output=True, check=False)
    return result.returncode == 0


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so parallel test runs don't install into one venv at once."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_logged(command: list[str], log: IO[str], what: str, log_path: Path) -> None:
    """Run an install step with output to the install log; raise with its tail on failure."""
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    log.flush()
    if result.returncode != 0:
        raise HomeserverError(
            f"{what} failed (exit {result.returncode}); see {log_path}:\n{_tail(log_path)}"
        )


def ensure_synapse(version: str = SYNAPSE_VERSION, cache_dir: Path | None = None) -> Path:
    """Return the python of a cached venv with `matrix-synapse==version`, installing if needed.

    The venv is `<root>/synapse-<version>`, root being `cache_dir`, else `$HOOKSHOT_SYNAPSE_CACHE`,
    else `~/.cache/hookshot-test`.
    """
    root = cache_dir or Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache/hookshot-test")
    requirements = _requirements(version)
    # The venv is named after the pinned set, so a changed lock gets a venv of its own.
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    name = f"synapse-{version}-{digest}"
    venv = root / name
    python = venv / "bin" / "python"
    marker = venv / _MARKER
    if marker.is_file() and marker.read_text().strip() == digest and python.exists():
        return python
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f"{name}.lock"):
        # Another process may have finished the install while we waited for the lock.
        if marker.is_file() and marker.read_text().strip() == digest and python.exists():
            return python
        _install(venv, python, requirements, root / f"{name}.install.log")
        if not _synapse_works(python, version):
            raise HomeserverError(f"matrix-synapse=={version} installed in {venv} but fails")
        marker.write_text(digest + "\n")
    return python


def _requirements(version: str) -> list[str]:
    """The pinned packages for `version`: the lock file's for ours, else Synapse alone."""
    if version != SYNAPSE_VERSION:
        return [f"matrix-synapse=={version}"]
    lines = SYNAPSE_REQUIREMENTS.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _install(venv: Path, python: Path, requirements: list[str], log_path: Path) -> None:
    """Create the venv afresh and install the pinned Synapse into it."""
    # Installers trust their metadata and won't notice files missing after an interruption.
    shutil.rmtree(venv, ignore_errors=True)
    uv = _find_uv()
    with log_path.open("a") as log:
        create = [sys.executable, "-m", "venv", str(venv)]
        if uv is not None:
            create.append("--without-pip")
        _run_logged(create, log, "creating the Synapse venv", log_path)
        if uv is not None:
            # --compile-bytecode halves start time; this environment may forbid writing .pyc later.
            install = [uv, "pip", "install", "--python", str(python), "--compile-bytecode"]
        else:
            install = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        _run_logged([*install, *requirements], log, "installing Synapse", log_path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` (TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Twisted listens with SO_REUSEADDR too, so only a live listener blocks it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
        return True


class LocalSynapse:
    """A Synapse process on 127.0.0.1 with test-friendly settings, owned by the caller.

    Use as a context manager (starts and stops), or call `start()`/`stop()` yourself.
    Without `python`, the constructor calls `ensure_synapse()` (may install, ~7 s once).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        server_name: str = SERVER_NAME,
        app_service_config_files: list[Path] | None = None,
        python: Path | None = None,
        shared_secret: str | None = None,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.port = port if port is not None else free_port()
        self.server_name = server_name
        self.app_service_config_files = [p.absolute() for p in app_service_config_files or []]
        self.python = python if python is not None else ensure_synapse()
        # Plain hex: the generated secret contains characters that are awkward in shells/YAML.
        self._shared_secret = shared_secret or secrets.token_hex(32)
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The client-server (and federation) base URL, without a trailing slash."""
        return f"http://{_HOST}:{self.port}"

    @property
    def shared_secret(self) -> str:
        """The registration shared secret for the admin register API."""
        return self._shared_secret

    @property
    def pid(self) -> int | None:
        """The Synapse process id while it runs (tests pause it with SIGSTOP)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the Synapse process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def config_path(self) -> Path:
        """The generated config (keys, database); kept across runs."""
        return self.data_dir / "homeserver.yaml"

    @property
    def test_config_path(self) -> Path:
        """Our overrides, rewritten on every `generate()`."""
        return self.data_dir / "test.yaml"

    @property
    def log_path(self) -> Path:
        """Synapse's own log (WARNING and above)."""
        return self.data_dir / "homeserver.log"

    @property
    def output_path(self) -> Path:
        """The process's stdout/stderr (start-up tracebacks land here)."""
        return self.data_dir / "synapse.out"

    def generate(self) -> None:
        """Generate the base config once, then (re)write the test overrides."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            command = [
                str(self.python),
                "-m",
                "synapse.app.homeserver",
                "--server-name",
                self.server_name,
                "--config-path",
                str(self.config_path),
                "--generate-config",
                "--report-stats=no",
                "--data-directory",
                str(self.data_dir),
            ]
            # cwd: the generated log config points at ./homeserver.log; keep it in our dir.
            result = subprocess.run(command, cwd=self.data_dir, capture_output=True, check=False)
            if result.returncode != 0:
                self.config_path.unlink(missing_ok=True)
                output = (result.stdout + result.stderr).decode(errors="replace")
                raise HomeserverError(f"synapse --generate-config failed:\n{output[-4000:]}")
        log_config = self.data_dir / "test.log.config"
        log_config.write_text(yaml.safe_dump(self._log_config(), sort_keys=False))
        self.test_config_path.write_text(
            yaml.safe_dump(self._overrides(log_config), sort_keys=False)
        )

    def _log_config(self) -> dict[str, Any]:
        """Python logging dictConfig: warnings and errors to one file, unbuffered."""
        return {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s"
                    " - %(request)s - %(message)s"
                }
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "encoding": "utf8",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }

    def _overrides(self, log_config: Path) -> dict[str, Any]:
        """The second config file; each top-level key replaces the generated one."""
        return {
            "public_baseurl": self.base_url + "/",
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": [_HOST],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # OpenID userinfo lives under the federation resource (404 with client alone).
                    "resources": [{"names": ["client", "federation"], "compress": False}],
                }
            ],
            "registration_shared_secret": self._shared_secret,
            "enable_registration": False,
            "bcrypt_rounds": 4,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "report_stats": False,
            "log_config": str(log_config),
            "app_service_config_files": [str(p) for p in self.app_service_config_files],
            **_RATE_LIMITS,
        }

    def start(self, timeout: float = 60.0, *, own_session: bool = False) -> None:
        """Start Synapse and return once `/versions` answers; raise with its log if it dies.

        `own_session` keeps a terminal's Ctrl-C from reaching Synapse: the caller stops it.
        """
        if self.running:
            return
        # Another homeserver on this port would answer our readiness poll and fool us.
        if not port_is_free(self.port):
            raise HomeserverError(
                f"cannot start Synapse: port {self.port} on {_HOST} is already in use"
            )
        self.generate()
        self._output = self.output_path.open("ab")
        command = [
            str(self.python),
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(self.config_path),
            "-c",
            str(self.test_config_path),
        ]
        self._process = subprocess.Popen(
            command,
            cwd=self.data_dir,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=own_session,
        )
        atexit.register(self.stop)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        """Poll `/versions` until it answers 200, the process exits, or time runs out."""
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/_matrix/client/versions"
        with httpx.Client(timeout=2.0) as client:
            while True:
                assert self._process is not None
                code = self._process.poll()
                if code is not None:
                    raise HomeserverError(
                        f"Synapse exited with {code} while starting.\n"
                        f"--- {self.output_path} ---\n{_tail(self.output_path)}\n"
                        f"--- {self.log_path} ---\n{_tail(self.log_path)}"
                    )
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise HomeserverError(
                        f"Synapse did not answer {url} within {timeout:.0f} s.\n"
                        f"--- {self.output_path} ---\n{_tail(self.output_path)}"
                    )
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Synapse: SIGTERM, then SIGKILL if it hangs. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            atexit.unregister(self.stop)
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self, timeout: float = 60.0) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _registration_mac(
    shared_secret: str, nonce: str, username: str, password: str, admin: bool
) -> str:
    """HMAC-SHA1 over nonce, user, password and admin flag, as Synapse's admin API wants."""
    mac = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
    flag = "admin" if admin else "notadmin"
    mac.update("\x00".join([nonce, username, password, flag]).encode())
    return mac.hexdigest()


def _registration_result(response: httpx.Response, username: str) -> tuple[str, str]:
    """(user_id, access_token) from the register answer, or a clear error."""
    if response.status_code != 200:
        raise HomeserverError(
            f"registering {username!r} failed: {response.status_code} {response.text}"
        )
    body = response.json()
    return str(body["user_id"]), str(body["access_token"])


def register_user(
    base_url: str, shared_secret: str, username: str, password: str, admin: bool = False
) -> tuple[str, str]:
    """Register a user with the shared-secret admin API; return (user_id, access_token)."""
    url = f"{base_url}/_synapse/admin/v1/register"
    with httpx.Client(timeout=30.0) as client:
        nonce_response = client.get(url)
        nonce_response.raise_for_status()
        nonce = str(nonce_response.json()["nonce"])
        body = {
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": admin,
            "mac": _registration_mac(shared_secret, nonce, username, password, admin),
        }
        return _registration_result(client.post(url, json=body), username)


async def aregister_user(
    base_url: str,
    shared_secret: str,
    username: str,
    password: str,
    admin: bool = False,
    client: httpx.AsyncClient | None = None,
) -> tuple[str, str]:
    """Async `register_user`; reuses `client` when given."""
    if client is None:
        async with httpx.AsyncClient(timeout=30.0) as own:
            return await aregister_user(base_url, shared_secret, username, password, admin, own)
    url = f"{base_url}/_synapse/admin/v1/register"
    nonce_response = await client.get(url)
    nonce_response.raise_for_status()
    nonce = str(nonce_response.json()["nonce"])
    body = {
        "nonce": nonce,
        "username": username,
        "password": password,
        "admin": admin,
        "mac": _registration_mac(shared_secret, nonce, username, password, admin),
    }
    return _registration_result(await client.post(url, json=body), username)

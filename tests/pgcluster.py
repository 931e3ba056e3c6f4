"""A throw-away PostgreSQL cluster for tests that stop and start the database.

``PgCluster`` copies a fresh ``initdb`` (run once a process) into a temporary directory
(in /dev/shm where there is one) and serves it on a free loopback port with trust
authentication and ``fsync=off``: never the machine's shared cluster on 5432. Run as
root, it runs the server as the ``postgres`` OS user (PostgreSQL refuses to run as
root). The port stays the same across restarts, so a URL handed to firebell before an
outage works again after it. Every wait is bounded.

    with PgCluster() as pg:          # initdb + start; always stopped and removed
        engine = make_engine(pg.url)
        pg.stop(mode="immediate")    # an outage
        pg.start()

The ``pg_cluster`` fixture gives each test a running cluster and skips the test when the
server binaries are missing. A test module takes it in with ``pg_cluster =
pgcluster.pg_cluster`` (a plain import of the name trips ruff's F811 at every use).
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal

import pytest

PG_ROOT = Path("/usr/lib/postgresql")
PG_USER = "postgres"
# In memory where there is a tmpfs: a copy of a cluster there takes 0.1 s, on disk 1 s.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108
WAIT_SECONDS = 30  # pg_ctl -t: how long start and stop may take at most
StopMode = Literal["smart", "fast", "immediate"]


class PgClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries its output and the server log."""


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory, if there is one."""
    if not PG_ROOT.is_dir():
        return None
    versions = sorted(
        (p for p in PG_ROOT.iterdir() if p.name.isdigit() and (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name),
    )
    return versions[-1] / "bin" if versions else None


def why_unavailable() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if find_bin_dir() is None:
        return f"no PostgreSQL server binaries under {PG_ROOT}/*/bin (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root and there is no {PG_USER!r} user to run PostgreSQL as"
    return None


def _as_postgres() -> list[str]:
    """The command prefix that runs a tool as the postgres user, when we are root."""
    return ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []


def _new_dir() -> Path:
    """A fresh temporary directory that the server's user owns."""
    root = Path(tempfile.mkdtemp(prefix="firebell-pg-", dir=SCRATCH))
    if os.geteuid() == 0:
        account = pwd.getpwnam(PG_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
    return root


def _run(command: list[str], *, cwd: Path, log_file: Path | None = None) -> None:
    """Run ``command`` as the server's user; PgClusterError with its output on failure."""
    try:
        subprocess.run(  # noqa: S603 - our own arguments, no shell
            [*_as_postgres(), *command],
            check=True,
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS + 10,
            cwd=cwd,
        )
    except subprocess.CalledProcessError as err:
        output = err.stderr.strip() or err.stdout.strip()
        raise PgClusterError(
            f"{Path(command[0]).name} failed ({err.returncode}): {output}\n{_tail(log_file)}"
        ) from err
    except subprocess.TimeoutExpired as err:
        name = Path(command[0]).name
        raise PgClusterError(f"{name} did not finish in time\n{_tail(log_file)}") from err


def _tail(log_file: Path | None, lines: int = 20) -> str:
    try:
        tail = log_file.read_text(errors="replace").splitlines()[-lines:] if log_file else []
    except OSError:
        tail = []
    return "server log:\n" + "\n".join(tail) if tail else "(no server log)"


_templates: dict[Path, Path] = {}
_templates_lock = threading.Lock()


def _template(bin_dir: Path) -> Path:
    """A pristine initdb output for ``bin_dir``, made once a process (initdb takes ~1.5 s,
    a copy of it ~0.1 s) and removed when the process exits."""
    with _templates_lock:
        if bin_dir not in _templates:
            root = _new_dir()
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            data_dir = root / "data"
            _run(
                [
                    str(bin_dir / "initdb"),
                    f"--pgdata={data_dir}",
                    f"--username={PG_USER}",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ],
                cwd=root,
            )
            _templates[bin_dir] = data_dir
        return _templates[bin_dir]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PgCluster:
    """A PostgreSQL cluster of its own, in a temporary directory, on 127.0.0.1:``port``."""

    def __init__(self, *, bin_dir: Path | None = None, port: int | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise PgClusterError(str(why_unavailable()))
        self.bin_dir = found
        self.port = port or _free_port()
        self.root = _new_dir()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self._initialised = False
        self.running = False

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/postgres``, as firebell takes URLs.

        firebell's ``make_engine`` picks psycopg for it; for SQLAlchemy's own
        ``create_engine``, use ``sqlalchemy_url``.
        """
        return self.database_url("postgres")

    @property
    def sqlalchemy_url(self) -> str:
        """``url`` with psycopg named: ``postgresql+psycopg://...``."""
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` in this cluster."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (the cluster must be running) and return its URL."""
        createdb = str(self.bin_dir / "createdb")
        _run(
            [createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, name], cwd=self.root
        )
        return self.database_url(name)

    # -- lifecycle -----------------------------------------------------------------------

    def init(self) -> None:
        """Create the cluster's files (initdb's, copied): trust auth, loopback only, no fsync."""
        _run(["cp", "-a", str(_template(self.bin_dir)), str(self.data_dir)], cwd=self.root)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",  # TCP only: nothing in /var/run/postgresql
            # A crash of the server alone loses nothing with fsync off (the OS keeps the
            # writes); synchronous_commit stays on, or an immediate stop loses commits.
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/pgcluster.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._initialised = True

    def start(self) -> None:
        """Start the server and wait (at most WAIT_SECONDS) until it accepts connections."""
        if not self._initialised:
            self.init()
        self._pg_ctl("start", "-l", str(self.log_file))
        self.running = True

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server: ``fast`` rolls clients back and checkpoints, ``immediate``
        kills it as a crash would (the next start recovers)."""
        if self.running:
            self._pg_ctl("stop", "-m", mode)
            self.running = False

    def restart(self, mode: StopMode = "fast", down_for: float = 0.0) -> None:
        """Stop, stay down ``down_for`` seconds, and start again on the same port."""
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    def remove(self) -> None:
        """Stop the server at once if it may run (a SIGKILL if pg_ctl cannot), and delete
        the cluster's directory."""
        try:
            if self.running or (self.data_dir / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate")
        except PgClusterError:
            self._kill_postmaster()
        finally:
            self.running = False
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        """Last resort when pg_ctl cannot stop our server: SIGKILL its postmaster."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            return  # no pid file, or the process is gone already

    def __enter__(self) -> PgCluster:
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-w"]
        _run([*pg_ctl, "-t", str(WAIT_SECONDS), *args], cwd=self.root, log_file=self.log_file)


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A running throw-away cluster, removed after the test; skips where none can start."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    with PgCluster() as cluster:
        yield cluster

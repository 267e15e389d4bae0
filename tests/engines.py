"""Real Redis and PostgreSQL servers for tests: Debian's ``redis-server`` and PostgreSQL binaries (installed by
``make engines``), each started on a free loopback port with its data in a temporary directory, stopped after.

Small fixtures of our own rather than pytest-redis / pytest-postgresql: they need a few lines each, and
PostgreSQL must be started as an unprivileged user when the tests run as root (as in a container), which
those plugins do not do.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.stack import free_port


def _wait(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A Redis server without persistence on a free port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: run `make engines` (installs Debian's redis-server)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(workdir), "--logfile", str(workdir / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _redis_answers(port), "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _redis_answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def create_database(self, name: str) -> Postgres:
        """A new empty database on this server (one per test, so tests see only their own rows)."""
        subprocess.run([postgres_bin() / "createdb", *self._connection(), name], check=True)
        return Postgres(self.host, self.port, self.user, name)

    def query(self, sql: str) -> list[str]:
        """Rows of ``sql`` as text (psql, tab-separated columns)."""
        done = subprocess.run(
            [postgres_bin() / "psql", *self._connection(), "-d", self.database, "-tAc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.splitlines()

    def _connection(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is missing: run `make engines` (installs Debian's postgresql)")
    return Path(found[-1]).parent


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster (trust authentication, loopback only) on a free port. Its own temporary
    directory, not pytest's: when tests run as root, the server runs as ``postgres``, who cannot enter
    pytest's private directories."""
    bin_dir, port = postgres_bin(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="lotse-postgres-"))
    data = workdir / "pgdata"
    user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    if user:
        owner = pwd.getpwnam(user)
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
    run_as = {"user": user} if user else {}
    subprocess.run(
        [bin_dir / "initdb", "-D", data, "-U", "lotse", "--auth=trust", "--no-sync", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
        **run_as,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={workdir} -c fsync=off"
    process = subprocess.Popen(
        [bin_dir / "postgres", "-D", data, *options.split()],
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "postgres.log", "wb"),  # noqa: SIM115 - closed with the process
        **run_as,
    )
    ready = [bin_dir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]
    try:
        _wait(lambda: subprocess.run(ready).returncode == 0, "PostgreSQL")
        subprocess.run([bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "lotse", "lotse"], check=True)
        yield Postgres("127.0.0.1", port, "lotse", "lotse")
    finally:
        _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)

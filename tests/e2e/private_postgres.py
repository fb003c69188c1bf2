"""A PostgreSQL server of the test's own (initdb into a temporary folder, its own port), to stop and start
at will. It never touches the shared server the other tests use."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg


def postgres_bin() -> Path | None:
    """The newest installed server binaries (Debian puts them outside PATH), or those on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """initdb, pg_ctl start and stop. PostgreSQL refuses to run as root, so as root the server runs as the
    `postgres` OS user, which then owns the folder."""

    def __init__(self, bin_dir: Path, port: int):
        self.bin_dir, self.port = bin_dir, port
        self.folder = Path(tempfile.mkdtemp(prefix="strike-audit-pg-"))  # not under pytest's root-only tmp
        self.data = self.folder / "data"
        self._as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self._as_owner, str(self.bin_dir / program), *args], capture_output=True,
                                text=True, timeout=60)
        if result.returncode:
            log = self.folder / "server.log"
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}"
                               f"{log.read_text()[-2000:] if log.exists() else ''}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "--auth=trust", "--username=postgres", "--encoding=UTF8",
                  "--locale=C", "--no-sync")

    def start(self) -> None:
        # TCP on 127.0.0.1 as deployments connect, its socket in our folder; fsync off: only the server
        # process is ever killed here, never the machine, so the OS cache keeps what was written.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "30",
                  "-o", options)

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash: every server process exits at once, without a checkpoint."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "30")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def unresponsive_host(port: int):
    """Something on the database's port that takes connections and never answers, as a hung database
    host does to its clients: only their timeouts end the wait. (The kernel completes the handshakes.)"""
    with socket.create_server(("127.0.0.1", port), backlog=128):
        yield

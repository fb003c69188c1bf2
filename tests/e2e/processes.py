"""The processes of one deployment (gunicorn master, workers, embedded sequencer), to stop, kill and restart."""
import os
import signal
import time
from pathlib import Path

from bench.servers import children_of

from .conftest import free_port, start_gunicorn, stop


def is_sequencer(pid: int) -> bool:
    try:
        return b"ledger\0sequence" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Polls until `predicate()` returns something truthy, and returns it."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(interval)
    return result


class Deployment:
    """`make run` as a test drives it: gunicorn with WEB_CONCURRENCY workers and the embedded sequencer,
    always on the same port, so clients keep their address across a crash and a restart."""

    def __init__(self, database_url: str, signing_key_path: str, log_dir: Path, workers: int = 4,
                 extra_env: dict | None = None):
        self.database_url, self.workers, self.log = database_url, workers, log_dir / "gunicorn.log"
        self.env = {"LEDGER_SIGNING_KEY": signing_key_path, **(extra_env or {})}
        self.port, self.process = free_port(), None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process, _ = start_gunicorn(self.database_url, self.port, self.workers, self.env, log=self.log)
        # Ready means one worker answers: wait for the others and for the sequencer (started just before).
        wait_for(lambda: len(self.worker_pids()) == self.workers and self.sequencer_pid(), 10,
                 "every worker and the sequencer started")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)

    def worker_pids(self) -> list[int]:
        return [pid for pid in children_of(self.process.pid) if not is_sequencer(pid)]

    def sequencer_pid(self) -> int | None:
        return next((pid for pid in children_of(self.process.pid) if is_sequencer(pid)), None)

    def kill_master_and_workers(self) -> None:
        """SIGKILL the master and its workers at once, as the OOM killer or `kill -9` would. The embedded
        sequencer is left alone: it must notice that its parent is gone and exit by itself."""
        sequencer = self.sequencer_pid()
        victims = [self.process.pid, *self.worker_pids()]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        self.process.wait()
        wait_for(lambda: not any(pid_alive(pid) for pid in victims), 10, "every killed process is gone")
        wait_for(lambda: not pid_alive(sequencer), 10, "the orphaned sequencer exited by itself")


def pid_alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (killed, waiting to be reaped by its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"

"""gunicorn servers for the bench: started with a given app and environment, their workers' memory."""
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"process {pid} has no VmRSS")


def children_of(parent: int) -> list[int]:
    """Live child processes (gunicorn's workers, its sequencer), read from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == parent and fields[0] != "Z":  # a zombie is already dead
            pids.append(int(stat.parent.name))
    return pids


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log: Path

    def workers(self) -> list[int]:
        """gunicorn's workers: the master's children, less the embedded sequencer (a `flask` process)."""
        pids = []
        for pid in children_of(self.process.pid):
            try:
                if b"ledger" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(pid)
            except OSError:
                continue
        return pids

    def worker_rss_mib(self) -> float:
        return max(rss_kib(pid) for pid in self.workers()) / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # an answer all the same (the ceiling app has no /healthz)
    except OSError:
        return False


def start(app: str, config: str, port: int, env: dict, log: Path, workers: int) -> Server:
    """gunicorn --config CONFIG APP on 127.0.0.1:PORT with WORKERS workers; returns once all are up."""
    environ = {**os.environ, **env, "PORT": str(port), "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    with open(log, "ab") as sink:
        process = subprocess.Popen([GUNICORN, "--config", config, app], cwd=REPO, env=environ,
                                   stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {app} exited; see {log}")
        server = Server(process, base, log)
        if _answers(base) and len(server.workers()) == workers:
            return server
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn {app} was not ready within 60 s; see {log}")

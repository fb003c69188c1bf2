"""Export figure: the whole NDJSON export through one gunicorn worker, with the worker's RSS sampled."""
import http.client
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .servers import Server, rss_kib

# A small export first, so imports, compiled statements and the connection pool are in place
# before the baseline is read: what grows after that is what the export itself holds.
WARM_UP = "/v1/events/export?format=ndjson&occurred_from=2024-06-01T00:00:00Z&occurred_to=2024-06-02T00:00:00Z"
FULL = "/v1/events/export?format=ndjson"


class PeakRss:
    """Samples a process's VmRSS every 10 ms on a thread, keeping the peak."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._done = pid, rss_kib(pid), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._done.wait(0.01):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


@dataclass(frozen=True)
class Export:
    lines: int
    seconds: float
    growth_mib: float
    baseline_mib: float
    complete: bool  # False: stopped after the time limit


def _stream(base_url: str, path: str, key: str, limit_s: float = 600) -> tuple[int, bool]:
    """GET the export and count its lines without keeping them; (lines, finished within limit_s)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"export answered {response.status}: {response.read(500)!r}")
        lines, deadline = 0, time.monotonic() + limit_s
        while chunk := response.read(1 << 20):
            lines += chunk.count(b"\n")
            if time.monotonic() > deadline:
                return lines, False
        return lines, True
    finally:
        connection.close()


def export_run(server: Server, key: str, limit_s: float) -> Export:
    """The whole export, unless it takes longer than limit_s: then the growth until then."""
    [worker] = server.workers()
    _stream(server.base_url, WARM_UP, key)
    baseline = rss_kib(worker)
    started = time.perf_counter()
    with PeakRss(worker) as rss:
        lines, complete = _stream(server.base_url, FULL, key, limit_s)
    elapsed = time.perf_counter() - started
    if server.workers() != [worker]:
        raise RuntimeError("the export's worker was replaced mid-export (killed by the timeout?)")
    return Export(lines, elapsed, (rss.peak - baseline) / 1024, baseline / 1024, complete)

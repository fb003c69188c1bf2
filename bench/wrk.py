"""Runs wrk with one of bench/wrk/*.lua and reads the JSON line its done() prints."""
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "wrk"


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""
    requests: int
    seconds: float
    failed: int  # connection errors, timeouts and non-2xx/3xx answers
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def ok_per_s(self) -> float:
        return (self.requests - self.failed) / self.seconds


def run(base_url: str, script: str, seconds: float, connections: int, threads: int, env: dict) -> Load:
    """A closed-loop load: `connections` connections each send the next request as soon as one is answered."""
    command = ["wrk", f"--threads={threads}", f"--connections={connections}", f"--duration={max(1, round(seconds))}s",
               "--timeout=30s", "--latency", f"--script={SCRIPTS / script}", base_url]
    done = subprocess.run(command, env={**os.environ, **env, "BENCH_WRK_DIR": str(SCRIPTS)}, capture_output=True,
                          text=True, check=True)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors, latency = data["errors"], data["latency_us"]
    return Load(data["requests"], data["duration_us"] / 1e6,
                errors["connect"] + errors["read"] + errors["write"] + errors["status"] + errors["timeout"],
                latency["p50"] / 1000, latency["p95"] / 1000, latency["p99"] / 1000)
